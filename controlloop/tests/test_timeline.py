"""The replan timeline's filters: the screen's meanings, applied through ``ReplanEventFilter``."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from controlloop.models import ReplanEvent
from controlloop.timeline import timeline_data

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


def test_an_unreadable_date_is_ignored_and_the_last_week_shown():
    event("recent", timezone.now() - timedelta(days=1))
    event("old", timezone.now() - timedelta(days=30))
    assert traces({"from": "yesterday"}) == ["recent"]


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


def test_a_value_outside_the_choices_matches_nothing():
    event("t", timezone.now())
    assert traces({"trigger_type": "error"}) == ["t"]
    assert traces({"trigger_type": "no_such_trigger"}) == []
