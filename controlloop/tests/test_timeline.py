"""The replan timeline's data: filters applied through ``ReplanEventFilter``, chains, links, errors."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from controlloop import timeline
from controlloop.contracts import ReplanTrigger
from controlloop.models import ReplanEvent
from controlloop.services import replan_decide, replan_record_execution
from controlloop.timeline import timeline_data
from kernel.errors import InvalidInput

pytestmark = pytest.mark.django_db


def event(trace_id: str, created_at: datetime, **fields) -> ReplanEvent:
    fields = {"kind": ReplanEvent.Kind.DECISION, "trigger_type": "error", "decision": "auto_retry",
              "approved": True, **fields}
    return ReplanEvent.objects.create(trace_id=trace_id, created_at=created_at, **fields)


def traces(params: dict[str, str]) -> list[str]:
    return [e["trace"] for e in timeline_data(params)["events"]]


def test_from_and_to_bound_the_range():
    event("before", datetime(2026, 1, 31, 9, 59, tzinfo=UTC))
    event("inside", datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
    event("after", datetime(2026, 1, 31, 14, 1, tzinfo=UTC))
    assert traces({"from": "2026-01-31T10:00:00Z", "to": "2026-01-31T16:00:00+02:00"}) == ["inside"]


@pytest.mark.parametrize("params", [{"from": "yesterday"}, {"to": "2026-02-30"}, {"from": "2026-13-01T10:00"}])
def test_an_unreadable_date_is_refused_as_the_api_refuses_it(params):
    field = next(iter(params))
    with pytest.raises(InvalidInput) as refused:
        timeline_data(params)
    assert refused.value.field == field
    assert refused.value.message.startswith(f"{field}: {params[field]!r} is not a date or a time")


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(InvalidInput, match="ends before it starts"):
        timeline_data({"from": "2026-01-31T10:00:00Z", "to": "2026-01-30T10:00:00Z"})


def test_with_no_trace_and_no_dates_the_last_week_is_shown():
    event("recent", timezone.now() - timedelta(days=1))
    event("old", timezone.now() - timedelta(days=30))
    assert traces({}) == ["recent"]


def test_a_trace_shows_all_its_decisions_whatever_their_age():
    event("t-1", timezone.now() - timedelta(days=30))
    event("t-2", timezone.now() - timedelta(days=1))
    assert traces({"trace": " t-1 "}) == ["t-1"]


def test_approved_reads_yes_and_no():
    event("yes", timezone.now(), approved=True)
    event("no", timezone.now(), approved=False, decision="abort", veto="no_replans_left")
    assert traces({"approved": "yes"}) == ["yes"]
    assert traces({"approved": "no"}) == ["no"]
    assert sorted(traces({"approved": "maybe"})) == ["no", "yes"]


def test_only_decisions_are_shown():
    event("asked", timezone.now(), kind=ReplanEvent.Kind.REQUEST)
    event("decided", timezone.now())
    assert traces({}) == ["decided"]


def test_a_value_outside_the_choices_is_refused():
    event("t", timezone.now())
    assert traces({"trigger_type": "error"}) == ["t"]
    with pytest.raises(InvalidInput) as refused:
        timeline_data({"trigger_type": "no_such_trigger"})
    assert refused.value.field == "trigger_type"


def test_each_decision_carries_its_chain_and_outcome():
    trigger = ReplanTrigger(trigger_type="empty_result", stage_name="execute", reason="no rows")
    now = timezone.now() - timedelta(minutes=5)
    first = replan_decide(trace_id="t-chain", tenant_id="default", trigger=trigger, now=now)
    replan_record_execution(decision_event=first.decision_event, succeeded=False, now=now + timedelta(seconds=2))
    second = replan_decide(trace_id="t-chain", tenant_id="default", trigger=trigger, now=now + timedelta(seconds=3))
    replan_record_execution(decision_event=second.decision_event, succeeded=True, now=now + timedelta(seconds=4))
    replan_decide(trace_id="t-chain", tenant_id="default", trigger=trigger, now=now + timedelta(seconds=5))

    events = timeline_data({"trace": "t-chain"})["events"]

    assert [e["outcome"] for e in events] == ["failed", "succeeded", "denied"]
    assert [[s["label"] for s in e["chain"]] for e in events] == [
        ["Requested", "Decided", "Re-run"], ["Requested", "Decided", "Re-run"], ["Requested", "Decided", "Outcome"]]
    assert events[0]["chain"][2]["delta"] == "+2.0 s"
    assert events[1]["verdict"] == "replanned · re-run succeeded"
    assert events[2]["verdict"] == "replan denied (no replans left) · stopped with guidance"
    assert events[2]["replan"] == "none left: 2 of 2 replans already used"


def test_times_are_readable_and_the_trace_links_to_its_page_in_its_tenant():
    event("t-link", datetime(2026, 1, 31, 12, 0, 5, 123456, tzinfo=UTC), tenant_id="acme")

    [shown] = timeline_data({"trace": "t-link"})["events"]

    assert shown["time"] == "31 Jan 2026, 12:00:05 UTC"
    assert shown["traceUrl"] == reverse("admin:inspector_trace_by_id", args=["t-link"]) + "?tenant=acme"
    assert timeline_data({"trace": "t-link"}, link_traces=False)["events"][0]["traceUrl"] == ""


def test_the_axis_of_the_last_week_ends_now():
    now = timezone.now()
    event("t", now - timedelta(minutes=50))

    axis = timeline_data({}, now=now)["axis"]

    assert axis["endMs"] == axis["nowMs"] == now.timestamp() * 1000
    assert axis["startMs"] == (now - timedelta(days=7)).timestamp() * 1000


def test_only_more_than_the_limit_is_truncated_and_the_hidden_part_marked(monkeypatch):
    monkeypatch.setattr(timeline, "MAX_EVENTS", 3)
    for minutes in (40, 30, 20):
        event(f"t-{minutes}", timezone.now() - timedelta(minutes=minutes))
    assert timeline_data({})["truncated"] is False

    event("t-50", timezone.now() - timedelta(minutes=50))
    data = timeline_data({})

    assert data["truncated"] is True and traces({}) == ["t-40", "t-30", "t-20"]
    assert data["axis"]["hiddenBeforeX"] == data["events"][0]["x"]
