"""The regression screens in a real browser: an analysis's page, Start analysis… on a trace, golden query runs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.runner import pipeline_run
from inspector.services import trace_ingest
from reference.assets import reference_assets_install
from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun
from regression.services import analysis_request, golden_query_set_baseline
from testkit.factories import stage_body, trace_body
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser
QUESTION = "Events on checkout-api last 30 days"


def _ingest(trace_id: str, *, execute_status: str = "ok", rows: int = 1, minute: int = 0) -> str:
    body = trace_body(trace_id=trace_id, started_at=f"2026-11-20T10:{minute:02d}:00Z")
    body["stages"][2] = stage_body("execute", status=execute_status, duration_ms=12 + minute)
    body["stages"][2]["output"]["diagnostics"]["counts"] = {"rows": rows}
    trace_ingest(payload=body)
    return trace_id


def _analysis_url(live_server, analysis: RegressionAnalysis) -> str:
    return live_server.url + reverse("admin:regression_regressionanalysis_change", args=[analysis.pk])


@pytest.fixture
def failing_pair(transactional_db) -> RegressionAnalysis:
    return analysis_request(baseline_trace_ids=[_ingest("base-1")],
                            candidate_trace_ids=[_ingest("cand-1", execute_status="error", rows=0, minute=1)])


def test_an_analysis_page_shows_stage_rows_with_issues_and_links_to_both_traces(staff_page, live_server,
                                                                                failing_pair):
    page = staff_page
    page.goto(_analysis_url(live_server, failing_pair))

    expect(page.get_by_test_id("analysis-verdict")).to_have_text("FAIL")
    rows = page.get_by_test_id("stage-row")
    expect(rows).to_have_count(5)
    execute = page.locator('[data-testid="stage-row"][data-stage="execute"]')
    expect(execute.get_by_test_id("stage-verdict")).to_have_text("FAIL")
    expect(execute).to_contain_text("EXECUTE")
    status_issue = execute.get_by_test_id("issue-row").filter(has_text="/diagnostics/status")
    expect(status_issue.get_by_test_id("issue-before")).to_have_text('"ok"')
    expect(status_issue.get_by_test_id("issue-after")).to_have_text('"error"')
    expect(page.locator('[data-stage="validate"]').get_by_test_id("stage-verdict")).to_have_text("PASS")
    expect(page.get_by_test_id("critical-issues")).to_be_visible()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"regression-analysis-{scheme}.png")
    page.emulate_media(color_scheme="light")

    page.get_by_test_id("candidate-link").click()
    expect(page.locator("h1")).to_have_text("Trace cand-1")
    page.go_back()
    page.get_by_test_id("baseline-link").click()
    expect(page.locator("h1")).to_have_text("Trace base-1")


def test_a_group_analysis_page_shows_the_statistics_table(staff_page, live_server, transactional_db):
    analysis = analysis_request(baseline_trace_ids=[_ingest(f"gb-{n}", minute=n) for n in range(4)],
                                candidate_trace_ids=[_ingest(f"gc-{n}", minute=10 + n) for n in range(4)])
    page = staff_page
    page.goto(_analysis_url(live_server, analysis))

    table = page.get_by_test_id("statistics-table")
    expect(table.locator('[data-name="execute duration_ms"]')).to_contain_text("EXECUTE")
    expect(table.locator('[data-name="execute duration_ms"]')).to_contain_text("n=4+4")
    expect(page.get_by_test_id("baseline-link")).to_have_count(4)
    expect(page.get_by_test_id("candidate-link")).to_have_count(4)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"regression-statistics-{scheme}.png")


def test_start_an_analysis_from_a_trace_by_picking_its_baseline(staff_page, live_server, transactional_db):
    for trace_id, minute in (("older", 1), ("newer", 2)):
        _ingest(trace_id, minute=minute)
    _ingest("current", execute_status="error", rows=0, minute=3)
    page = staff_page
    current = Trace.objects.get(trace_id="current")
    page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[current.pk]))

    page.get_by_test_id("start-analysis").click()
    picker = page.get_by_test_id("baseline-picker")
    expect(picker.get_by_test_id("baseline-choice")).to_have_count(2)
    expect(picker.get_by_test_id("baseline-choice").first).to_contain_text("newer")
    older = picker.locator('[data-trace="older"] input[type=radio]')
    older.check()
    save_screenshot(page, "regression-start-analysis.png")

    page.get_by_test_id("baseline-id").fill("no-such-trace")  # typing an id clears the picked one
    expect(older).not_to_be_checked()
    page.get_by_test_id("start-analysis-submit").click()
    expect(page.get_by_test_id("start-analysis-error")).to_contain_text("unknown trace id(s): no-such-trace")
    assert not RegressionAnalysis.objects.exists()

    picker.locator('[data-trace="older"] input[type=radio]').check()  # picking one clears the typed id
    expect(page.get_by_test_id("baseline-id")).to_have_value("")
    page.get_by_test_id("start-analysis-submit").click()

    expect(page.locator(".messagelist")).to_contain_text("Analysis of current against older started")
    expect(page.get_by_test_id("analysis-verdict")).to_have_text("FAIL")
    expect(page.get_by_test_id("baseline-link")).to_have_text("older")
    expect(page.get_by_test_id("candidate-link")).to_have_text("current")


@pytest.fixture
def golden(transactional_db) -> GoldenQuery:
    reference_assets_install()
    query = GoldenQuery.objects.create(name="checkout-events", question=QUESTION)
    golden_query_set_baseline(golden_query=query,
                              trace_id=pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id)
    return query


def test_run_a_golden_query_with_the_button_see_the_read_only_run_and_the_last_verdict(staff_page, live_server,
                                                                                       golden):
    page = staff_page
    page.goto(live_server.url + reverse("admin:regression_goldenquery_changelist"))
    expect(page.locator("#result_list tbody tr")).to_contain_text("never run")
    page.get_by_role("link", name="checkout-events").click()

    page.get_by_test_id("run-golden").click()
    expect(page.locator(".messagelist")).to_contain_text("of checkout-events started (completed)")
    run = RegressionRun.objects.get()
    expect(page.locator(".field-verdict .readonly")).to_have_text("PASS")
    expect(page.locator(".field-started_at .readonly")).to_be_visible()
    expect(page.locator("#content-main input[name^=started_at]")).to_have_count(0)
    expect(page.locator('#content-main input[type="submit"]')).to_have_count(0)
    save_screenshot(page, "regression-run.png")
    page.locator(".field-analysis a").click()
    expect(page.get_by_test_id("analysis-verdict")).to_have_text("PASS")
    expect(page.locator("body")).to_contain_text(f"run #{run.pk}")

    page.goto(live_server.url + reverse("admin:regression_goldenquery_changelist"))
    row = page.locator("#result_list tbody tr", has_text="checkout-events")
    expect(row.locator(".field-last_verdict .ops-status")).to_have_text("PASS")
    expect(row.locator(".field-last_run time")).to_have_text("just now")
    expect(row.locator(".field-last_run time")).to_have_attribute(
        "title", run.finished_at.strftime("%Y-%m-%d %H:%M:%S UTC"))
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"golden-queries-{scheme}.png")

    page.emulate_media(color_scheme="light")
    row.get_by_role("link", name="checkout-events").click()
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    expect(page.get_by_test_id("run-row")).to_contain_text("PASS")
    save_screenshot(page, "golden-query.png")
