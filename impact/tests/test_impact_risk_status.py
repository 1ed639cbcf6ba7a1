"""Regression risk says "not enough data" or "nothing to compare" instead of a level it cannot back (issue 19)."""

from __future__ import annotations

from typing import Any

from impact.risk import (
    MIN_TRACES,
    NOT_ENOUGH_DATA,
    NOTHING_TO_COMPARE,
    VersionMetrics,
    compare_versions,
    recommendations,
    regression_risk,
)


def metrics(version: int, traces: int, **overrides: Any) -> VersionMetrics:
    """A version with ``traces`` traces: 5 % errors, 3 % empty results, 10 % replans, p95 500 ms."""
    values: dict[str, Any] = {
        "version": version, "traces": traces, "success_rate": 0.95, "warning_rate": 0.0, "error_rate": 0.05,
        "empty_rate": 0.03, "replan_rate": 0.1, "errors": round(0.05 * traces), "empties": round(0.03 * traces),
        "duration_median_ms": 300.0, "duration_p95_ms": 500.0, "mean_references": 3.0, "mean_rows": 10.0,
        "verdicts": {"pass": 0, "warn": 0, "fail": 0},
    }
    values.update(overrides)
    return VersionMetrics(**values)


def assess(base: VersionMetrics, target: VersionMetrics, **overrides: Any) -> dict:
    rows = compare_versions(base, target, base_samples={}, target_samples={})
    args: dict[str, Any] = {"spec_ops": 0, "traffic_share": 0.0, "stages": [], "comparison": rows}
    args.update(overrides)
    return regression_risk(base=base, target=target, **args)


def test_big_rises_on_18_traces_are_not_enough_data_not_low():
    # The case: empty rate +185 %, replan rate +36 %, p95 +41 % on 18 traces read "low" (green).
    base = metrics(1, 40)
    target = metrics(2, 18, empty_rate=0.0855, empties=2, replan_rate=0.136, duration_p95_ms=705.0)
    result = assess(base, target)
    assert result["level"] == NOT_ENOUGH_DATA
    assert result["label"] == f"not enough data: 18 of {MIN_TRACES} traces per version"
    assert result["reasons"][0] == "too few traces for a test (v1 has 40 traces, v2 18; a test needs 20 per version)"
    assert "empty-result rate 3.0% → 8.6%, +185%: not confirmed by a test" in result["reasons"]
    assert "replan rate 10.0% → 13.6%, +36%: not confirmed by a test" in result["reasons"]
    assert "p95 duration 500 ms → 705 ms, +41%: not confirmed by a test" in result["reasons"]


def test_not_enough_data_keeps_the_points_of_the_factors_that_need_no_test():
    result = assess(metrics(1, 12), metrics(2, 30), spec_ops=12, stages=["execute"])
    assert (result["level"], result["points"]) == (NOT_ENOUGH_DATA, 3)
    assert result["label"] == "not enough data: 12 of 20 traces per version"
    assert "large spec change: 12 operations" in result["reasons"]


def test_the_same_version_on_both_sides_is_nothing_to_compare_not_medium():
    # "v1 compared with v1 — medium": the EXECUTE and traffic points made a level for a version against itself.
    same = metrics(1, 500)
    result = assess(same, same, traffic_share=0.9, stages=["execute"])
    assert result == {"level": NOTHING_TO_COMPARE, "label": "nothing to compare: base and target are both v1",
                      "points": 0, "reasons": ["base and target are the same version (v1)"]}


def test_a_base_without_traces_is_nothing_to_compare_not_low():
    result = assess(metrics(1, 0, error_rate=0, empty_rate=0, replan_rate=0, success_rate=0), metrics(2, 50))
    assert (result["level"], result["label"]) == (NOTHING_TO_COMPARE, "nothing to compare: v1 has no traces")
    assert result["reasons"] == ["v1 has no traces in this range"]


def test_two_versions_without_traces_are_nothing_to_compare():
    empty = {"error_rate": 0, "empty_rate": 0, "replan_rate": 0, "success_rate": 0}
    result = assess(metrics(1, 0, **empty), metrics(2, 0, **empty))
    assert result["label"] == "nothing to compare: v1 and v2 have no traces"


def test_enough_traces_on_both_sides_give_a_level():
    result = assess(metrics(1, MIN_TRACES), metrics(2, MIN_TRACES), spec_ops=3)
    assert (result["level"], result["label"], result["points"]) == ("low", "low", 1)


def test_assessed_risk_still_names_a_large_untested_change():
    # p95 has no test: a rise of 41 % earns no point, but a reader sees it next to the level.
    result = assess(metrics(1, 200), metrics(2, 200, duration_p95_ms=705.0))
    assert result["level"] == "low"
    assert result["reasons"] == ["p95 duration 500 ms → 705 ms, +41%: not confirmed by a test"]


def advise(base: VersionMetrics, target: VersionMetrics) -> list[str]:
    rows = compare_versions(base, target, base_samples={}, target_samples={})
    return recommendations(asset_type="query", asset_name="ci_lookup", base=base, target=target, comparison=rows,
                           axes={}, risk=assess(base, target))


def test_advice_for_the_same_version_asks_for_another_base():
    assert advise(metrics(1, 50), metrics(1, 50)) == [
        "base and target are both v1: choose another version as base to see what changed"]


def test_advice_for_a_thin_base_asks_for_a_wider_range():
    [sentence] = advise(metrics(1, 4), metrics(2, 50))
    assert sentence == ("only 4 traces used the base v1 in this range (need ≥ 20 for a test): widen the range or "
                        "choose another base")


def test_advice_for_an_unused_target_asks_for_traffic():
    empty = {"error_rate": 0, "empty_rate": 0, "replan_rate": 0, "success_rate": 0}
    assert advise(metrics(1, 50), metrics(2, 0, **empty))[0] == (
        "no trace used v2 in this range: run its golden queries or wait for traffic")
