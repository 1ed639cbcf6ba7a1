"""The pure rules of the asset impact analyzer (no database)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from scipy import stats as scipy_stats

from impact.risk import (
    AXIS_FORMULAS,
    RISK_RULES,
    VersionMetrics,
    compare_versions,
    lehr_traces,
    quality_axes,
    recommendations,
    regression_risk,
    related_assets,
    spec_change_size,
)


def metrics(**overrides: Any) -> VersionMetrics:
    """A version used by 100 traces; tests override what they look at."""
    values: dict[str, Any] = {
        "version": 2, "traces": 100, "first_used": "2025-01-01T00:00:00+00:00",
        "last_used": "2025-01-31T00:00:00+00:00", "success_rate": 0.9, "warning_rate": 0.05,
        "error_rate": 0.05, "empty_rate": 0.1, "replan_rate": 0.2, "errors": 5, "empties": 10,
        "duration_median_ms": 400.0, "duration_p95_ms": 900.0, "mean_references": 3.0, "mean_rows": 12.0,
        "verdicts": {"pass": 6, "warn": 3, "fail": 1},
        "stage_durations": {"execute": {"median_ms": 100.0, "p95_ms": 300.0, "runs": 100}},
    }
    values.update(overrides)
    return VersionMetrics(**values)


def row_of(rows: list[dict], metric: str) -> dict:
    return next(r for r in rows if r["metric"] == metric)


def sig_row(metric: str, base: float, target: float, p: float = 0.003) -> dict:
    """A significant comparison row, as compare_versions would build it."""
    return {"metric": metric, "base": base, "target": target, "delta": target - base,
            "delta_pct": 100 * (target - base) / base, "direction": "up" if target > base else "down",
            "worse": target > base, "test": "fisher", "p_value": p, "significant": True, "hint": ""}


# --- VersionMetrics --------------------------------------------------------------

def test_metrics_reject_rates_outside_0_1_and_unknown_verdicts():
    with pytest.raises(ValidationError):
        metrics(error_rate=1.5)
    with pytest.raises(ValidationError):
        metrics(verdicts={"PASS": 3})  # the report's keys are snake_case
    with pytest.raises(ValidationError):
        metrics(mean_cost=-0.01)


# --- quality axes ----------------------------------------------------------------

def test_axes_follow_the_formulas_exactly():
    axes = quality_axes(metrics(), budget_ms=1000)
    assert axes == {"reliability": 95.0, "completeness": 90.0, "evidence": 60.0, "speed": 100.0,
                    "stability": 80.0, "regression_health": 60.0}
    assert set(AXIS_FORMULAS) == set(axes)


def test_speed_drops_linearly_above_budget_and_floors_at_zero():
    assert quality_axes(metrics(duration_p95_ms=1250.0), budget_ms=1000)["speed"] == 75.0
    assert quality_axes(metrics(duration_p95_ms=1000.0), budget_ms=1000)["speed"] == 100.0
    assert quality_axes(metrics(duration_p95_ms=2500.0), budget_ms=1000)["speed"] == 0.0


def test_evidence_caps_at_100_and_uses_the_target():
    assert quality_axes(metrics(mean_references=12.0), budget_ms=1000)["evidence"] == 100.0
    assert quality_axes(metrics(mean_references=1.0), budget_ms=1000, evidence_target=3)["evidence"] == 33.3


def test_axes_are_rounded_to_one_decimal():
    axes = quality_axes(metrics(error_rate=0.1234, verdicts={"pass": 2, "warn": 1}), budget_ms=1000)
    assert axes["reliability"] == 87.7
    assert axes["regression_health"] == 66.7


def test_axes_are_none_without_traces():
    empty = metrics(traces=0, error_rate=0, warning_rate=0, empty_rate=0, replan_rate=0, success_rate=0,
                    errors=0, empties=0, duration_median_ms=None, duration_p95_ms=None, mean_references=None)
    assert quality_axes(empty, budget_ms=1000) == dict.fromkeys(AXIS_FORMULAS)


def test_missing_inputs_give_none_axes():
    axes = quality_axes(metrics(verdicts={}, duration_p95_ms=None, mean_references=None), budget_ms=1000)
    assert axes["regression_health"] is None
    assert axes["speed"] is None
    assert axes["evidence"] is None
    assert axes["reliability"] == 95.0
    assert quality_axes(metrics(verdicts={"pass": 0, "warn": 0, "fail": 0}), budget_ms=1000)["regression_health"] is None


def test_axes_refuse_a_zero_budget():
    with pytest.raises(ValueError):
        quality_axes(metrics(), budget_ms=0)


# --- compare_versions ------------------------------------------------------------

def test_comparison_has_one_row_per_metric_and_stage():
    base = metrics(stage_durations={"execute": {"median_ms": 100.0, "p95_ms": None, "runs": 3}})
    target = metrics(stage_durations={"route_plan": {"median_ms": 50.0, "p95_ms": None, "runs": 3}})
    rows = compare_versions(base, target, base_samples={}, target_samples={})
    assert [r["metric"] for r in rows] == [
        "traces", "error_rate", "warning_rate", "empty_rate", "replan_rate", "duration_median_ms",
        "duration_p95_ms", "mean_references", "mean_rows", "mean_cost", "mean_tokens", "stage:execute:median_ms",
        "stage:route_plan:median_ms"]
    execute = row_of(rows, "stage:execute:median_ms")
    assert (execute["base"], execute["target"], execute["delta"], execute["direction"]) == (100.0, None, None, "same")


def test_fisher_p_matches_scipy_on_the_error_table():
    base = metrics(traces=200, errors=4, error_rate=0.02)
    target = metrics(traces=200, errors=19, error_rate=0.095)
    row = row_of(compare_versions(base, target, base_samples={}, target_samples={}), "error_rate")
    expected = scipy_stats.fisher_exact([[4, 196], [19, 181]], alternative="two-sided").pvalue
    assert row["test"] == "fisher"
    assert row["p_value"] == pytest.approx(expected)
    assert row["significant"] is True
    assert row["delta"] == pytest.approx(0.075)
    assert row["delta_pct"] == pytest.approx(375.0)
    assert (row["direction"], row["worse"], row["hint"]) == ("up", True, "")


def test_fisher_rebuilds_other_events_from_the_rate():
    base, target = metrics(traces=40, replan_rate=0.25), metrics(traces=60, replan_rate=0.1)
    row = row_of(compare_versions(base, target, base_samples={}, target_samples={}), "replan_rate")
    assert row["p_value"] == pytest.approx(scipy_stats.fisher_exact([[10, 30], [6, 54]]).pvalue)
    assert (row["direction"], row["worse"]) == ("down", False)


def test_not_significant_rate_gets_the_lehr_sample_size():
    base = metrics(traces=50, errors=1, error_rate=0.02)
    target = metrics(traces=50, errors=3, error_rate=0.06)
    row = row_of(compare_versions(base, target, base_samples={}, target_samples={}), "error_rate")
    # pooled p = 0.04, Δ = 0.04: 16 × 0.04 × 0.96 / 0.0016 = 384
    assert row["significant"] is False
    assert row["hint"] == "about 384 traces per version would detect this change of 4.0 points"
    assert lehr_traces(0.02, 0.06) == 384


def test_unchanged_rate_has_no_hint():
    row = row_of(compare_versions(metrics(), metrics(), base_samples={}, target_samples={}), "empty_rate")
    assert (row["direction"], row["worse"], row["significant"], row["hint"]) == ("same", False, False, "")
    assert row["p_value"] == pytest.approx(1.0)


def test_too_few_traces_skip_the_tests_with_a_sample_size_hint():
    base, target = metrics(traces=7, errors=0, error_rate=0.0), metrics(traces=12, errors=6, error_rate=0.5)
    rows = compare_versions(base, target, base_samples={"duration_median_ms": [1.0] * 7, "mean_cost": [0.001] * 7},
                            target_samples={"duration_median_ms": [2.0] * 12, "mean_cost": [0.5] * 12})
    error, duration, cost = row_of(rows, "error_rate"), row_of(rows, "duration_median_ms"), row_of(rows, "mean_cost")
    assert (error["test"], error["p_value"], error["significant"]) == ("", None, False)
    assert error["hint"] == "need ≥ 20 traces per version (have 7 and 12)"
    assert (duration["p_value"], duration["significant"]) == (None, False)
    assert duration["hint"] == "need ≥ 20 timed traces per version (have 7 and 12)"
    assert (cost["test"], cost["p_value"], cost["significant"]) == ("", None, False)
    assert cost["hint"] == "need ≥ 20 traces per version (have 7 and 12)"
    assert row_of(rows, "mean_tokens")["hint"] == "need ≥ 20 traces per version (have 0 and 0)"  # no sample given


def test_mann_whitney_p_matches_scipy_on_the_durations():
    base_d = [100.0 + i for i in range(25)]
    target_d = [115.0 + i for i in range(30)]
    base, target = metrics(duration_median_ms=112.0), metrics(duration_median_ms=129.5)
    row = row_of(compare_versions(base, target, base_samples={"duration_median_ms": base_d},
                                  target_samples={"duration_median_ms": target_d}), "duration_median_ms")
    expected = scipy_stats.mannwhitneyu(base_d, target_d, alternative="two-sided").pvalue
    assert row["test"] == "mann_whitney"
    assert row["p_value"] == pytest.approx(expected)
    assert expected < 0.05
    assert row["significant"] is True
    assert (row["direction"], row["worse"]) == ("up", True)


@pytest.mark.parametrize(("metric", "base_sample", "target_sample"), [
    ("mean_cost", [0.004 + 0.0001 * i for i in range(25)], [0.0055 + 0.0001 * i for i in range(30)]),
    ("mean_tokens", [1000.0 + 10 * i for i in range(25)], [1150.0 + 10 * i for i in range(30)]),
])
def test_mann_whitney_p_matches_scipy_on_cost_and_tokens_per_trace(metric, base_sample, target_sample):
    base = metrics(**{metric: sum(base_sample) / 25})
    target = metrics(**{metric: sum(target_sample) / 30})
    row = row_of(compare_versions(base, target, base_samples={metric: base_sample},
                                  target_samples={metric: target_sample}), metric)
    expected = scipy_stats.mannwhitneyu(base_sample, target_sample, alternative="two-sided").pvalue
    assert expected < 0.05
    assert (row["test"], row["significant"], row["direction"], row["worse"]) == ("mann_whitney", True, "up", True)
    assert row["p_value"] == pytest.approx(expected)


def test_cheaper_and_shorter_versions_are_better_not_worse():
    costly, cheap = [0.01 + 0.0001 * i for i in range(30)], [0.002 + 0.0001 * i for i in range(30)]
    rows = compare_versions(metrics(mean_cost=0.0115, mean_tokens=900.0), metrics(mean_cost=0.0035, mean_tokens=400.0),
                            base_samples={"mean_cost": costly}, target_samples={"mean_cost": cheap})
    cost = row_of(rows, "mean_cost")
    assert (cost["significant"], cost["direction"], cost["worse"]) == (True, "down", False)
    assert cost["delta_pct"] == pytest.approx(-69.565, abs=1e-3)
    assert (row_of(rows, "mean_tokens")["direction"], row_of(rows, "mean_tokens")["worse"]) == ("down", False)


def test_a_version_whose_traces_reported_no_usage_is_not_tested():
    # v1 was not instrumented: its zeros against v2's costs would "prove" a rise that is only instrumentation.
    base, target = metrics(version=1, mean_cost=0.0, mean_tokens=0.0), metrics(mean_cost=0.004, mean_tokens=800.0)
    rows = compare_versions(base, target, base_samples={"mean_cost": [0.0] * 30, "mean_tokens": [0.0] * 30},
                            target_samples={"mean_cost": [0.004] * 30, "mean_tokens": [800.0] * 30})
    cost, tokens = row_of(rows, "mean_cost"), row_of(rows, "mean_tokens")
    assert (cost["test"], cost["p_value"], cost["significant"]) == ("", None, False)
    assert cost["hint"] == "v1: no sampled trace reported a cost, nothing to test"
    assert tokens["hint"] == "v1: no sampled trace reported tokens, nothing to test"
    assert (cost["direction"], cost["worse"], cost["delta_pct"]) == ("up", True, None)
    neither = compare_versions(base, metrics(version=3), base_samples={"mean_tokens": [0.0] * 30},
                               target_samples={"mean_tokens": [0.0] * 30})
    assert row_of(neither, "mean_tokens")["hint"] == "v1 and v3: no sampled trace reported tokens, nothing to test"


def test_identical_durations_give_p_1_whatever_scipy_makes_of_zero_rank_variance(monkeypatch):
    # Older SciPy raised on all-equal samples and others answer NaN; the guard must not ask it.
    def zero_variance(*args, **kwargs):
        raise ValueError("All numbers are identical in mannwhitneyu")

    monkeypatch.setattr(scipy_stats, "mannwhitneyu", zero_variance)
    rows = compare_versions(metrics(), metrics(), base_samples={"duration_median_ms": [250.0] * 30},
                            target_samples={"duration_median_ms": [250.0] * 30})
    row = row_of(rows, "duration_median_ms")
    assert (row["test"], row["p_value"], row["significant"]) == ("mann_whitney", 1.0, False)


def test_direction_and_worse_per_kind_of_metric():
    base = metrics(traces=100, mean_references=3.0, mean_rows=12.0, duration_p95_ms=900.0)
    target = metrics(traces=40, mean_references=2.0, mean_rows=15.0, duration_p95_ms=800.0)
    rows = compare_versions(base, target, base_samples={}, target_samples={})
    assert {m: (row_of(rows, m)["direction"], row_of(rows, m)["worse"])
            for m in ("traces", "mean_references", "mean_rows", "duration_p95_ms")} == {
        "traces": ("down", False), "mean_references": ("down", True), "mean_rows": ("up", False),
        "duration_p95_ms": ("down", False)}
    assert row_of(rows, "traces")["delta_pct"] == pytest.approx(-60.0)
    assert row_of(rows, "mean_references")["test"] == ""


def test_delta_pct_is_none_when_base_is_zero_or_missing():
    rows = compare_versions(metrics(mean_rows=0.0, mean_references=None), metrics(mean_rows=4.0),
                            base_samples={}, target_samples={})
    assert row_of(rows, "mean_rows")["delta"] == 4.0
    assert row_of(rows, "mean_rows")["delta_pct"] is None
    assert row_of(rows, "mean_references")["delta"] is None


# --- spec_change_size ------------------------------------------------------------

def test_spec_change_size_counts_rfc6902_operations():
    assert spec_change_size({"a": 1}, {"a": 1}) == 0
    assert spec_change_size({"a": 1, "b": 2, "c": {"d": 1}}, {"a": 2, "c": {"d": 1, "e": 3}}) == 3


# --- regression_risk -------------------------------------------------------------

def risk(*, verdicts: dict[str, int] | None = None, **overrides: Any) -> dict:
    """The risk of v2 against v1, both with 100 traces, unless overridden."""
    args: dict[str, Any] = {"base": metrics(version=1), "target": metrics(verdicts=verdicts or {}), "spec_ops": 0,
                            "traffic_share": 0.0, "stages": [], "comparison": []}
    args.update(overrides)
    return regression_risk(**args)


def test_no_risk_factor_is_low_with_an_explicit_reason():
    assert risk() == {"level": "low", "label": "low", "points": 0, "reasons": ["no risk factor found"]}


@pytest.mark.parametrize(("ops", "points"), [(2, 0), (3, 1), (9, 1), (10, 2)])
def test_spec_change_points(ops, points):
    assert risk(spec_ops=ops)["points"] == points


def test_large_spec_change_reason_names_the_operations():
    assert risk(spec_ops=12)["reasons"] == ["large spec change: 12 operations"]


@pytest.mark.parametrize(("share", "points"), [(0.19, 0), (0.2, 1), (0.49, 1), (0.5, 2)])
def test_traffic_share_points(share, points):
    assert risk(traffic_share=share)["points"] == points


def test_traffic_reason_is_a_percentage():
    assert risk(traffic_share=0.62)["reasons"] == ["carries 62% of traffic"]


def test_feeding_execute_adds_one_point():
    result = risk(stages=["present", "execute"])
    assert (result["points"], result["reasons"]) == (1, ["feeds EXECUTE, which decides the answer"])
    assert risk(stages=["route_plan"])["points"] == 1
    assert risk(stages=["present"])["points"] == 0


def test_significant_worse_rows_add_two_points_each_capped_at_four():
    one = risk(comparison=[sig_row("error_rate", 0.02, 0.095, p=0.01)])
    assert one["points"] == 2
    assert one["level"] == "medium"
    assert one["reasons"] == ["error rate significantly worse (2.0% → 9.5%, p = 0.01)"]
    three = [sig_row("error_rate", 0.02, 0.095), sig_row("empty_rate", 0.1, 0.3), sig_row("replan_rate", 0.1, 0.2)]
    assert risk(comparison=three)["points"] == 4
    assert len(risk(comparison=three)["reasons"]) == 3
    improved = risk(comparison=[sig_row("error_rate", 0.095, 0.02)])
    assert improved["points"] == 0


def test_significantly_costlier_version_counts_like_any_worse_metric():
    cost = sig_row("mean_cost", 0.0064, 0.0128, p=0.003) | {"test": "mann_whitney"}
    result = risk(comparison=[cost])
    assert (result["points"], result["level"]) == (2, "medium")
    assert result["reasons"] == ["cost per trace significantly worse (0.0064 → 0.0128, p = 0.003)"]
    assert risk(comparison=[cost, sig_row("mean_tokens", 1000.0, 1500.0)])["points"] == 4
    assert any("cost or tokens per trace" in rule for rule in RISK_RULES)


def test_failing_analyses_add_two_points():
    assert risk(verdicts={"pass": 4, "fail": 3}) == {"level": "medium", "label": "medium", "points": 2,
                                                     "reasons": ["3 failing analyses"]}
    assert risk(verdicts={"fail": 1})["reasons"] == ["1 failing analysis"]


def test_level_thresholds():
    assert risk(spec_ops=3)["level"] == "low"  # 1 point
    assert risk(spec_ops=3, stages=["execute"])["level"] == "medium"  # 2
    assert risk(spec_ops=10, traffic_share=0.2)["level"] == "medium"  # 3
    assert risk(spec_ops=10, traffic_share=0.5)["level"] == "high"  # 4
    assert len(RISK_RULES) == 6


# --- related_assets --------------------------------------------------------------

def test_related_assets_sorted_by_count_then_name_and_limited():
    rows = [("query", "b_lookup", 5), ("prompt", "answer", 9), ("query", "a_lookup", 5), ("policy", "z", 1)]
    assert related_assets(rows, limit=3) == [
        {"type": "prompt", "name": "answer", "count": 9},
        {"type": "query", "name": "a_lookup", "count": 5},
        {"type": "query", "name": "b_lookup", "count": 5},
    ]
    assert related_assets([]) == []


# --- recommendations -------------------------------------------------------------

def advise(**overrides: Any) -> list[str]:
    args: dict[str, Any] = {"asset_type": "query", "asset_name": "ci_lookup", "base": metrics(version=2),
                            "target": metrics(version=3), "comparison": [], "axes": {"evidence": 80.0},
                            "risk": {"level": "low", "label": "low", "points": 0, "reasons": ["no risk factor found"]}}
    args.update(overrides)
    return recommendations(**args)


def test_nothing_to_say_is_said_with_the_count_of_tests():
    samples = {"duration_median_ms": [float(d) for d in range(20)], "mean_cost": [0.001 * d for d in range(20)],
               "mean_tokens": [100.0 * d for d in range(20)]}
    rows = compare_versions(metrics(), metrics(), base_samples=samples, target_samples=samples)
    assert advise(comparison=rows) == [
        "no significant change between the versions (7 metrics tested, none significantly worse)"]
    without_usage = compare_versions(metrics(), metrics(), base_samples={"duration_median_ms": samples["duration_median_ms"]},
                                     target_samples={"duration_median_ms": samples["duration_median_ms"]})
    assert advise(comparison=without_usage) == [
        "no significant change between the versions (5 metrics tested, none significantly worse)"]


def test_costlier_version_quotes_cost_per_trace_and_points_at_model_and_prompt():
    cost = sig_row("mean_cost", 0.0064, 0.012834, p=0.003) | {"test": "mann_whitney"}
    tokens = sig_row("mean_tokens", 1200.0, 2480.5, p=0.0002) | {"test": "mann_whitney"}
    assert advise(comparison=[cost, tokens]) == [
        "cost per trace rose from 0.0064 to 0.01283 (p = 0.003): check the model and prompt length of "
        "query `ci_lookup` v3",
        "tokens per trace rose from 1,200.0 to 2,480.5 (p < 0.001): check the prompt and answer length of "
        "query `ci_lookup` v3"]


def test_significant_error_rate_rise_quotes_both_rates_and_p():
    [sentence] = advise(comparison=[sig_row("error_rate", 0.02, 0.095, p=0.01)])
    assert sentence.startswith("error rate rose from 2.0% to 9.5% (p = 0.01): ")
    assert "query `ci_lookup` v3" in sentence


def test_significant_empty_rate_rise_is_reported():
    [sentence] = advise(comparison=[sig_row("empty_rate", 0.1, 0.25, p=0.0004)])
    assert sentence.startswith("empty-result rate rose from 10.0% to 25.0% (p < 0.001)")


def test_slower_durations_name_the_stage_that_slowed_most():
    duration = sig_row("duration_median_ms", 400.0, 520.0, p=0.003) | {"test": "mann_whitney"}
    stages = [sig_row("stage:execute:median_ms", 100.0, 142.0) | {"significant": False, "test": ""},
              sig_row("stage:present:median_ms", 50.0, 55.0) | {"significant": False, "test": ""}]
    [sentence] = advise(comparison=[duration, *stages])
    assert sentence == ("median duration rose (+30%, 400 ms → 520 ms, p = 0.003), most in EXECUTE "
                        "(median 100 ms → 142 ms, +42%): review query `ci_lookup` v3")


def test_slower_durations_without_stage_rows_quote_the_overall_figures():
    duration = sig_row("duration_median_ms", 400.0, 520.0, p=0.003)
    assert advise(comparison=[duration]) == [
        "median duration rose (+30%, 400 ms → 520 ms, p = 0.003): review query `ci_lookup` v3"]


def test_few_traces_ask_for_golden_runs():
    [sentence] = advise(target=metrics(version=3, traces=7))
    assert sentence.startswith("only 7 traces used v3 (need ≥ 20 for a test): run its golden queries")


def test_low_evidence_quotes_the_mean_and_the_axis():
    [sentence] = advise(axes={"evidence": 24.0}, target=metrics(version=3, mean_references=1.2))
    assert "1.2 per answer" in sentence
    assert "24.0/100" in sentence


def test_high_risk_lists_points_and_reasons():
    high = risk(spec_ops=12, traffic_share=0.62)
    [sentence] = advise(risk=high)
    assert sentence == "regression risk is high (4 points): large spec change: 12 operations; carries 62% of traffic"


def test_every_recommendation_contains_a_number():
    sentences = advise(comparison=[sig_row("error_rate", 0.02, 0.095)], axes={"evidence": 10.0},
                       risk=risk(spec_ops=12, verdicts={"fail": 2}), target=metrics(version=3, traces=5))
    assert len(sentences) == 4
    assert all(any(ch.isdigit() for ch in s) for s in sentences)
