"""Figures as a person reads them: readable metric names, rates in %, p-values, rounded changes."""

from __future__ import annotations

import pytest

from impact.figures import (
    axis_score,
    change,
    cost_figure,
    figure,
    metric_label,
    metric_name,
    moment,
    p_clause,
    p_text,
    quoted,
    relative_change,
)
from impact.risk import VersionMetrics, compare_versions


@pytest.mark.parametrize(("value", "digits", "text"), [
    (0.0, 6, "0"), (0.0064, 6, "0.0064"), (0.00213333333, 6, "0.00213333"), (0.00213333333, 4, "0.002133"),
    (0.0099999996, 6, "0.01"), (12.5, 6, "12.5"), (1234.5678, 6, "1,234.57"), (100000.0, 6, "100,000"),
    (1234567.8, 6, "1,234,568"), (-0.0032, 4, "-0.0032"),
])
def test_cost_figure_keeps_significant_digits_without_a_currency(value, digits, text):
    assert cost_figure(value, digits=digits) == text


def test_every_comparison_row_has_a_readable_label_and_name():
    m = VersionMetrics(version=1, traces=10, success_rate=1, warning_rate=0, error_rate=0, empty_rate=0,
                       replan_rate=0, errors=0, empties=0, mean_cost=0.0, mean_tokens=0.0,
                       stage_durations={"execute": {"median_ms": 1.0, "p95_ms": 2.0, "runs": 10}})
    rows = compare_versions(m, m, base_samples={}, target_samples={})
    labels = {row["metric"]: row["label"] for row in rows}
    assert labels == {row["metric"]: metric_label(row["metric"]) for row in rows}
    assert labels["mean_cost"] == "Cost per trace" and labels["mean_tokens"] == "Tokens per trace"
    assert labels["stage:execute:median_ms"] == "EXECUTE median (ms)"
    assert labels["duration_median_ms"] == "Median duration (ms)" and labels["empty_rate"] == "Empty-result rate"
    assert labels["duration_p95_ms"] == "p95 duration (ms)"
    assert all(":" not in label and "_" not in label for label in labels.values())
    assert metric_name("stage:execute:median_ms") == "EXECUTE median duration"
    assert metric_name("empty_rate") == "empty-result rate"


@pytest.mark.parametrize(("metric", "value", "text"), [
    ("error_rate", 0.25, "25.0%"), ("empty_rate", 0.0855, "8.6%"), ("replan_rate", 0.0, "0.0%"),
    ("duration_median_ms", 250.27, "250.3"), ("duration_p95_ms", 1250.0, "1,250"), ("mean_references", 1.25, "1.25"),
    ("mean_tokens", 1593.6, "1,593.6"), ("mean_cost", 0.005424, "0.005424"), ("traces", 1200, "1,200"),
    ("stage:execute:median_ms", 12.0, "12"), ("mean_rows", None, "—"),
])
def test_figures_show_rates_as_percentages_and_round_the_rest(metric, value, text):
    assert figure(metric, value) == text


def test_figures_without_grouping_for_a_spreadsheet():
    assert figure("duration_p95_ms", 1250.5, grouping=False) == "1250.5"
    assert figure("mean_cost", 1234.5678, grouping=False) == "1234.57"


def test_changes_of_rates_are_points_and_others_keep_their_unit():
    assert change({"metric": "error_rate", "delta": 0.2527}) == "+25.3 pts"
    assert change({"metric": "duration_median_ms", "delta": -120.0}) == "-120"
    assert change({"metric": "mean_rows", "delta": 0.0}) == "±0"
    assert change({"metric": "error_rate", "delta": 0.0}) == "±0.0 pts"
    assert change({"metric": "mean_rows", "delta": None}) == "—"
    assert relative_change({"delta_pct": 185.0}) == "+185.0%"
    assert relative_change({"delta_pct": None}) == "—"


def test_float_noise_never_reaches_a_delta():
    base = VersionMetrics(version=1, traces=100, success_rate=0.75, warning_rate=0, error_rate=0.2475,
                          empty_rate=0, replan_rate=0, errors=25, empties=0)
    target = base.model_copy(update={"version": 2, "error_rate": 0.5})
    row = next(r for r in compare_versions(base, target, base_samples={}, target_samples={})
               if r["metric"] == "error_rate")
    assert row["delta"] == 0.2525 and repr(row["delta"]) == "0.2525"  # not 0.25250000000000006


@pytest.mark.parametrize(("p", "text", "clause"), [
    (0.0, "< 0.001", "p < 0.001"), (0.00004, "< 0.001", "p < 0.001"), (0.001, "0.001", "p = 0.001"),
    (0.01234, "0.0123", "p = 0.0123"), (0.0496, "0.0496", "p = 0.0496"), (0.46, "0.46", "p = 0.46"),
    (1.0, "1", "p = 1"),
])
def test_p_values_read_less_than_0_001_never_0_0000(p, text, clause):
    assert p_text(p) == text
    assert p_clause(p) == clause


def test_untested_p_value_is_a_dash():
    assert p_text(None) == "—"


def test_quoted_figures_carry_their_unit_in_sentences():
    assert quoted("duration_p95_ms", 705.0) == "705 ms"
    assert quoted("empty_rate", 0.03) == "3.0%"
    assert quoted("mean_cost", 0.012834) == "0.01283"
    assert quoted("mean_rows", None) == "n/a"


def test_axis_scores_say_no_data_instead_of_a_number():
    assert axis_score(None) == "no data"
    assert axis_score(87.5) == "87.5" and axis_score(100.0) == "100"


def test_moments_read_in_utc():
    assert moment("2025-03-01T15:05:09+01:00") == "2025-03-01 14:05 UTC"
    assert moment(None) == "—"
