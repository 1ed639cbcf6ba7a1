"""regression/selectors.py gives the engine every attempt, the replans and the time with retries (issue 16)."""

import pytest

from inspector.services import trace_ingest
from regression.selectors import group_metrics, trace_snapshots
from regression.services import analysis_request
from testkit.factories import retried_execute_pair

pytestmark = pytest.mark.django_db

REPLAN = {"trigger": "empty_result", "stage": "execute", "decision": "auto_retry", "approved": True, "veto": "",
          "reason": "approved: auto_retry from execute (replan 1 of 2)", "attempt": 1, "event_id": 3}


@pytest.fixture
def retried(db):
    baseline, candidate = retried_execute_pair(empty_rows=[{"rows": []}], empty_duration_ms=30, replans=[REPLAN])
    trace_ingest(payload=baseline)
    trace_ingest(payload=candidate)


def test_snapshots_carry_every_attempt_the_replans_and_the_total(retried):
    snapshots = trace_snapshots(["base", "cand"], tenant_id="")
    execute = snapshots["cand"].stages["execute"]
    assert [(a.attempt, a.status, a.duration_ms, a.result_size, a.empty) for a in execute.attempts] == [
        (1, "warning", 30, 0, True), (2, "ok", 12, 1, False)]
    assert execute.status == "ok" and execute.duration_ms == 12  # the final attempt is still what other rules see
    assert [r.trigger for r in snapshots["cand"].replans] == ["empty_result"]
    assert snapshots["cand"].total_duration_ms == 5 * 12 + 30 and snapshots["base"].total_duration_ms == 60
    assert snapshots["base"].replans == [] and len(snapshots["base"].stages["execute"].attempts) == 1


def test_group_metrics_record_each_runs_total_with_retries(retried):
    assert group_metrics(["base", "cand"], tenant_id="")["trace"] == {"total_duration_ms": [60.0, 90.0]}


def test_a_stored_analysis_names_the_new_replan(retried, run_on_commit_now):
    analysis = analysis_request(baseline_trace_ids=["base"], candidate_trace_ids=["cand"])
    analysis.refresh_from_db()
    assert analysis.status == "completed" and analysis.verdict in ("WARN", "FAIL")
    execute = next(stage for stage in analysis.stage_results if stage["stage"] == "execute")
    new = [issue for issue in execute["issues"] if issue["kind"] == "replan_new"]
    assert new and "replan 1 (trigger empty_result, auto_retry)" in new[0]["message"]
