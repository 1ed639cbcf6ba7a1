"""The compare page's baseline picker (``selectors.trace_baseline_choices``): same question first, then recent ones."""

import pytest

from access.tenancy import TenantScope
from inspector.selectors import trace_baseline_choices
from inspector.services import trace_ingest
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db

QUESTION = "Events on checkout-api last 30 days"


def ingest(trace_id: str, question: str = QUESTION, minute: int = 0, tenant: str = "acme"):
    trace, _ = trace_ingest(payload=trace_body(trace_id=trace_id, question=question, tenant_id=tenant,
                                               started_at=f"2026-11-20T10:{minute:02d}:00Z"))
    return trace


def ids(traces) -> list[str]:
    return [t.trace_id for t in traces]


def test_traces_that_asked_the_same_question_come_first_then_the_tenants_recent_ones():
    ingest("same-old", minute=1)
    other = ingest("other", question="CPU of pg-orders", minute=2)
    ingest("same-new", question=QUESTION.upper(), minute=3)  # case does not make another question
    trace = ingest("this", minute=4)
    ingest("newer-other", question="Who owns billing?", minute=5)

    choices = trace_baseline_choices(trace=trace)

    assert ids(choices.same_question) == ["same-new", "same-old"]
    assert ids(choices.recent) == ["newer-other", "other"]  # never the trace itself, nor a same-question one twice
    assert choices.recent[1].question == other.question


def test_only_the_traces_tenant_within_the_users_scope_is_offered():
    trace = ingest("this", minute=1)
    ingest("elsewhere", tenant="globex", minute=2)
    ingest("mine", minute=3)
    assert ids(trace_baseline_choices(trace=trace).same_question) == ["mine"]
    assert trace_baseline_choices(trace=trace).recent == []
    assert trace_baseline_choices(trace=trace, scope=TenantScope(frozenset({"globex"}))).same_question == []


def test_each_group_is_cut_at_the_limit_newest_first():
    trace = ingest("this", minute=0)
    for minute in range(1, 6):
        ingest(f"same-{minute}", minute=minute)
        ingest(f"other-{minute}", question=f"question {minute}", minute=minute)
    choices = trace_baseline_choices(trace=trace, limit=2)
    assert ids(choices.same_question) == ["same-5", "same-4"] and ids(choices.recent) == ["other-5", "other-4"]
