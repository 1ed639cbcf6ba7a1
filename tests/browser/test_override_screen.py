"""The asset override (test mode) screen in a real browser, from a trace to a verdict."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install, reference_v2_install
from regression.models import OverrideTest
from testkit.factories import UserFactory
from testkit.plugin import grant
from tests.browser.conftest import PASSWORD, login, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_trace(transactional_db):
    reference_assets_install()
    reference_v2_install(publish=False)  # version 2s exist as drafts; v2 of event_history hides info events
    return pipeline_run(context=ExecutionContext(question="Events on checkout-api last 30 days"))


def chips_wrap_inside(chips) -> bool:
    """The chips of a list stand on more than one row and none sticks out of the list."""
    return chips.evaluate("""list => {
        const box = list.getBoundingClientRect();
        const rows = new Set([...list.children].map(c => Math.round(c.getBoundingClientRect().top)));
        return rows.size > 1 && list.scrollWidth <= list.clientWidth
            && [...list.children].every(c => c.getBoundingClientRect().right <= box.right + 0.5);
    }""")


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
    # The search waits for a pause in typing: five keys, one render of the list.
    renders = int(page.get_by_test_id("asset-list").get_attribute("data-renders"))
    page.get_by_test_id("asset-search").press_sequentially("event", delay=40)
    expect(page.locator(".ops-asset")).to_have_count(1)
    page.wait_for_timeout(400)
    assert int(page.get_by_test_id("asset-list").get_attribute("data-renders")) == renders + 1
    asset = page.locator('.ops-asset[data-asset="query:event_history"]')
    expect(asset).to_contain_text("used v1")
    expect(asset.locator('.ops-version[data-version="2"]')).to_contain_text("draft")
    asset.locator('.ops-version[data-version="2"] .ops-add').click()

    # The chosen version is highlighted in the picker, and only that one.
    chosen = asset.locator('.ops-version[data-version="2"]')
    expect(chosen).to_have_class("ops-version ops-version-chosen")
    expect(chosen).to_have_attribute("aria-current", "true")
    expect(chosen).to_contain_text("✓ chosen")
    expect(asset.locator(".ops-version-chosen")).to_have_count(1)
    background = "e => getComputedStyle(e).backgroundColor"
    assert chosen.evaluate(background) != asset.locator('.ops-version[data-version="1"]').evaluate(background)

    expect(page.get_by_test_id("override-list")).to_contain_text("query = event_history@2")
    expect(page.get_by_test_id("reason")).to_have_value(f"Testing query:event_history@2 against trace {demo_trace.trace_id}")
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("event_history@1 → event_history@2")
    expect(preview).to_contain_text("consumed by EXECUTE")
    # The SQL change as a line diff: one added line, unchanged lines around it.
    sql = preview.locator('tr[data-path="/sql"]').get_by_test_id("line-diff")
    expect(sql.locator(".ops-line-add")).to_have_count(1)
    expect(sql.locator(".ops-line-add")).to_have_text("+   AND e.severity != 'info'")
    expect(sql.locator(".ops-line-remove")).to_have_count(0)
    expect(sql.locator(".ops-line-same").first).to_be_visible()
    save_screenshot(page, "override-2-preview.png")

    page.get_by_test_id("single-stage").select_option("execute")
    page.get_by_test_id("run-stage").click()
    result = page.get_by_test_id("stage-result")
    expect(result).to_contain_text("change(s) in the output")
    # Applied assets as type → name@version chips that wrap inside the column, the override marked.
    applied = result.get_by_test_id("applied-assets")
    expect(applied.locator('li[data-type="query"]')).to_have_text("query → event_history@2")
    expect(applied.locator('li[data-type="query"]')).to_have_class("ops-chip ops-chip-static ops-chip-override")
    assert applied.locator("li").count() == 3 and "{" not in result.locator("p").first.inner_text()
    page.set_viewport_size({"width": 1100, "height": 1000})  # a narrower column: the chips go on two rows
    assert chips_wrap_inside(applied)
    page.set_viewport_size({"width": 1400, "height": 1000})

    # A reason is required: clearing it shows why nothing ran.
    expect(page.get_by_test_id("run")).to_be_disabled()
    page.get_by_test_id("reason").fill("")
    page.get_by_test_id("confirm").check()
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("reason-error")).to_be_visible()
    expect(page.get_by_test_id("reason-error")).to_contain_text("Say why you run this test")
    assert not OverrideTest.objects.exists()
    page.get_by_test_id("reason").fill("Hide info events from the history")
    expect(page.get_by_test_id("reason-error")).to_be_hidden()
    save_screenshot(page, "override-3-confirm.png")
    page.get_by_test_id("run").click()

    expect(page.get_by_test_id("test-status")).to_have_text("completed", timeout=20_000)
    verdict = page.get_by_test_id("verdict")
    expect(verdict).not_to_have_text("PASS")
    expect(page.get_by_test_id("stage-issues")).to_contain_text("EXECUTE")
    expect(page.get_by_test_id("test-reason")).to_have_text("Hide info events from the history")
    candidate_applied = page.get_by_test_id("candidate-applied")
    expect(candidate_applied.locator(".ops-chip-override")).to_have_text("query → event_history@2 draft")
    save_screenshot(page, "override-4-result.png")
    page.set_viewport_size({"width": 900, "height": 1000})
    assert chips_wrap_inside(candidate_applied)
    page.get_by_test_id("diff-link").click()
    expect(page.get_by_test_id("analysis")).to_be_visible()


def test_the_server_refuses_a_blank_reason_with_the_error_by_the_field(staff_page, live_server, demo_trace):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_trace_overrides", args=[demo_trace.pk]))
    page.locator('.ops-asset[data-asset="query:event_history"] .ops-version[data-version="2"] .ops-add').click()
    page.get_by_test_id("reason").fill("")
    # form.submit() skips the page's own check (and its submit event): the server must refuse too.
    page.eval_on_selector("#run-form", "form => { form.submit(); }")
    expect(page.get_by_test_id("override-error")).to_contain_text("Nothing was run")
    expect(page.get_by_test_id("reason-error")).to_contain_text("Say why you run this test")
    expect(page.get_by_test_id("override-list")).to_contain_text("query = event_history@2")  # kept for the retry
    assert not OverrideTest.objects.exists()


def test_preview_of_a_list_edit_names_each_removed_keyword(staff_page, live_server, transactional_db):
    """Issue 19: route_rules@2 → @1 showed `remove /rules/3/keywords/6 "slow"` three times."""
    reference_assets_install()
    reference_v2_install(publish=False)
    trace = pipeline_run(context=ExecutionContext(question="Is checkout-api slow?", test_mode=True,
                                                  asset_overrides={"prompt": "route_rules@2"}))
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_trace_overrides", args=[trace.pk]))
    page.get_by_test_id("type-chips").locator('[data-type="prompt"]').click()
    page.locator('.ops-asset[data-asset="prompt:route_rules"] .ops-version[data-version="1"] .ops-add').click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("route_rules@2 → route_rules@1")
    rows = preview.locator("tr.ops-patch-remove")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == [
        "/rules/3/keywords/6", "/rules/3/keywords/7", "/rules/3/keywords/8"]
    assert rows.locator(".ops-before").all_inner_texts() == ['"slow"', '"performance"', '"health"']


def test_user_without_test_mode_permission_sees_no_button_and_gets_403(page, live_server, demo_trace):
    user = UserFactory(username="viewer-only", password=PASSWORD, is_staff=True)
    grant(user, "inspector.view_trace")
    login(page, live_server, "viewer-only")
    page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[demo_trace.pk]))
    expect(page.get_by_test_id("question")).to_be_visible()
    expect(page.get_by_test_id("test-overrides")).to_have_count(0)
    response = page.goto(live_server.url + reverse("admin:inspector_trace_overrides", args=[demo_trace.pk]))
    assert response.status == 403
