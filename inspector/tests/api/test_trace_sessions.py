"""Traces of one session: stored with the trace, filtered by the API, listed in order on the trace page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inspector.models import Trace
from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    for number, (session_id, hour) in enumerate([("chat-1", 10), ("chat-2", 11), ("chat-1", 12), ("", 13)]):
        trace_ingest(payload=trace_body(trace_id=f"s{number}", session_id=session_id, question=f"Question {number}?",
                                        started_at=f"2026-11-20T{hour}:00:00Z"))


def test_the_api_filters_by_session_and_answers_it(viewer_client, session):
    listed = viewer_client.get("/inspector/traces?session_id=chat-1").json()["results"]
    assert [t["trace_id"] for t in listed] == ["s2", "s0"]  # newest first, as every list
    assert viewer_client.get("/inspector/traces/s1").json()["session_id"] == "chat-2"
    assert viewer_client.get("/inspector/traces/s3").json()["session_id"] == ""  # none: empty, never null


def test_a_session_id_is_an_id(editor_client):
    response = editor_client.post("/inspector/traces", trace_body(session_id="a b/c"), format="json")
    assert response.status_code == 400 and "session_id" in response.json()


def test_the_trace_page_lists_the_session_in_order(client, session):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(reverse("admin:inspector_trace_change", args=[Trace.objects.get(trace_id="s2").pk]))
    html = page.content.decode()
    listed = html[html.index('data-testid="session"'):html.index("</ol>", html.index('data-testid="session"'))]
    assert listed.index("Question 0?") < listed.index("Question 2?") and "Question 1?" not in listed
    assert "Question 2?</strong> (this trace)" in listed
    alone = client.get(reverse("admin:inspector_trace_change", args=[Trace.objects.get(trace_id="s3").pk]))
    assert 'data-testid="session"' not in alone.content.decode()
