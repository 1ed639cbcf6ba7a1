"""Critical rules: each forces FAIL whatever the score."""

from __future__ import annotations

from regression.engine import ScoringConfig, compare_pair
from regression.tests.test_engine_factories import pipeline, snapshot, trace

# With every penalty of a critical rule at 0, only the critical flag can fail the pair.
ZERO = ScoringConfig.from_overrides({
    "missing_stage_penalty": 0, "status_error_penalty": 0, "result_empty_penalty": 0,
    "plan_kind_penalty": 0, "plan_intent_penalty": 0, "structural_change_penalty": 0,
})


def _critical(result) -> list[tuple[str, str, str]]:
    return [(issue.stage, issue.kind, issue.pointer) for issue in result.critical_issues]


def test_stage_missing_in_candidate_is_critical_100():
    baseline = pipeline()
    candidate = pipeline()
    del candidate.stages["present"]

    result = compare_pair(baseline, candidate)

    assert _critical(result) == [("present", "stage_missing", "")]
    assert result.score == 100 and result.verdict == "FAIL"
    assert result.stages[-1].presence == "baseline_only"


def test_newly_failing_stage_is_critical():
    result = compare_pair(trace(snapshot(status="warning")), trace(snapshot(status="error")))

    assert _critical(result) == [("execute", "newly_failing", "/diagnostics/status")]
    assert result.verdict == "FAIL" and result.score == 100


def test_still_failing_stage_is_not_newly_failing():
    result = compare_pair(trace(snapshot(status="error")), trace(snapshot(status="error")))

    assert result.critical_issues == [] and result.verdict == "PASS"


def test_result_newly_empty_is_critical_60():
    base = trace(snapshot(empty_flags={"result_empty": False}))
    cand = trace(snapshot(empty_flags={"result_empty": True}))

    result = compare_pair(base, cand)

    assert _critical(result) == [("execute", "result_newly_empty", "/diagnostics/empty_flags/result_empty")]
    assert result.score == 60 and result.verdict == "FAIL"


def test_plan_kind_change_is_critical():
    result = compare_pair(pipeline(kind="plan"), pipeline(kind="direct"))

    assert ("route_plan", "plan_kind_changed", "/result/kind") in _critical(result)
    issue = result.critical_issues[0]
    assert (issue.baseline, issue.candidate) == ("plan", "direct")
    # The dedicated rule owns /result/kind: no duplicate structural issue.
    assert [i.pointer for i in result.issues].count("/result/kind") == 1


def test_plan_intent_change_is_critical_with_nested_pointer():
    result = compare_pair(pipeline(intent="list_incidents"), pipeline(intent="count_incidents"))

    assert _critical(result) == [("route_plan", "plan_intent_changed", "/result/plan/intent")]


def test_top_level_intent_is_read_first():
    base = trace(snapshot("route_plan", result={"kind": "plan", "intent": "a"}))
    cand = trace(snapshot("route_plan", result={"kind": "plan", "intent": "b"}))

    assert _critical(compare_pair(base, cand)) == [("route_plan", "plan_intent_changed", "/result/intent")]


def test_trace_route_is_compared_when_no_route_plan_stage_exists():
    result = compare_pair(trace(snapshot(), route="plan"), trace(snapshot(), route="reject"))

    assert _critical(result) == [("route_plan", "plan_kind_changed", "/result/kind")]
    assert result.verdict == "FAIL"


def test_critical_issue_fails_even_at_score_zero():
    for change in ({"kind": "direct"}, {"intent": "other"}):
        result = compare_pair(pipeline(), pipeline(**change), ZERO)

        assert result.score == 0 and result.verdict == "FAIL"


def test_missing_and_empty_fail_at_score_zero():
    candidate = pipeline()
    del candidate.stages["present"]
    candidate.stages["execute"].empty_flags["result_empty"] = True

    result = compare_pair(pipeline(), candidate, ZERO)

    assert result.score == 0 and result.verdict == "FAIL"
    assert {issue.kind for issue in result.critical_issues} == {"stage_missing", "result_newly_empty"}
