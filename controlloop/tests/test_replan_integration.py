"""The control loop inside real pipeline runs: replans, events, outcomes, endings."""

import pytest

from controlloop.models import ReplanEvent, ReplanLedger, ReplanPolicy
from controlloop.services import ensure_default_policy
from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from inspector.selectors import stage_run_with_payload

pytestmark = pytest.mark.usefixtures("reference_assets")


def run(question, **context):
    return pipeline_run(context=ExecutionContext(question=question, **context))


def present_of(trace):
    return stage_run_with_payload(trace_id=trace.trace_id, stage="present").payload.output["result"]


def test_empty_result_is_replanned_into_a_non_empty_answer():
    trace = run("Events on web-staging-03 today")

    executes = list(trace.stage_runs.filter(stage="execute").order_by("attempt").select_related("payload"))
    assert [e.attempt for e in executes] == [1, 2]
    assert executes[0].result_empty and not executes[1].result_empty
    assert executes[1].payload.input["params"]["plan"]["params"]["days"] == 4
    assert trace.replan_count == 1 and trace.status == "success"
    assert [(s.stage, s.attempt) for s in trace.stage_runs.order_by("sequence")] == [
        ("route_plan", 1), ("validate", 1), ("execute", 1), ("execute", 2), ("compose", 1), ("present", 1)]
    assert "3 results" in present_of(trace)["ui_model"]["answer"]

    events = list(ReplanEvent.objects.filter(trace_id=trace.trace_id).order_by("created_at", "id"))
    assert [e.kind for e in events] == ["request", "decision", "execution"]
    decision = events[1]
    assert (decision.trigger_type, decision.stage_name, decision.decision, decision.approved) == (
        "empty_result", "execute", "auto_retry", True)
    assert {"op": "replace", "path": "/params/days", "value": 4} in decision.json_patch
    assert decision.patch_before["params"]["days"] == 1 and decision.patch_after["params"]["days"] == 4
    assert events[2].outcome == "succeeded"
    assert ReplanLedger.objects.get(trace_id=trace.trace_id).replans_used == 1
    assert trace.metadata["replans"][0]["decision"] == "auto_retry"


def test_replans_stop_at_the_limit_and_end_with_guidance():
    trace = run("Events on zz-nowhere-01 today")

    assert trace.stage_runs.filter(stage="execute").count() == 3  # first run + 2 replans
    decisions = list(ReplanEvent.objects.filter(trace_id=trace.trace_id, kind="decision").order_by("id"))
    assert [(d.approved, d.veto) for d in decisions] == [(True, ""), (True, ""), (False, "no_replans_left")]
    outcomes = list(ReplanEvent.objects.filter(trace_id=trace.trace_id, kind="execution").values_list("outcome", flat=True))
    assert outcomes == ["failed", "failed"]
    result = present_of(trace)
    assert "replan denied: no replans left (2 of 2 used)" in result["ui_model"]["answer"]
    assert result["ui_model"]["action_card"]["kind"] == "stop_with_guidance"


def test_slot_missing_asks_the_user():
    trace = run("What is it?")
    result = present_of(trace)
    assert result["ui_model"]["action_card"] == {
        "kind": "ask_user", "message": "name the system you mean, e.g. checkout-api",
        "trigger": "slot_missing", "reply_to": trace.trace_id}
    assert result["ui_model"]["answer"].startswith("I need more information")
    assert [s.stage for s in trace.stage_runs.order_by("sequence")] == ["route_plan", "present"]


def test_policy_violation_stops_with_guidance():
    trace = run("List all servers last 400 days")
    decision = ReplanEvent.objects.get(trace_id=trace.trace_id, kind="decision")
    assert (decision.trigger_type, decision.decision, decision.severity) == ("policy_violation", "stop_with_guidance", "high")
    answer = present_of(trace)["ui_model"]["answer"]
    assert "max_time_range_days" in answer and "narrow the question" in answer


def test_tenant_policy_wins_and_a_disallowed_trigger_is_vetoed():
    ReplanPolicy.objects.create(name="acme", tenant_id="acme", max_replans=1, allowed_triggers=["error"])
    trace = run("Events on web-staging-03 today", tenant_id="acme")
    decision = ReplanEvent.objects.get(trace_id=trace.trace_id, kind="decision")
    assert decision.policy.name == "acme" and decision.veto == "trigger_not_allowed"
    assert trace.stage_runs.filter(stage="execute").count() == 1


def test_breaker_opens_after_failed_replans():
    policy = ensure_default_policy()
    policy.max_replans = 1
    policy.save()
    run("Events on zz-a-01 today")  # 1 failed replan
    run("Events on zz-b-01 today")  # 2 failed replans → 2 of 2 failed, below min samples (4)
    run("Events on zz-c-01 today")
    run("Events on zz-d-01 today")  # 4 failed → breaker opens
    trace = run("Events on web-staging-03 today")
    decision = ReplanEvent.objects.get(trace_id=trace.trace_id, kind="decision")
    assert decision.veto == "breaker_open" and not decision.approved


def test_control_loop_can_be_switched_off(settings):
    settings.OPS_CONTROL_LOOP = False
    trace = run("Events on web-staging-03 today")
    assert trace.stage_runs.filter(stage="execute").count() == 1
    assert not ReplanEvent.objects.filter(trace_id=trace.trace_id).exists()
