"""The golden-suite screens in a real browser: a suite's page, Record baseline, Start suite run, the verdict table."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install
from regression.services import suite_item_check
from regression.suite_models import GoldenSuite, SuiteItem
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser
QUESTION = "Events on checkout-api last 30 days"
ROWS = {"stage": "execute", "pointer": "/references", "op": "row_count", "min": 1}
INTENT = {"stage": "route_plan", "pointer": "/result/intent", "op": "equals", "value": "event_history"}


@pytest.fixture
def steady_stage_clock(monkeypatch):
    """Every stage takes 5 ms (the live server runs in this process): real timings jitter and would be scored."""
    from inspector.pipeline import executor

    ticks = itertools.count()
    monkeypatch.setattr(executor, "time", SimpleNamespace(perf_counter=lambda: next(ticks) * 0.005))


@pytest.fixture
def suite(transactional_db, steady_stage_clock) -> GoldenSuite:
    """Two items, run once each: a question, and the execute stage of a stored trace (one assertion fails)."""
    reference_assets_install()
    source = pipeline_run(context=ExecutionContext(question=QUESTION))
    suite = GoldenSuite.objects.create(name="checkout", repeats=1)
    for item in (SuiteItem(suite=suite, name="events-question", question=QUESTION, assertions=[ROWS, INTENT]),
                 SuiteItem(suite=suite, name="execute-rerun", kind="stage", stage="execute",
                           trace_id=source.trace_id, assertions=[{**ROWS, "min": 1000}], position=1)):
        suite_item_check(item=item)
        item.save()
    return suite


def test_record_a_baseline_run_the_suite_and_read_the_verdict_table(staff_page, live_server, suite):
    page = staff_page
    page.goto(live_server.url + reverse("admin:regression_goldensuite_change", args=[suite.pk]))
    expect(page.get_by_test_id("no-runs")).to_contain_text("No runs yet")
    expect(page.locator("#items-group")).to_contain_text("events-question")
    save_screenshot(page, "suite-1-page.png")

    page.get_by_test_id("record-baseline").click()
    expect(page.locator(".messagelist")).to_contain_text("Baseline recording")
    expect(page.get_by_test_id("run-status")).to_have_text("completed")
    expect(page.get_by_test_id("verdict-table").get_by_test_id("item-row")).to_have_count(2)
    page.get_by_role("link", name="checkout").first.click()

    expect(page.get_by_test_id("run-row")).to_have_count(1)
    page.get_by_test_id("start-run").click()
    expect(page.locator(".messagelist")).to_contain_text("Suite run")
    expect(page.get_by_test_id("run-status")).to_have_text("completed", timeout=20_000)
    expect(page.get_by_test_id("run-progress")).to_have_text("2 / 2")
    expect(page.get_by_test_id("run-verdict")).to_have_text("FAIL")

    table = page.get_by_test_id("verdict-table")
    expect(table.get_by_test_id("stage-column")).to_have_text(
        ["ROUTE_PLAN", "VALIDATE", "EXECUTE", "COMPOSE", "PRESENT"])
    question = table.locator('[data-item="events-question"]')
    expect(question.get_by_test_id("stage-chip")).to_have_count(5)
    expect(question.locator('[data-stage="execute"]')).to_have_text("PASS")
    expect(question.get_by_test_id("item-verdict")).to_have_text("PASS")
    expect(question.get_by_test_id("pass-k")).to_contain_text("1/1")
    expect(question.get_by_test_id("pass-k")).to_contain_text("pass^1")
    rerun = table.locator('[data-item="execute-rerun"]')
    expect(rerun.get_by_test_id("stage-chip")).to_have_count(1)
    expect(rerun.locator('[data-stage="route_plan"]')).to_have_text("—")
    expect(rerun.get_by_test_id("item-verdict")).to_have_text("FAIL")
    expect(rerun.get_by_test_id("pass-k")).to_contain_text("0/1")
    expect(rerun.get_by_test_id("failed-assertions")).to_contain_text("at least 1000 rows")
    save_screenshot(page, "suite-2-run.png")

    candidate = question.get_by_test_id("candidate-link")
    trace_id = candidate.get_attribute("title")
    candidate.click()
    expect(page.locator("body")).to_contain_text(trace_id)
    expect(page.get_by_test_id("question")).to_contain_text(QUESTION)
