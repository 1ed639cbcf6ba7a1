"""The replan timeline in a real browser: crowded spots, zoom, a decision's chain and outcome, wording, links, errors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from controlloop.contracts import ReplanTrigger
from controlloop.services import replan_decide, replan_record_execution
from controlloop.timeline_layout import MAX_ROWS
from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser

TIMELINE = "admin:controlloop_timeline"
STAGES = {"empty_result": "execute", "timeout": "execute", "slot_missing": "route_plan", "policy_violation": "validate"}
BURST = MAX_ROWS + 3  # more timeouts at one spot than a lane has rows


@pytest.fixture
def replanned(transactional_db):
    reference_assets_install()
    good = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 today"))
    pipeline_run(context=ExecutionContext(question="List all servers last 400 days"))
    return good


@pytest.fixture
def exhausted(transactional_db):
    """A run whose two replans both failed, so its third trigger is denied: no replans left."""
    reference_assets_install()
    return pipeline_run(context=ExecutionContext(question="Events on zz-nowhere-01 today"))


def decide(trace_id: str, at, trigger: str = "empty_result", severity: str = "medium"):
    return replan_decide(trace_id=trace_id, tenant_id="default", now=at, plan={"params": {"days": 1}},
                         trigger=ReplanTrigger(trigger_type=trigger, stage_name=STAGES[trigger], severity=severity,
                                               reason=f"{trigger} seen"))


def executed(record, *, succeeded: bool, after_ms: int = 16) -> None:
    if record.decision.approved and record.decision.decision == "auto_retry":
        replan_record_execution(decision_event=record.decision_event, succeeded=succeeded,
                                now=record.decision_event.created_at + timedelta(milliseconds=after_ms))


@pytest.fixture
def crowded(transactional_db):
    """Issue 19's week: 63 empty_result decisions at 40 moments (a failed replan and the next one, milliseconds
    apart), a burst of timeouts at one spot, a few questions asked back and runs stopped."""
    now = timezone.now()
    for run in range(40):
        at = now - timedelta(days=7) + timedelta(hours=4 * run + 1)
        first = decide(f"crowd-{run:02d}", at, severity=("low", "medium", "high", "critical")[run % 4])
        executed(first, succeeded=run >= 23)
        if run < 23:
            executed(decide(f"crowd-{run:02d}", at + timedelta(milliseconds=32)), succeeded=True)
        if run % 9 == 4:
            decide(f"ask-{run:02d}", at + timedelta(minutes=30), trigger="slot_missing")
        if run % 11 == 6:
            decide(f"stop-{run:02d}", at + timedelta(minutes=50), trigger="policy_violation", severity="high")
    for index in range(BURST):
        executed(decide(f"burst-{index}", now - timedelta(hours=2) + timedelta(milliseconds=100 * index),
                        trigger="timeout", severity="high"), succeeded=True)
    return now


def open_timeline(page, live_server, query: str = "") -> None:
    page.goto(live_server.url + reverse(TIMELINE) + query)


def test_timeline_from_trace_page_shows_the_chain_its_outcome_and_the_patch(staff_page, live_server, replanned):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[replanned.pk]))
    expect(page.get_by_test_id("replans")).to_contain_text("empty_result")
    page.get_by_test_id("timeline-link").click()

    events = page.get_by_test_id("timeline-event")
    expect(events).to_have_count(1)
    expect(events.first).to_have_attribute("data-outcome", "succeeded")
    expect(page.get_by_test_id("legend")).to_contain_text("empty_result")
    events.first.click()
    expect(page.get_by_test_id("event-heading")).to_have_text("empty_result on execute — replanned · re-run succeeded")
    steps = page.get_by_test_id("chain").locator("li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("Requested")
    expect(steps.nth(1)).to_contain_text("Decided")
    expect(steps.nth(1)).to_contain_text("auto_retry")
    expect(steps.nth(2)).to_contain_text("Re-run")
    expect(steps.nth(2)).to_contain_text("succeeded — the re-run cleared the trigger")
    expect(steps.nth(2)).to_contain_text(re.compile(r"\(\+\d+ ms\)"))
    diff = page.get_by_test_id("patch-diff")
    row = diff.locator("tr", has_text="/params/days")
    expect(row.locator(".ops-before")).to_have_text("1")
    expect(row.locator(".ops-after")).to_have_text("4")
    expect(diff.locator("tr", has_text="/params/environment")).to_contain_text("remove")


def test_stop_with_guidance_reads_as_a_stop_not_an_approval(staff_page, live_server, replanned):
    page = staff_page
    open_timeline(page, live_server)
    expect(page.get_by_test_id("timeline-event")).to_have_count(2)
    page.select_option("select[name=trigger_type]", "policy_violation")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("timeline-event")).to_have_count(1)
    page.get_by_test_id("timeline-event").first.click()
    details = page.get_by_test_id("event-details")
    expect(page.get_by_test_id("event-heading")).to_have_text("policy_violation on validate — stopped with guidance")
    expect(page.get_by_test_id("chain").locator("li").last).to_have_text(re.compile("Outcome.*stopped with guidance"))
    expect(details).not_to_contain_text("approved ·")
    expect(details).to_contain_text("No change to the plan.")
    page.select_option("select[name=trigger_type]", "")
    page.select_option("select[name=decision]", "ask_user")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("timeline-event")).to_have_count(0)
    expect(page.locator("#timeline-empty")).to_be_visible()


def test_a_denied_replan_says_none_are_left_and_its_trace_shows_failed_re_runs(staff_page, live_server, exhausted):
    page = staff_page
    open_timeline(page, live_server, f"?trace={exhausted.trace_id}")
    events = page.get_by_test_id("timeline-event")
    expect(events).to_have_count(3)
    denied = page.locator("[data-testid=timeline-event][data-outcome=denied]")
    denied.click()
    details = page.get_by_test_id("event-details")
    expect(page.get_by_test_id("event-heading")).to_contain_text("replan denied (no replans left)")
    expect(details.locator("tr[data-fact=Replan]")).to_contain_text("none left: 2 of 2 replans already used")
    expect(details).not_to_contain_text("3 of 2")
    # The trace's other decisions: the two replans whose re-runs failed, one click away.
    related = page.get_by_test_id("related-events").locator("button")
    expect(related).to_have_count(3)
    expect(related.nth(0)).to_contain_text("re-run failed")
    related.nth(0).click()
    expect(details.locator("tr[data-fact=Replan]")).to_contain_text("replan 1 of 2, restarting from execute")
    expect(page.locator(".ops-trace-path")).to_have_count(1)


def test_the_trace_id_links_to_the_trace_page(staff_page, live_server, replanned):
    page = staff_page
    open_timeline(page, live_server, f"?trace={replanned.trace_id}")
    page.get_by_test_id("timeline-event").first.click()
    link = page.get_by_test_id("trace-link")
    expect(link).to_have_text(replanned.trace_id)
    link.click()
    page.wait_for_url(live_server.url + reverse("admin:inspector_trace_change", args=[replanned.pk]))
    expect(page.get_by_test_id("replans")).to_contain_text("empty_result")


def test_times_are_readable_and_the_axis_ends_now(staff_page, live_server, crowded):
    page = staff_page
    open_timeline(page, live_server)
    moment = r"\d{2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2} UTC"
    expect(page.get_by_test_id("axis-range")).to_have_text(re.compile(f"^{moment} – {moment}$"))
    axis = page.evaluate("JSON.parse(document.getElementById('timeline-data').textContent).axis")
    assert axis["endMs"] == axis["nowMs"] <= page.evaluate("Date.now()") + 1000
    assert axis["endMs"] - axis["startMs"] == 7 * 86400 * 1000
    page.get_by_test_id("timeline-event").first.click()
    expect(page.locator("#event-details tr[data-fact=Time]")).to_contain_text(re.compile(moment))
    expect(page.get_by_test_id("event-details")).not_to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2}\.\d{6}|T\d{2}:"))


def test_63_overlapping_decisions_are_all_visible_and_clickable(staff_page, live_server, crowded):
    page = staff_page
    open_timeline(page, live_server, "?trigger_type=empty_result")
    events = page.get_by_test_id("timeline-event")
    expect(events).to_have_count(63)
    expect(page.get_by_test_id("timeline-cluster")).to_have_count(0)
    boxes = page.eval_on_selector_all("[data-testid=timeline-event] circle", """circles => circles.map(c => {
        const b = c.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2, b.width / 2]; })""")
    for i, (x1, y1, r1) in enumerate(boxes):
        for x2, y2, r2 in boxes[i + 1:]:
            assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 >= r1 + r2, "two events overlap"
    heading = page.get_by_test_id("event-heading")
    for index in range(63):
        # Playwright clicks only what would receive the click: an event under another would time out here.
        events.nth(index).click(timeout=3000)
        expect(events.nth(index)).to_have_class(re.compile("selected"))
    expect(heading).to_contain_text("empty_result on execute")


def test_a_crowded_spot_lists_its_decisions_and_zooms_to_them(staff_page, live_server, crowded):
    page = staff_page
    open_timeline(page, live_server, "?trigger_type=timeout")
    expect(page.get_by_test_id("timeline-event")).to_have_count(MAX_ROWS)
    cluster = page.get_by_test_id("timeline-cluster")
    expect(cluster).to_have_count(1)
    expect(cluster).to_contain_text(f"+{BURST - MAX_ROWS}")
    cluster.click()
    listed = page.get_by_test_id("cluster-events").locator("button")
    expect(listed).to_have_count(BURST - MAX_ROWS)
    listed.first.click()
    expect(page.get_by_test_id("event-heading")).to_have_text("timeout on execute — replanned · re-run succeeded")
    cluster.click()
    page.get_by_test_id("cluster-zoom").click()
    page.wait_for_url(re.compile(r"from=.*&to=|to=.*&from="))
    # Zoomed to whole seconds around the listed ones: the burst spreads out, each on its own.
    expect(page.get_by_test_id("timeline-event")).to_have_count(BURST)
    expect(page.get_by_test_id("timeline-cluster")).to_have_count(0)


def test_dragging_across_the_chart_zooms_to_that_range_and_back(staff_page, live_server, crowded):
    page = staff_page
    open_timeline(page, live_server, "?trigger_type=empty_result")
    expect(page.get_by_test_id("timeline-event")).to_have_count(63)
    week = page.get_by_test_id("axis-range").text_content()
    plot = page.locator(".ops-plot").bounding_box()
    y = plot["y"] + plot["height"] - 4  # under the lanes: an empty strip, no event to click by mistake
    page.mouse.move(plot["x"] + plot["width"] * 0.70, y)
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] * 0.85, y, steps=5)
    expect(page.locator(".ops-brush")).to_be_visible()
    page.mouse.up()
    page.wait_for_url(re.compile("from="))
    shown = page.get_by_test_id("timeline-event")
    expect(shown).not_to_have_count(63)
    assert 0 < shown.count() < 63
    expect(page.get_by_test_id("axis-range")).not_to_have_text(week)
    expect(page.locator("input[name=from]")).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$"))
    # The zoom is a filter: other filters stay, and another one keeps the zoom.
    expect(page.locator("select[name=trigger_type]")).to_have_value("empty_result")
    zoomed = shown.count()
    page.get_by_test_id("zoom-in").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("timeline-event")).not_to_have_count(zoomed)
    page.get_by_test_id("zoom-reset").click()
    expect(page.get_by_test_id("timeline-event")).to_have_count(63)
    expect(page.get_by_test_id("axis-range")).to_have_text(re.compile(r"–"))


def test_an_invalid_date_shows_an_error_and_keeps_the_value(staff_page, live_server, crowded):
    page = staff_page
    open_timeline(page, live_server)
    page.fill("input[name=from]", "31/01/2026")
    page.get_by_role("button", name="Filter").click()
    error = page.get_by_test_id("filter-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("from: '31/01/2026' is not a date or a time; write YYYY-MM-DD or YYYY-MM-DD HH:MM")
    expect(page.locator("input[name=from]")).to_have_value("31/01/2026")
    expect(page.locator("input[name=from]")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("timeline-event")).to_have_count(0)
    expect(page.locator("#timeline-empty")).to_have_count(0)  # not "no decisions match": the filter was not read


def test_timeline_screenshots(staff_page, live_server, crowded, replanned):
    page = staff_page
    open_timeline(page, live_server)
    page.locator("[data-testid=timeline-event][data-outcome=failed]").nth(3).click()
    expect(page.get_by_test_id("chain")).to_be_visible()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"replan-timeline-{scheme}.png")
    expect(page.get_by_test_id("event-details")).to_be_visible()
