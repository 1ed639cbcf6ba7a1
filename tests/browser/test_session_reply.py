"""Answering an ask_user card on the trace page in a real browser: the answer runs in the trace's session."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def asked(transactional_db) -> Trace:
    reference_assets_install()
    return pipeline_run(context=ExecutionContext(question="What is it?"))  # slot_missing: asks the user


def test_an_answer_sent_from_the_trace_page_continues_the_session(staff_page, live_server, asked):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[asked.pk]))
    card = page.get_by_test_id("ask-user-card")
    expect(card.get_by_test_id("ask-user-message")).to_have_text("name the system you mean, e.g. checkout-api")

    # Only spaces pass the browser's `required` check; the server refuses them visibly and stores nothing.
    page.get_by_label("Your answer").fill("   ")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_test_id("reply-error")).to_have_text("Type an answer to send.")
    assert Trace.objects.count() == 1

    page.get_by_label("Your answer").fill("checkout-api")
    page.get_by_role("button", name="Send answer").click()

    page.wait_for_url(re.compile(rf"/admin/inspector/trace/(?!{asked.pk}/)\d+/change/$"))
    expect(page.get_by_test_id("question")).to_have_text("What is it? — checkout-api")
    session = page.get_by_test_id("session")
    expect(session).to_contain_text(asked.trace_id)  # the session is named after the asked trace
    items = session.locator("ol.ops-session > li")
    expect(items).to_have_count(2)
    expect(items.nth(0).get_by_role("link", name="What is it?")).to_have_attribute(
        "href", reverse("admin:inspector_trace_change", args=[asked.pk]))
    expect(items.nth(1)).to_contain_text("What is it? — checkout-api (this trace)")
    expect(page.get_by_test_id("ask-user-card")).to_have_count(0)  # the answer was enough: nothing more to ask
    save_screenshot(page, "session-reply.png")
