"""The trace page's "Send answer" form for an ask_user card: who sees it, blank answers, the new run, the log."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.runner import pipeline_run
from testkit.factories import UserFactory
from testkit.plugin import grant

pytestmark = pytest.mark.usefixtures("reference_assets")


def page_url(trace: Trace) -> str:
    return reverse("admin:inspector_trace_change", args=[trace.pk])


def reply_url(trace: Trace) -> str:
    return reverse("admin:inspector_trace_reply", args=[trace.pk])


@pytest.fixture
def asked(db) -> Trace:
    return pipeline_run(context=ExecutionContext(question="What is it?"))


def staff_client(client, *codenames: str):
    user = UserFactory(is_staff=True)
    grant(user, "inspector.view_trace", *codenames)
    client.force_login(user)
    return client


def test_the_card_and_its_form_show_to_those_who_may_run_the_pipeline(client, asked):
    html = staff_client(client, "inspector.run_pipeline").get(page_url(asked)).content.decode()

    assert "name the system you mean, e.g. checkout-api" in html
    assert f'action="{reply_url(asked)}"' in html and 'name="csrfmiddlewaretoken"' in html
    assert "Your answer" in html and 'value="Send answer"' in html and re.search(r'name="answer"[^>]*required', html)


def test_viewers_see_the_question_but_no_form(client, asked):
    html = staff_client(client).get(page_url(asked)).content.decode()
    assert 'data-testid="ask-user-card"' in html and "name the system you mean" in html
    assert 'data-testid="reply-form"' not in html


def test_a_trace_that_asked_nothing_has_no_card_and_reads_no_payload(client, db):
    plain = pipeline_run(context=ExecutionContext(question="What is checkout-api?"))
    client = staff_client(client, "inspector.run_pipeline")
    client.get(page_url(plain))
    with CaptureQueriesContext(connection) as captured:
        html = client.get(page_url(plain)).content.decode()
    assert 'data-testid="ask-user-card"' not in html
    heads = re.compile(r'SUBSTR(ING)?\("inspector_stagepayload"\."(input|output)_data", 1, \d+\)')
    assert not any('stagepayload"."output_data"' in heads.sub("", q["sql"]) for q in captured.captured_queries)


def test_sending_an_answer_runs_it_and_opens_the_new_trace(client, asked):
    response = staff_client(client, "inspector.run_pipeline").post(reply_url(asked), {"answer": " checkout-api "})

    reply = Trace.objects.exclude(pk=asked.pk).get()
    assert response.status_code == 302 and response["Location"] == page_url(reply)
    assert reply.question == "What is it? — checkout-api" and reply.session_id == asked.trace_id
    assert reply.metadata["reply_to"] == asked.trace_id and reply.metadata["reply"] == "checkout-api"
    asked.refresh_from_db()
    assert asked.session_id == asked.trace_id
    assert LogEntry.objects.get(object_id=str(asked.pk)).change_message == f"Answered its ask_user card: trace {reply.trace_id}"


@pytest.mark.parametrize("answer", ["", "   "])
def test_a_blank_answer_shows_an_error_and_writes_nothing(client, asked, answer):
    response = staff_client(client, "inspector.run_pipeline").post(reply_url(asked), {"answer": answer})

    assert response.status_code == 400
    assert 'data-testid="reply-error"' in response.content.decode() and "Type an answer to send." in response.content.decode()
    assert Trace.objects.count() == 1 and Trace.objects.get().session_id == ""


def test_a_trace_that_asked_nothing_cannot_be_answered(client, db):
    plain = pipeline_run(context=ExecutionContext(question="What is checkout-api?"))
    response = staff_client(client, "inspector.run_pipeline").post(reply_url(plain), {"answer": "checkout-api"})
    assert response.status_code == 400 and "did not ask the user anything" in response.content.decode()
    assert Trace.objects.count() == 1


def test_answering_needs_the_permission_csrf_and_a_post(client, asked):
    assert staff_client(client).post(reply_url(asked), {"answer": "checkout-api"}).status_code == 403
    runner = staff_client(client, "inspector.run_pipeline")
    assert runner.get(reply_url(asked)).status_code == 405
    runner.handler.enforce_csrf_checks = True
    assert runner.post(reply_url(asked), {"answer": "checkout-api"}).status_code == 403
    assert Trace.objects.count() == 1


def test_another_tenants_trace_is_not_found(client, db):
    theirs = pipeline_run(context=ExecutionContext(question="What is it?", tenant_id="globex"))
    user = grant(UserFactory(is_staff=True, tenants=["acme"]), "inspector.view_trace", "inspector.run_pipeline")
    client.force_login(user)
    assert client.post(reply_url(theirs), {"answer": "checkout-api"}).status_code == 404
    assert Trace.objects.count() == 1
