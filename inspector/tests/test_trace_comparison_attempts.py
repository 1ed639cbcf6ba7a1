"""Pure helpers of inspector/trace_comparison.py for attempts, replans and result sizes (issue 16)."""

from inspector.trace_comparison import AttemptSnapshot, ReplanRecord, StageSnapshot, attempt_rows, result_size


def test_result_size_counts_nested_result_keys_instead_of_their_container():
    assert result_size({"tool_results": [{"rows": [1, 2]}, {"rows": [3]}]}) == 3
    assert result_size({"tool_results": [{"rows": []}]}) == 0
    assert result_size({"blocks": [{"type": "text", "text": "x"}, {"type": "table", "rows": [1]}]}) == 2
    assert result_size({"answer": "x"}) is None and result_size(None) is None and result_size({}) is None
    assert result_size({"hits": {"a": 1}}, ["hits"]) == 1


def test_replan_records_read_old_and_new_metadata():
    records = ReplanRecord.from_metadata({"replans": [{"trigger": "t", "stage": "execute", "veto": None,
                                                      "unknown": 1}, "junk"]})
    assert records == [ReplanRecord(trigger="t", stage="execute")]
    assert ReplanRecord.from_metadata({}) == [] and ReplanRecord.from_metadata(None) == []


def test_replans_follow_the_attempt_they_were_decided_after():
    attempts = [AttemptSnapshot(attempt=1, empty_flags={"result_empty": True}), AttemptSnapshot(attempt=2)]
    replans = [ReplanRecord(stage="execute", trigger="empty_result", decision="auto_retry", approved=True),
               ReplanRecord(stage="compose", trigger="x"),
               ReplanRecord(stage="execute", trigger="empty_result", veto="breaker_open", reason="open")]
    rows = attempt_rows("execute", attempts, replans)
    assert [(r["attempt"], r["empty"], [p["trigger"] for p in r["replans"]]) for r in rows] == [
        (1, True, ["empty_result"]), (2, False, ["empty_result"])]
    assert rows[1]["replans"][0]["veto"] == "breaker_open" and "veto" not in rows[0]["replans"][0]


def test_a_snapshot_without_attempts_is_its_final_attempt():
    snap = StageSnapshot.from_output({"stage": "execute", "result": {"tool_results": []}, "duration_ms": 5,
                                      "diagnostics": {"status": "warning"}})
    (only,) = snap.all_attempts()
    assert (only.attempt, only.status, only.duration_ms, only.result_size, only.empty) == (1, "warning", 5, 0, True)
