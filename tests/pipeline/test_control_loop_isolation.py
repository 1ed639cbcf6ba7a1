"""Test-mode runs decide replans against a snapshot taken at their start and never feed the live control loop.

Issue 16: one override test gave PASS then FAIL twice within 30 s because the
live breaker, fed by other traffic, refused its execute retry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.forms.models import model_to_dict

from controlloop.contracts import ReplanTrigger
from controlloop.models import ReplanBreaker, ReplanEvent, ReplanLedger
from controlloop.services import ensure_default_policy, replan_decide, replan_record_execution
from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run

pytestmark = pytest.mark.usefixtures("reference_assets")

EMPTY_THEN_FOUND = "Events on web-staging-03 today"  # execute is empty, the widened retry finds rows
LIVE_TENANT = "default"


def open_live_breaker(failures: int = 6) -> None:
    """Failed execute retries of live traffic in the scope default/empty_result/execute."""
    ensure_default_policy()
    now = datetime.now(UTC)
    for number in range(failures):
        record = replan_decide(trace_id=f"live-{number}-{now.timestamp()}", tenant_id=LIVE_TENANT, plan={},
                               trigger=ReplanTrigger(trigger_type="empty_result", stage_name="execute"),
                               now=now - timedelta(seconds=60 - number))
        if record.decision.approved:
            replan_record_execution(decision_event=record.decision_event, succeeded=False,
                                    now=now - timedelta(seconds=59.5 - number))
    assert ReplanBreaker.objects.get(tenant_id=LIVE_TENANT, trigger_type="empty_result").state == "open"


def live_rows() -> list[dict]:
    return ([model_to_dict(row) | {"updated_at": row.updated_at} for row in ReplanBreaker.objects.order_by("pk")]
            + [model_to_dict(row) | {"updated_at": row.updated_at} for row in ReplanLedger.objects.order_by("pk")])


def run(question: str = EMPTY_THEN_FOUND, **context):
    return pipeline_run(context=ExecutionContext(question=question, tenant_id=LIVE_TENANT, **context))


def decisions(trace) -> list[tuple]:
    return [(r["trigger"], r["stage"], r["decision"], r["approved"], r["veto"], r["attempt"], r["reason"])
            for r in trace.metadata["replans"]]


def test_open_live_breaker_refuses_live_runs_but_not_test_mode_runs():
    open_live_breaker()
    live = run()
    assert decisions(live)[0][4] == "breaker_open"
    assert live.metadata["control_loop"] == {"isolated": False, "policy": "default", "policy_version": 1,
                                             "breaker": "open"}
    before = live_rows()

    tested = run(test_mode=True)

    assert decisions(tested) == [("empty_result", "execute", "auto_retry", True, "", 1,
                                  "approved: auto_retry from execute (replan 1 of 2)")]
    assert tested.stage_runs.filter(stage="execute").count() == 2 and tested.status == "success"
    # Nothing live moved: not the breaker, not any ledger (the test run kept its count in memory).
    assert live_rows() == before
    assert not ReplanLedger.objects.filter(trace_id=tested.trace_id).exists()
    events = ReplanEvent.objects.filter(trace_id=tested.trace_id)
    assert {e.kind for e in events} == {"request", "decision", "execution"}
    assert all(e.isolated for e in events)
    assert events.get(kind="decision").breaker_state == "neutral"


def test_test_mode_metadata_names_the_policy_version_and_the_neutral_breaker():
    policy = ensure_default_policy()
    policy.save()  # version 2
    tested = run(test_mode=True)
    assert tested.metadata["control_loop"] == {"isolated": True, "policy": "default", "policy_version": 2,
                                               "breaker": "neutral"}
    assert tested.metadata["replans"][0]["event_id"] == ReplanEvent.objects.get(
        trace_id=tested.trace_id, kind="decision").pk


def test_repeated_test_mode_runs_decide_the_same_whatever_live_traffic_does():
    first = decisions(run(test_mode=True))
    open_live_breaker()
    second = decisions(run(test_mode=True))
    run()  # live traffic in between
    third = decisions(run(test_mode=True))
    assert first == second == third and first[0][3] is True


def test_test_mode_limits_hold_within_the_run_without_the_ledger():
    tested = run("Events on zz-nowhere-01 today", test_mode=True)
    assert [(d[3], d[4], d[5]) for d in decisions(tested)] == [(True, "", 1), (True, "", 2),
                                                                (False, "no_replans_left", 3)]
    assert not ReplanLedger.objects.exists() and not ReplanBreaker.objects.exists()


def test_a_live_run_without_decisions_records_a_closed_breaker():
    ensure_default_policy()
    trace = run("What does checkout depend on?")
    assert trace.metadata["replans"] == []
    assert trace.metadata["control_loop"] == {"isolated": False, "policy": "default", "policy_version": 1,
                                              "breaker": "closed"}


def test_isolated_decisions_do_not_count_for_a_live_run_of_the_same_trace():
    run("Events on zz-nowhere-02 today", test_mode=True, trace_id="shared-id")
    ReplanEvent.objects.filter(trace_id="shared-id").update(trace_id="shared-id-live")
    live = pipeline_run(context=ExecutionContext(question="Events on zz-nowhere-02 today", tenant_id=LIVE_TENANT,
                                                 trace_id="shared-id-live"))
    # The two isolated approvals of that trace id do not use up the live run's replans.
    assert [d[5] for d in decisions(live) if d[3]] == [1, 2]
