"""The replan timeline in a real browser: events, legend, filters, a selected event's patch diff."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def replanned(transactional_db):
    reference_assets_install()
    good = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 today"))
    pipeline_run(context=ExecutionContext(question="List all servers last 400 days"))
    return good


def test_timeline_from_trace_page_shows_event_and_patch_diff(staff_page, live_server, replanned):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[replanned.pk]))
    expect(page.get_by_test_id("replans")).to_contain_text("empty_result")
    page.get_by_test_id("timeline-link").click()

    events = page.get_by_test_id("timeline-event")
    expect(events).to_have_count(1)
    expect(page.get_by_test_id("legend")).to_contain_text("empty_result")
    events.first.click()
    details = page.get_by_test_id("event-details")
    expect(details).to_contain_text("empty_result on execute — approved")
    expect(details).to_contain_text("auto_retry")
    diff = page.get_by_test_id("patch-diff")
    row = diff.locator("tr", has_text="/params/days")
    expect(row.locator(".ops-before")).to_have_text("1")
    expect(row.locator(".ops-after")).to_have_text("4")
    expect(diff.locator("tr", has_text="/params/environment")).to_contain_text("remove")


def test_timeline_across_traces_filters_by_trigger_and_decision(staff_page, live_server, replanned):
    page = staff_page
    page.goto(live_server.url + reverse("admin:controlloop_timeline"))
    expect(page.get_by_test_id("timeline-event")).to_have_count(2)
    page.select_option("select[name=trigger_type]", "policy_violation")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("timeline-event")).to_have_count(1)
    page.get_by_test_id("timeline-event").first.click()
    expect(page.get_by_test_id("event-details")).to_contain_text("stop_with_guidance")
    expect(page.get_by_test_id("event-details")).to_contain_text("No change to the plan.")
    page.select_option("select[name=trigger_type]", "")
    page.select_option("select[name=decision]", "ask_user")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("timeline-event")).to_have_count(0)
    expect(page.locator("#timeline-empty")).to_be_visible()


def test_timeline_screenshots(staff_page, live_server, replanned):
    page = staff_page
    page.goto(live_server.url + reverse("admin:controlloop_timeline"))
    page.get_by_test_id("timeline-event").first.click()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"replan-timeline-{scheme}.png")
    expect(page.get_by_test_id("event-details")).to_be_visible()
