"""Replans and emptiness as scored dimensions (issue 16): every rule of regression/engine/replans.py and result_emptiness."""

from __future__ import annotations

from regression.engine import AttemptSnapshot, ReplanRecord, ScoringConfig, compare_pair
from regression.tests.test_engine_factories import pipeline, rows, snapshot, trace


def attempts(stage, *specs):
    """``stage`` carrying attempts given as (status, duration_ms, empty); the last one is the final."""
    return stage.model_copy(update={"attempts": [
        AttemptSnapshot(attempt=number, status=status, duration_ms=ms, empty_flags={"result_empty": empty},
                        result_size=0 if empty else 3)
        for number, (status, ms, empty) in enumerate(specs, start=1)]})


def retry(stage="execute", trigger="empty_result", decision="auto_retry", approved=True, veto="", attempt=1,
          reason="approved: auto_retry from execute (replan 1 of 2)"):
    return ReplanRecord(trigger=trigger, stage=stage, decision=decision, approved=approved, veto=veto,
                        attempt=attempt, reason=reason, event_id=7)


def with_execute(base, execute, replans=(), total=0):
    stages = dict(base.stages, execute=execute)
    return base.model_copy(update={"stages": stages, "replans": list(replans), "total_duration_ms": total})


def kinds(result, prefix="replan"):
    return [(i.stage, i.kind, i.penalty) for i in result.issues if i.kind.startswith(prefix)]


# --- attempts per stage ------------------------------------------------------------------------

def test_a_new_replan_is_at_least_warn_and_names_stage_trigger_and_attempt():
    base = pipeline()
    cand = with_execute(pipeline(), attempts(base.stages["execute"], ("ok", 20, True), ("ok", 400, False)),
                        replans=[retry()])

    result = compare_pair(base, cand)

    assert kinds(result) == [("execute", "replan_new", 25)]
    issue = next(i for i in result.issues if i.kind == "replan_new")
    assert issue.message == ("execute: newly needs a replan: attempt 1 came back empty (20 ms) → replan 1 "
                             "(trigger empty_result, auto_retry) → attempt 2 ok (400 ms); 2 attempts instead of 1.")
    assert (issue.baseline, issue.candidate, issue.pointer) == (1, 2, "/attempts/1")
    assert result.verdict == "WARN" and result.score == 25  # final attempts alike: PASS 0 before


def test_the_default_penalty_alone_reaches_warn():
    config = ScoringConfig()
    assert config.replan_new_penalty >= config.warn_at


def test_a_new_replan_without_recorded_decisions_is_still_scored():
    base = pipeline()
    cand = with_execute(pipeline(), attempts(base.stages["execute"], ("error", 5, False), ("ok", 400, False)))

    issue = next(i for i in compare_pair(base, cand).issues if i.kind == "replan_new")

    assert "attempt 1 error (5 ms) → a replan → attempt 2 ok" in issue.message


def test_new_replans_are_capped():
    base = pipeline()
    cand = with_execute(pipeline(), attempts(base.stages["execute"], ("ok", 1, True), ("ok", 1, True),
                                             ("ok", 1, True), ("ok", 400, False)),
                        replans=[retry(attempt=1), retry(attempt=2), retry(attempt=3)])

    assert kinds(compare_pair(base, cand)) == [("execute", "replan_new", 25), ("execute", "replan_new", 25),
                                               ("execute", "replan_new", 0)]


def test_one_more_replan_than_the_baseline_counts_once():
    base = with_execute(pipeline(), attempts(pipeline().stages["execute"], ("ok", 20, True), ("ok", 400, False)),
                        replans=[retry()])
    cand = with_execute(pipeline(), attempts(pipeline().stages["execute"], ("ok", 20, True), ("ok", 20, True),
                                             ("ok", 400, False)), replans=[retry(), retry(attempt=2)])

    result = compare_pair(base, cand)

    assert kinds(result) == [("execute", "replan_new", 25)]
    assert "attempt 2 came back empty (20 ms) → replan 2" in result.issues[0].message


def test_a_vanished_replan_is_an_improvement_without_penalty():
    base = with_execute(pipeline(), attempts(pipeline().stages["execute"], ("ok", 20, True), ("ok", 400, False)),
                        replans=[retry()])
    cand = pipeline()

    result = compare_pair(base, cand)

    assert kinds(result) == [] and result.verdict == "PASS" and result.score == 0
    assert any("replan_vanished: 1 attempt(s) instead of 2" in note for note in result.notes)


# --- refused replans ---------------------------------------------------------------------------

BREAKER = retry(approved=False, veto="breaker_open",
                reason="breaker open for execute/empty_result (6 failed retries in 60 s)")


def test_a_newly_refused_replan_is_critical_first_and_blames_the_control_loop():
    base = with_execute(pipeline(), attempts(pipeline().stages["execute"], ("ok", 20, True), ("ok", 400, False)),
                        replans=[retry()])
    empty = snapshot("execute", duration_ms=20, empty_flags={"result_empty": True},
                     result={"tool_results": [], "references": []})
    cand = with_execute(pipeline(), attempts(empty, ("ok", 20, True)), replans=[BREAKER])

    result = compare_pair(base, cand)

    first = result.critical_issues[0]
    assert (first.stage, first.kind, first.pointer) == ("execute", "replan_refused", "/replans/0")
    assert first.message.startswith("execute retry refused: breaker_open — breaker open for execute/empty_result")
    assert first.candidate == {"trigger": "empty_result", "veto": "breaker_open", "reason": BREAKER.reason,
                               "attempt": 1}
    assert "result_newly_empty" in [i.kind for i in result.critical_issues[1:]]
    assert result.notes[0].startswith("the difference comes from the control loop, not the asset: execute retry "
                                      "refused: breaker_open")
    assert result.verdict == "FAIL"


def test_a_veto_the_baseline_also_had_is_not_an_issue():
    base = with_execute(pipeline(), pipeline().stages["execute"], replans=[BREAKER])
    cand = with_execute(pipeline(), pipeline().stages["execute"], replans=[BREAKER])

    result = compare_pair(base, cand)

    assert kinds(result) == [] and result.verdict == "PASS"
    assert not any("control loop" in note for note in result.notes)


def test_a_refused_replan_penalty_is_configurable_but_stays_critical():
    cand = with_execute(pipeline(), pipeline().stages["execute"], replans=[BREAKER])

    result = compare_pair(pipeline(), cand, ScoringConfig(replan_refused_penalty=0))

    assert kinds(result) == [("execute", "replan_refused", 0)] and result.verdict == "FAIL"


# --- outcomes ----------------------------------------------------------------------------------

def test_a_new_ask_user_outcome_is_scored():
    asked = retry(decision="ask_user", reason="approved: ask_user from execute")
    cand = with_execute(pipeline(), pipeline().stages["execute"], replans=[asked])

    result = compare_pair(pipeline(), cand)

    assert kinds(result) == [("execute", "replan_outcome_changed", 40)]
    assert "now decides ask_user on empty_result" in result.issues[0].message
    assert result.verdict == "WARN"


def test_an_outcome_the_baseline_had_is_not_an_issue_and_a_vetoed_one_is_only_refused():
    stop = retry(decision="stop_with_guidance")
    base = with_execute(pipeline(), pipeline().stages["execute"], replans=[stop])
    cand = with_execute(pipeline(), pipeline().stages["execute"],
                        replans=[stop, retry(decision="ask_user", approved=False, veto="no_replans_left")])

    assert kinds(compare_pair(base, cand)) == [("execute", "replan_refused", 50)]


# --- total duration with retries ---------------------------------------------------------------

# The duration rule's floor at the millisecond scale of these snapshots (its default is for live runs).
MS_SCALE = ScoringConfig(duration_min_ms=50)


def _retried(first_ms=20, total=0):
    return with_execute(pipeline(), attempts(pipeline().stages["execute"], ("ok", first_ms, True), ("ok", 400, False)),
                        replans=[retry()], total=total)


def test_total_duration_with_retries_uses_the_duration_thresholds():
    base = pipeline()  # 650 ms over its stages
    result = compare_pair(base, _retried(first_ms=700), MS_SCALE)

    slower = [i for i in result.issues if i.kind == "total_duration_slower"]
    assert [(i.stage, i.pointer, i.baseline, i.candidate, i.penalty) for i in slower] == [
        ("trace", "/total_duration_ms", 650, 1350, 30)]
    assert "all stages with retries (1 in the candidate) took 1350 ms instead of 650 ms" in slower[0].message


def test_total_duration_inside_the_noise_floor_is_not_penalised():
    result = compare_pair(pipeline(), _retried(first_ms=700), MS_SCALE, noise={"trace": {"total_duration_ms": 800.0}})

    assert not [i for i in result.issues if i.kind == "total_duration_slower"]
    assert any(note.startswith("trace: not penalised, total_duration_ms") for note in result.notes)


def test_total_duration_below_the_thresholds_or_without_retries_is_not_scored():
    assert not [i for i in compare_pair(pipeline(), _retried(first_ms=20), MS_SCALE).issues
                if i.kind == "total_duration_slower"]  # +20 ms
    assert not [i for i in compare_pair(pipeline(), _retried(first_ms=700)).issues
                if i.kind == "total_duration_slower"]  # +700 ms is below the default floor
    slow = pipeline(durations=(120, 30, 1400, 80, 20))
    assert [i.kind for i in compare_pair(pipeline(), slow, MS_SCALE).issues] == ["duration_slower"]  # the stage row


def test_a_recorded_total_wins_over_the_stage_sum():
    assert _retried(total=2000).total_ms() == 2000 and _retried().total_ms() == 670


# --- emptiness read from the output ------------------------------------------------------------

def _execute(result, empty=False):
    return trace(snapshot("execute", result=result, empty_flags={"result_empty": empty}))


def test_a_result_that_becomes_empty_without_the_flag_is_critical():
    result = compare_pair(_execute({"tool_results": rows(1, 2, 3)}), _execute({"tool_results": []}))

    critical = [(i.kind, i.pointer, i.baseline, i.candidate, i.penalty) for i in result.critical_issues]
    assert critical == [("result_newly_empty", "/result/tool_results", 3, 0, 60)]
    assert result.verdict == "FAIL"  # was PASS 2: three removed rows


def test_nested_rows_count_so_a_query_that_found_nothing_is_empty():
    before = _execute({"tool_results": [{"query": "q@1", "rows": rows(1, 2)}]})
    after = _execute({"tool_results": [{"query": "q@1", "rows": []}]})

    assert [i.kind for i in compare_pair(before, after).critical_issues] == ["result_newly_empty"]


def test_flag_and_output_both_empty_count_once():
    result = compare_pair(_execute({"tool_results": rows(1)}), _execute({"tool_results": []}, empty=True))

    assert [(i.kind, i.pointer) for i in result.issues if i.kind == "result_newly_empty"] == [
        ("result_newly_empty", "/diagnostics/empty_flags/result_empty")]


def test_keys_gone_count_as_empty_and_an_already_empty_baseline_is_not_an_issue():
    assert [i.kind for i in compare_pair(_execute({"blocks": [{"text": "x"}]}), _execute({})).critical_issues] == [
        "result_newly_empty"]
    assert compare_pair(_execute({"tool_results": []}), _execute({"tool_results": []})).critical_issues == []
    assert compare_pair(_execute({"answer": "x"}), _execute({"answer": ""})).critical_issues == []


def test_result_keys_are_configurable():
    before, after = _execute({"hits": [1, 2]}), _execute({"hits": []})
    assert compare_pair(before, after).critical_issues == []
    assert [i.kind for i in compare_pair(before, after, ScoringConfig(result_keys=["hits"])).critical_issues] == [
        "result_newly_empty"]


def test_the_total_duration_finding_is_a_row_of_its_own_so_stored_analyses_keep_it():
    result = compare_pair(pipeline(), _retried(first_ms=700), MS_SCALE)

    row = result.stages[-1]
    assert (row.stage, row.presence, row.score, [i.kind for i in row.issues]) == (
        "trace", "both", 30, ["total_duration_slower"])
    assert (row.duration.baseline, row.duration.candidate, row.duration.delta_ms) == (650, 1350, 700)
    assert [stage.stage for stage in compare_pair(pipeline(), pipeline()).stages][-1] == "present"
