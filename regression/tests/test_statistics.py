"""Group statistics (SPEC §5): MWU + Holm, Cliff's delta, bootstrap CIs, the rules and the table. No database."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats as scipy_stats

from regression.statistics import (
    INSUFFICIENT_NOTE,
    NOISE_NOTE,
    bootstrap_median_shift_ci,
    cliffs_delta,
    compare_groups,
    default_higher_is_worse,
    holm_bonferroni,
    mann_whitney_p,
    median_ci,
)

SPREAD = np.linspace(-1.0, 1.0, 20)  # 20 runs, symmetric, so the median is exactly the centre


def runs(centre: float, spread: np.ndarray = SPREAD) -> list[float]:
    return list(centre + spread)


def one_metric(values: list[float], stage: str = "execute", metric: str = "duration_ms") -> dict:
    return {stage: {metric: values}}


def only_row(comparison):
    assert len(comparison.rows) == 1
    return comparison.rows[0]


# --- Cliff's delta ---------------------------------------------------------------

def test_cliffs_delta_is_one_when_candidate_always_larger():
    assert cliffs_delta([1, 2, 3], [4, 5, 6]) == 1.0


def test_cliffs_delta_is_minus_one_when_candidate_always_smaller():
    assert cliffs_delta([4, 5, 6], [1, 2, 3]) == -1.0


def test_cliffs_delta_is_zero_for_identical_samples():
    assert cliffs_delta([1, 2, 3], [1, 2, 3]) == 0.0


def test_cliffs_delta_mixed_case_matches_hand_count():
    # b > a in 6 pairs (2>1; 4>1,3; 6>1,3,5), b < a in 3 (2<3,5; 4<5): (6 - 3) / 9.
    assert cliffs_delta([1, 3, 5], [2, 4, 6]) == pytest.approx(1 / 3)


def test_cliffs_delta_rejects_empty_sample():
    with pytest.raises(ValueError):
        cliffs_delta([], [1.0])


# --- Holm–Bonferroni ------------------------------------------------------------

def test_holm_adjusts_step_down_in_input_order():
    assert holm_bonferroni([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_keeps_single_value():
    assert holm_bonferroni([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_bonferroni([0.02]) == pytest.approx([0.02])
    assert holm_bonferroni([]) == []


def test_holm_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError):
        holm_bonferroni([0.1, float("nan")])


# --- Mann–Whitney U --------------------------------------------------------------

def test_mann_whitney_textbook_exact_value():
    # Complete separation of 3 vs 3: 2 of C(6, 3) = 20 orderings are as extreme, two-sided.
    assert mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)


def test_mann_whitney_matches_scipy_directly():
    rng = np.random.default_rng(7)
    a, b = rng.normal(10, 2, 20), rng.normal(11, 2, 20)
    expected = scipy_stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
    assert mann_whitney_p(a, b) == pytest.approx(expected)


def test_mann_whitney_identical_constant_samples_give_p_one():
    assert mann_whitney_p([5.0] * 6, [5.0] * 6) == 1.0


# --- bootstrap ------------------------------------------------------------------------

def test_shift_ci_contains_true_shift_and_excludes_zero():
    rng = np.random.default_rng(1)
    a = rng.normal(100, 5, 20)
    low, high = bootstrap_median_shift_ci(a, a + 30)
    assert low <= 30 <= high
    assert low > 0


def test_bootstrap_intervals_are_deterministic_per_seed():
    a, b = runs(10), runs(12)
    assert bootstrap_median_shift_ci(a, b, seed=3) == bootstrap_median_shift_ci(a, b, seed=3)
    assert median_ci(a, seed=3) == median_ci(a, seed=3)


def test_median_ci_brackets_the_median():
    low, high = median_ci(runs(12))
    assert low <= 12 <= high


# --- the latency rule ------------------------------------------------------------------

def test_big_latency_shift_with_small_p_is_a_regression():
    comparison = compare_groups(one_metric(runs(100)), one_metric(runs(200)))
    row = only_row(comparison)
    assert row.significant and row.regression and not row.within_noise
    assert row.cliffs_delta == 1.0
    assert row.delta_pct == pytest.approx(100.0)
    assert comparison.regressions == [row]
    assert not comparison.inconclusive


def test_five_percent_latency_shift_is_not_a_regression_even_if_significant():
    row = only_row(compare_groups(one_metric(runs(100)), one_metric(runs(105))))
    assert row.significant and row.cliffs_delta == 1.0
    assert not row.within_noise
    assert not row.regression


def test_small_effect_is_not_a_regression_even_if_significant_and_shifted():
    # Wide log-normal runs shifted by 15%: many runs make p tiny, but δ stays near 0.08.
    rng = np.random.default_rng(11)
    base = rng.lognormal(np.log(100), 1.0, 2000)
    cand = rng.lognormal(np.log(115), 1.0, 2000)
    row = only_row(compare_groups(one_metric(list(base)), one_metric(list(cand)), noise_floor=False, resamples=200))
    assert row.significant
    assert row.delta_pct >= 10
    assert abs(row.cliffs_delta) < 0.33
    assert not row.regression


def test_faster_candidate_is_an_improvement_not_a_regression():
    row = only_row(compare_groups(one_metric(runs(200)), one_metric(runs(100))))
    assert row.improvement and not row.regression


def test_fewer_rows_is_a_regression_but_more_rows_is_only_a_change():
    fewer = only_row(compare_groups(one_metric(runs(50), metric="rows"), one_metric(runs(20), metric="rows")))
    more = only_row(compare_groups(one_metric(runs(20), metric="rows"), one_metric(runs(50), metric="rows")))
    assert fewer.regression
    assert more.significant and not more.regression and more.improvement


def test_direction_rule_by_metric_name():
    assert default_higher_is_worse("duration_ms")
    assert default_higher_is_worse("error")
    assert not default_higher_is_worse("rows")
    assert not default_higher_is_worse("references")


def test_higher_is_worse_can_be_overridden():
    row = only_row(compare_groups(
        one_metric(runs(20), metric="rows"), one_metric(runs(50), metric="rows"), higher_is_worse=lambda m: True,
    ))
    assert row.regression


def test_error_runs_are_compared_as_a_rate():
    base = {"execute": {"error": [0] * 20}}
    cand = {"execute": {"error": [1] * 10 + [0] * 10}}
    row = only_row(compare_groups(base, cand))
    assert row.centre == "rate"
    assert row.candidate_median == pytest.approx(0.5)
    assert row.significant and row.regression


# --- insufficient samples -------------------------------------------------------------

def test_three_runs_against_twenty_is_insufficient_and_never_fails():
    comparison = compare_groups(one_metric(runs(100)[:3]), one_metric(runs(500)))
    row = only_row(comparison)
    assert comparison.insufficient and comparison.inconclusive
    assert row.note == INSUFFICIENT_NOTE
    assert row.p_value is None and not row.regression
    assert comparison.regressions == []
    assert row.as_row()["delta"] == "~"
    assert row.as_row()["p"] == "p=n/a n=3+20"


# --- noise floor ------------------------------------------------------------------------

def test_candidate_inside_baseline_spread_is_not_penalised():
    base = one_metric(list(np.linspace(50, 150, 20)))  # interquartile range 75..125
    cand = one_metric(runs(120, SPREAD * 0.5))
    row = only_row(compare_groups(base, cand))
    assert row.significant and row.within_noise and not row.regression
    assert NOISE_NOTE in row.note


def test_spread_is_the_interquartile_range_so_a_real_shift_is_not_hidden():
    base = one_metric(list(np.linspace(50, 150, 20)))
    cand = one_metric(runs(140, SPREAD * 0.5))  # inside min–max, outside the interquartile range
    row = only_row(compare_groups(base, cand))
    assert row.regression and not row.within_noise


def test_small_baselines_use_min_max_as_their_spread():
    base = one_metric([90.0, 110.0, 130.0])
    cand = one_metric([125.0, 126.0, 127.0])
    row = only_row(compare_groups(base, cand, min_samples=3))
    assert row.within_noise and not row.regression


def test_without_noise_floor_the_same_shift_is_a_regression():
    base = one_metric(list(np.linspace(50, 150, 20)))
    cand = one_metric(runs(140, SPREAD * 0.5))
    row = only_row(compare_groups(base, cand, noise_floor=False))
    assert row.regression and not row.within_noise


def test_analysis_says_the_noise_floor_applies():
    comparison = compare_groups(one_metric(runs(100)), one_metric(runs(100)))
    assert any("noise floor" in note for note in comparison.notes)


# --- inconclusive ---------------------------------------------------------------------

def test_significant_only_before_holm_is_inconclusive():
    a = [float(x) for x in range(1, 11)]
    shifted = [x + 4 for x in a]  # raw p ≈ 0.017; three tests make Holm's p ≈ 0.051
    base = {"execute": {"rows": a, "references": a, "blocks": a}}
    cand = {"execute": {"rows": shifted, "references": a, "blocks": a}}
    comparison = compare_groups(base, cand)
    rows_row = comparison.rows[0]
    assert rows_row.p_value <= 0.05 < rows_row.p_adjusted
    assert not rows_row.significant and rows_row.inconclusive
    assert comparison.inconclusive and not comparison.insufficient
    assert comparison.regressions == []


def test_clear_results_are_not_inconclusive():
    base = {"execute": {"duration_ms": runs(100), "rows": runs(20)}}
    cand = {"execute": {"duration_ms": runs(100), "rows": runs(20)}}
    assert not compare_groups(base, cand).inconclusive


# --- formatting ----------------------------------------------------------------------

def test_table_reads_like_benchstat():
    comparison = compare_groups(
        {"execute": {"duration_ms": runs(12), "rows": runs(40)}},
        {"execute": {"duration_ms": runs(25), "rows": runs(40)}},
    )
    latency, rows = comparison.table()
    assert latency["name"] == "execute duration_ms"
    assert latency["baseline"].startswith("12.0 ±") and latency["baseline"].endswith("%")
    assert latency["candidate"].startswith("25.0 ±")
    assert latency["delta"] == "+108.33%"
    assert latency["p"] == "p=0.000 n=20+20"
    assert rows["delta"] == "~"


def test_text_table_aligns_columns_and_lists_notes():
    comparison = compare_groups(
        {"execute": {"duration_ms": runs(12)}, "present": {"blocks": runs(3)}},
        {"execute": {"duration_ms": runs(25)}, "present": {"blocks": runs(3)}},
    )
    lines = comparison.text_table().splitlines()
    assert "baseline" in lines[0] and "candidate" in lines[0]
    cells = comparison.table()
    for column in ("candidate", "delta"):
        start = lines[0].index(column)
        for line, cell in zip(lines[1:3], cells):
            assert line[start:start + len(cell[column])] == cell[column], column  # each cell sits under its header
    assert any(line.startswith("note: p: two-sided Mann–Whitney U") for line in lines)


def test_metric_on_one_side_only_is_skipped_with_a_note():
    comparison = compare_groups(
        {"execute": {"duration_ms": runs(12), "rows": runs(3)}}, {"execute": {"duration_ms": runs(12)}},
    )
    assert [row.metric for row in comparison.rows] == ["duration_ms"]
    assert any("execute rows: present on one side only" in note for note in comparison.notes)


def test_comparison_is_deterministic():
    rng = np.random.default_rng(5)
    base = one_metric(list(rng.normal(100, 10, 20)))
    cand = one_metric(list(rng.normal(120, 10, 20)))
    assert compare_groups(base, cand) == compare_groups(base, cand)


# --- performance ------------------------------------------------------------------------

def test_twenty_against_twenty_over_five_stages_and_four_metrics_returns():
    rng = np.random.default_rng(42)
    stages = ["route_plan", "validate", "execute", "synthesize", "present"]

    def group(scale: float) -> dict:
        return {
            stage: {
                "duration_ms": list(rng.lognormal(np.log(100 * scale), 0.3, 20)),
                "rows": list(rng.poisson(40, 20).astype(float)),
                "references": list(rng.poisson(5, 20).astype(float)),
                "error": list(rng.binomial(1, 0.1, 20).astype(float)),
            }
            for stage in stages
        }

    base, cand = group(1.0), group(1.5)
    started = time.perf_counter()
    comparison = compare_groups(base, cand)
    elapsed = time.perf_counter() - started
    print(f"\n20-vs-20 comparison, 5 stages x 4 metrics: {elapsed * 1000:.1f} ms")
    print(comparison.text_table())
    assert len(comparison.rows) == 20
