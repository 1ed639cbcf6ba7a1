"""The admin home in a real browser: the four screens reached from it, the day's figures, the icon, both themes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.models import Asset, Trace
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_day(transactional_db):
    """Three pipeline runs today (one failed), a golden query that passed and one that failed."""
    reference_assets_install()
    runs = [pipeline_run(context=ExecutionContext(question=question))
            for question in ("What does checkout depend on?", "Who owns pg-orders-prod?", "Is checkout-api slow?")]
    Trace.objects.filter(pk=runs[2].pk).update(status="error")
    for name, verdict in (("checkout-dependencies", "PASS"), ("orders-owner", "FAIL")):
        query = GoldenQuery.objects.create(name=name, question=name)
        baseline = Baseline.objects.create(golden_query=query, trace=runs[0])
        analysis = RegressionAnalysis.objects.create(kind="pair", status="completed", score=90, verdict=verdict)
        RegressionRun.objects.create(golden_query=query, baseline=baseline, analysis=analysis, status="completed",
                                     finished_at=runs[0].started_at)
    return runs


def test_home_shows_the_days_figures_and_reaches_each_screen(staff_page, live_server, busy_day):
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + reverse("admin:index"))
    expect(page.get_by_test_id("card-traces-today").locator(".ops-card-value")).to_have_text("3")
    expect(page.get_by_test_id("card-failures-today").locator(".ops-card-value")).to_have_text("1")
    expect(page.get_by_test_id("card-open-breakers")).to_contain_text("no breaker open")
    verdicts = page.get_by_test_id("golden-verdicts")
    expect(verdicts.locator("tbody tr")).to_have_count(2)
    expect(verdicts.locator(".ops-status", has_text="FAIL")).to_have_css("text-transform", "uppercase")
    expect(page.locator("#content-main .app-inspector")).to_be_visible()  # Django's app list, below

    # A failure count opens the trace list filtered to today's failures.
    page.get_by_test_id("card-failures-today").get_by_role("link", name="1").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#changelist-filter li.selected", has_text="Today")).to_be_visible()

    # Search by trace id: the trace list finds it; its row opens the trace page.
    page.goto(live_server.url + reverse("admin:index"))
    page.get_by_test_id("trace-search").fill(busy_day[1].trace_id)
    page.get_by_test_id("trace-search").press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list tbody tr th a").click()
    expect(page).to_have_url(re.compile(rf"/admin/inspector/trace/{busy_day[1].pk}/change/"))

    page.goto(live_server.url + reverse("admin:index"))
    page.get_by_test_id("screen-timeline").get_by_role("link", name="Replan timeline").click()
    expect(page).to_have_url(re.compile(r"/admin/controlloop/replanevent/timeline/$"))

    page.goto(live_server.url + reverse("admin:index"))
    event_history = Asset.objects.get(name="event_history")
    page.get_by_test_id("impact-asset").select_option(str(event_history.pk))
    page.get_by_test_id("impact-open").click()
    expect(page).to_have_url(re.compile(rf"/admin/inspector/asset/{event_history.pk}/impact/"))
    expect(page.locator("h1")).to_contain_text("event_history")

    page.goto(live_server.url + reverse("admin:index"))
    page.get_by_test_id("overrides-link").click()
    expect(page).to_have_url(re.compile(r"/test-overrides/$"))


def test_home_screenshots_in_both_themes(staff_page, live_server, busy_day):
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + reverse("admin:index"))
    failures = page.get_by_test_id("card-failures-today").locator(".ops-card-value")
    colours = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        colours[scheme] = failures.evaluate("e => getComputedStyle(e).color")
        save_screenshot(page, f"admin-home-{scheme}.png")
    assert colours == {"light": "rgb(198, 40, 40)", "dark": "rgb(239, 154, 154)"}


def test_empty_home_says_what_to_do(staff_page, live_server):
    page = staff_page
    page.goto(live_server.url + reverse("admin:index"))
    expect(page.get_by_test_id("no-traces-today")).to_contain_text("Traces arrive from the pipeline")
    expect(page.get_by_test_id("no-golden-verdicts")).to_contain_text("No golden-query run has finished yet.")
    expect(page.get_by_test_id("screen-impact")).to_contain_text("No asset yet")


def test_favicon_answers_200_and_no_page_asks_for_a_missing_one(page, live_server, staff_user):
    missing = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    response = page.request.get(live_server.url + "/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    page.goto(live_server.url + reverse("admin:login"))
    icon = page.locator('link[rel=icon][type="image/svg+xml"]').get_attribute("href")
    assert page.request.get(live_server.url + icon).status == 200
    assert missing == []
