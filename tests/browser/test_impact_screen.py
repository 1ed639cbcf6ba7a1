"""The asset impact screen in a real browser: figures match the API, switch versions, export CSV."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.models import Asset
from inspector.pipeline.runner import pipeline_run
from inspector.reference.assets import reference_assets_install, reference_v2_install
from regression.impact.report import asset_impact
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser
QUESTIONS = ["Events on checkout-api last 30 days", "Events on pg-orders-prod last 14 days",
             "Incidents on billing-service last 30 days"]


@pytest.fixture
def two_versions(transactional_db):
    reference_assets_install()
    for question in QUESTIONS * 2:
        pipeline_run(context=ExecutionContext(question=question))
    reference_v2_install(publish=True)  # event_history v2 hides info events: fewer rows, fewer references
    for question in QUESTIONS * 2:
        pipeline_run(context=ExecutionContext(question=question))
    return Asset.objects.get(name="event_history")


def test_impact_screen_matches_the_api_switches_versions_and_exports(staff_page, live_server, two_versions):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_asset_change", args=[two_versions.pk]))
    page.get_by_test_id("impact-link").click()
    report = asset_impact(asset=two_versions)
    assert (report["base"], report["target"]) == (1, 2)
    target = report["metrics"]["target"]
    expect(page.get_by_test_id("card-traces")).to_have_text(str(target["traces"]))
    expect(page.get_by_test_id("card-refs")).to_have_text(str(target["mean_references"]))
    expect(page.get_by_test_id("risk")).to_contain_text(report["risk"]["level"])
    expect(page.get_by_test_id("version-history")).to_contain_text("v2 (published)")
    rows_row = page.get_by_test_id("comparison").locator('tr[data-metric="mean_rows"]')
    expect(rows_row).to_contain_text("▼")
    expect(page.get_by_test_id("radar").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("recommendations").locator("li").first).to_be_visible()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"asset-impact-{scheme}.png")

    page.get_by_test_id("base-select").select_option("2")
    page.get_by_test_id("target-select").select_option("1")
    page.get_by_test_id("compare").click()
    expect(page.locator("h2", has_text="compared with")).to_contain_text("v1 compared with v2")
    swapped = asset_impact(asset=two_versions, base="2", target="1")
    expect(page.get_by_test_id("card-traces")).to_have_text(str(swapped["metrics"]["target"]["traces"]))

    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename == "impact-query-event_history.csv"
    content = open(download.path(), encoding="utf-8").read()
    assert content.startswith("section,metric,base,target") and "comparison,mean_rows" in content


def test_impact_screen_empty_state(staff_page, live_server, transactional_db):
    reference_assets_install()
    unused = Asset.objects.get(name="ci_count")
    staff_page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[unused.pk]))
    expect(staff_page.get_by_test_id("impact-empty")).to_contain_text("No stored trace applied")
