"""The asset override (test mode) screen in a real browser, from a trace to a verdict."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install, reference_v2_install
from testkit.factories import UserFactory
from testkit.plugin import grant
from tests.browser.conftest import PASSWORD, login, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_trace(transactional_db):
    reference_assets_install()
    reference_v2_install(publish=False)  # version 2s exist as drafts; v2 of event_history hides info events
    return pipeline_run(context=ExecutionContext(question="Events on checkout-api last 30 days"))


def test_override_flow_from_trace_to_verdict(staff_page, live_server, demo_trace):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[demo_trace.pk]))
    page.get_by_test_id("test-overrides").click()
    expect(page.get_by_test_id("test-mode-banner")).to_contain_text("TEST MODE")
    save_screenshot(page, "override-1-picker.png")

    chips = page.get_by_test_id("type-chips")
    expect(chips.locator('[data-type="query"]')).to_contain_text("query (6)")
    chips.locator('[data-type="query"]').click()
    expect(page.locator(".ops-asset")).to_have_count(6)
    page.get_by_test_id("asset-search").fill("event")
    expect(page.locator(".ops-asset")).to_have_count(1)
    asset = page.locator('.ops-asset[data-asset="query:event_history"]')
    expect(asset).to_contain_text("used v1")
    expect(asset.locator('.ops-version[data-version="2"]')).to_contain_text("draft")
    asset.locator('.ops-version[data-version="2"] .ops-add').click()

    expect(page.get_by_test_id("override-list")).to_contain_text("query = event_history@2")
    expect(page.get_by_test_id("reason")).to_have_value(f"Testing query:event_history@2 against trace {demo_trace.trace_id}")
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("event_history@1 → event_history@2")
    expect(preview).to_contain_text("consumed by EXECUTE")
    expect(preview.locator("tr", has_text="/sql")).to_contain_text("severity != 'info'")
    save_screenshot(page, "override-2-preview.png")

    page.get_by_test_id("single-stage").select_option("execute")
    page.get_by_test_id("run-stage").click()
    expect(page.get_by_test_id("stage-result")).to_contain_text("change(s) in the output")

    expect(page.get_by_test_id("run")).to_be_disabled()
    page.get_by_test_id("confirm").check()
    save_screenshot(page, "override-3-confirm.png")
    page.get_by_test_id("run").click()

    expect(page.get_by_test_id("test-status")).to_have_text("completed", timeout=20_000)
    verdict = page.get_by_test_id("verdict")
    expect(verdict).not_to_have_text("PASS")
    expect(page.get_by_test_id("stage-issues")).to_contain_text("EXECUTE")
    save_screenshot(page, "override-4-result.png")
    page.get_by_test_id("diff-link").click()
    expect(page.get_by_test_id("analysis")).to_be_visible()


def test_user_without_test_mode_permission_sees_no_button_and_gets_403(page, live_server, demo_trace):
    user = UserFactory(username="viewer-only", password=PASSWORD, is_staff=True)
    grant(user, "inspector.view_trace")
    login(page, live_server, "viewer-only")
    page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[demo_trace.pk]))
    expect(page.get_by_test_id("question")).to_be_visible()
    expect(page.get_by_test_id("test-overrides")).to_have_count(0)
    response = page.goto(live_server.url + reverse("admin:inspector_trace_overrides", args=[demo_trace.pk]))
    assert response.status == 403
