"""The trace page's replan rows (controlloop's REPLAN_DECISIONS provider) say what happened, in words.

Issue 19: the table showed "approved" on a stop_with_guidance decision and
"3 / 2" on a replan refused because none were left.
"""

from datetime import UTC, datetime, timedelta

import pytest

from controlloop.contracts import ReplanTrigger
from controlloop.services import ensure_default_policy, replan_decide, replan_record_execution
from controlloop.trace_panel import replan_panel_rows
from inspector import trace_panels
from inspector.models import Trace

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def decide(trace: Trace, trigger_type: str, stage: str, seconds: int):
    return replan_decide(trace_id=trace.trace_id, tenant_id=trace.tenant_id, plan={},
                         trigger=ReplanTrigger(trigger_type=trigger_type, stage_name=stage),
                         now=T0 + timedelta(seconds=seconds))


@pytest.fixture
def trace():
    ensure_default_policy()
    return Trace(trace_id="t-replans", tenant_id="default")


def test_each_decision_reads_as_its_outcome_and_its_place_among_the_replans(trace):
    decide(trace, "policy_violation", "validate", 0)
    first = decide(trace, "empty_result", "execute", 1)
    replan_record_execution(decision_event=first.decision_event, succeeded=True, now=T0 + timedelta(seconds=2))
    second = decide(trace, "empty_result", "execute", 3)
    replan_record_execution(decision_event=second.decision_event, succeeded=False, now=T0 + timedelta(seconds=4))
    decide(trace, "empty_result", "execute", 5)  # a third: none left (the default policy allows 2)

    rows = replan_panel_rows(trace)

    assert [(r["decision"], r["outcome_text"], r["count_text"]) for r in rows] == [
        ("stop_with_guidance", "stopped with guidance", "no replan made (0 of 2 used before)"),
        ("auto_retry", "replanned · re-run succeeded", "replan 1 of 2"),
        ("auto_retry", "replanned · re-run failed", "replan 2 of 2"),
        ("stop_with_guidance", "replan denied (no replans left) · stopped with guidance",
         "none left: 2 of 2 replans already used"),
    ]
    assert [r["outcome_tone"] for r in rows] == ["warning", "ok", "error", "error"]
    assert rows[3]["veto_text"] == "no replans left"
    assert not any("approved" in r["outcome_text"] or " / " in r["count_text"] for r in rows)


def test_an_approved_retry_without_an_execution_yet_has_no_outcome(trace):
    decide(trace, "empty_result", "execute", 0)
    (row,) = replan_panel_rows(trace)
    assert (row["outcome"], row["outcome_text"], row["outcome_tone"]) == (
        "no_outcome", "replanned · no outcome recorded", "muted")


def test_the_trace_page_asks_controlloop_for_the_rows(trace):
    decide(trace, "policy_violation", "validate", 0)
    rows = trace_panels.provide(trace_panels.REPLAN_DECISIONS, trace, default=[])
    assert [r["outcome_text"] for r in rows] == ["stopped with guidance"]
