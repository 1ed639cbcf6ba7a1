"""Score aggregation, verdict boundaries, stage order and configuration overrides."""

from __future__ import annotations

import pytest

from regression.engine import PairResult, ScoringConfig, compare_pair
from regression.tests.test_engine_factories import pipeline, snapshot, trace


def _with_new_warnings(total_penalty: int) -> PairResult:
    """A pair whose only issue is one new warning costing exactly ``total_penalty``."""
    config = ScoringConfig.from_overrides({"new_warning_penalty": total_penalty, "new_warning_cap": 100})
    return compare_pair(trace(snapshot()), trace(snapshot(warnings=["w"])), config)


@pytest.mark.parametrize(
    ("score", "verdict"),
    [(0, "PASS"), (19, "PASS"), (20, "WARN"), (49, "WARN"), (50, "FAIL"), (100, "FAIL")],
)
def test_verdict_boundaries(score, verdict):
    result = _with_new_warnings(score)

    assert (result.score, result.verdict) == (score, verdict)


def test_penalties_of_several_rules_add_up_to_the_boundary():
    # 20 (status) + 10 (warning) + 10 (count) + 9 (duration) = 49 → WARN; one more point → FAIL.
    overrides = {"duration_penalty": 9, "duration_min_ms": 50}
    base = trace(snapshot(counts={"rows": 10}, duration_ms=100))
    cand = trace(snapshot(status="warning", warnings=["w"], counts={"rows": 20}, duration_ms=160))

    at_49 = compare_pair(base, cand, ScoringConfig.from_overrides(overrides))
    at_50 = compare_pair(base, cand, ScoringConfig.from_overrides({**overrides, "duration_penalty": 10}))

    assert (at_49.score, at_49.verdict) == (49, "WARN")
    assert (at_50.score, at_50.verdict) == (50, "FAIL")


def test_thresholds_are_configurable():
    config = ScoringConfig.from_overrides({"warn_at": 5, "fail_at": 10, "new_warning_penalty": 10})

    result = compare_pair(trace(snapshot()), trace(snapshot(warnings=["w"])), config)

    assert result.verdict == "FAIL"


def test_overall_score_is_the_worst_stage_not_the_sum():
    base = trace(snapshot("validate"), snapshot("execute"))
    cand = trace(snapshot("validate", warnings=["a"]), snapshot("execute", status="warning"))

    result = compare_pair(base, cand)

    assert [stage.score for stage in result.stages] == [10, 20]
    assert result.score == 20 and result.verdict == "WARN"


def test_stage_score_is_capped_at_100():
    cand = snapshot(status="error", errors=["a", "b"], warnings=["w"], empty_flags={"result_empty": True})

    assert compare_pair(trace(snapshot()), trace(cand)).stages[0].score == 100


def test_inconclusive_statistics_make_a_clean_pair_warn():
    result = compare_pair(pipeline(), pipeline(), statistics_inconclusive=True)

    assert (result.score, result.verdict) == (0, "WARN")
    assert "statistics are inconclusive; the verdict is at least WARN" in result.notes


def test_identical_traces_score_zero_and_pass():
    result = compare_pair(pipeline(), pipeline())

    assert (result.score, result.verdict, result.issues, result.critical_issues) == (0, "PASS", [], [])
    assert all(stage.presence == "both" for stage in result.stages)


def test_improvements_score_zero_and_are_noted():
    base = pipeline(durations=(120, 30, 2000, 80, 20))
    base.stages["execute"].status = "warning"
    base.stages["execute"].warnings = ["slow"]
    cand = pipeline(durations=(120, 30, 300, 80, 20))

    result = compare_pair(base, cand)

    assert (result.score, result.verdict) == (0, "PASS")
    assert "execute: improvement: faster by 1700 ms" in result.notes


def test_stages_come_in_pipeline_order_then_others():
    names = ["present", "custom", "execute", "route_plan", "aaa", "compose", "validate"]
    base = trace(*(snapshot(name) for name in names))

    result = compare_pair(base, base.model_copy(deep=True))

    assert [s.stage for s in result.stages] == [
        "route_plan", "validate", "execute", "compose", "present", "aaa", "custom",
    ]


def test_every_issue_names_its_stage_and_pointer():
    result = compare_pair(pipeline(row_ids=(1, 2, 3)), pipeline(row_ids=(0, 1, 3)))

    assert result.issues
    stage_names = {stage.stage for stage in result.stages}
    for issue in result.issues:
        assert issue.stage in stage_names
        assert issue.pointer.startswith("/")
        assert issue.message.startswith(f"{issue.stage}: ")
    execute = next(stage for stage in result.stages if stage.stage == "execute")
    assert "/result/tool_results/0/rows/0" in execute.diff.added
    assert "/result/tool_results/0/rows/1" in execute.diff.removed


def test_result_serialises_to_json():
    dumped = compare_pair(pipeline(), pipeline(kind="direct")).model_dump(mode="json")

    assert dumped["verdict"] == "FAIL" and dumped["critical_issues"][0]["pointer"] == "/result/kind"


def test_from_overrides_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown scoring option"):
        ScoringConfig.from_overrides({"new_eror_penalty": 5})


@pytest.mark.parametrize(
    "overrides",
    [{"new_error_penalty": -1}, {"warn_at": 60, "fail_at": 50}, {"volatile_patterns": ["("]}, {"fail_at": "x"}],
)
def test_from_overrides_rejects_bad_values(overrides):
    with pytest.raises(ValueError):
        ScoringConfig.from_overrides(overrides)


def test_from_overrides_keeps_defaults_for_other_keys():
    config = ScoringConfig.from_overrides({"duration_min_ms": 200})

    assert config.duration_min_ms == 200 and config.duration_min_pct == 50.0 and config.fail_at == 50
    assert ScoringConfig.from_overrides(None) == ScoringConfig()


def test_compare_stage_without_any_snapshot_is_an_error():
    from regression.engine import compare_stage

    with pytest.raises(ValueError):
        compare_stage(None, None)
