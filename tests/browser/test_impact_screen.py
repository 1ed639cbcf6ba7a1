"""The asset impact screen in a real browser: figures match the API, switch versions, export CSV."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from impact.report import asset_impact
from inspector.contracts import ExecutionContext
from inspector.models import Asset
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install, reference_v2_install
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


def test_impact_screen_says_which_days_come_from_the_rollup(staff_page, live_server, transactional_db):
    from datetime import UTC, datetime, timedelta

    from inspector.services import asset_create, asset_version_create, trace_ingest
    from inspector.services.rollups import usage_rollup
    from testkit.factories import VALID_SPECS, trace_body

    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5})
    three_days_ago = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    for number in range(6):
        body = trace_body(trace_id=f"old-{number}", duration_ms=100 + 10 * number,
                          started_at=three_days_ago.isoformat(),
                          applied_assets={"query": f"ci_lookup@{1 + number % 2}"})
        trace_ingest(payload=body)
    usage_rollup()

    staff_page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[lookup.pk]))
    expect(staff_page.get_by_test_id("card-traces")).to_have_text("3")
    note = staff_page.get_by_test_id("rollup-note")
    expect(note).to_contain_text("read from the daily roll-up")
    expect(note).to_contain_text("within about 2.5 %")

    # A range of today only: nothing rolled inside it, no traces, no note.
    staff_page.locator('input[name="from"]').fill(datetime.now(UTC).date().isoformat())
    staff_page.get_by_test_id("compare").click()
    expect(staff_page.get_by_test_id("impact-empty")).to_contain_text("in this range")
    expect(staff_page.get_by_test_id("rollup-note")).to_have_count(0)


def test_impact_screen_toggles_test_mode_traces(staff_page, live_server, transactional_db):
    from datetime import UTC, datetime

    from inspector.services import asset_create, asset_version_create, trace_ingest
    from testkit.factories import VALID_SPECS, trace_body

    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5})
    now = datetime.now(UTC).isoformat()
    for number, test_mode in enumerate([False, False, False, True, True]):  # two override-test runs of v2
        trace_ingest(payload=trace_body(trace_id=f"run-{number}", started_at=now, test_mode=test_mode,
                                        applied_assets={"query": "ci_lookup@2"}))

    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[lookup.pk]))
    expect(page.get_by_test_id("card-traces")).to_have_text("3")
    expect(page.get_by_test_id("traffic-scope")).to_contain_text("Production traffic only")
    toggle = page.get_by_test_id("test-mode-toggle")
    expect(toggle).to_have_text("Include test-mode traces")

    toggle.click()
    expect(page.get_by_test_id("card-traces")).to_have_text("5")
    expect(page.get_by_test_id("traffic-scope")).to_contain_text("Production and test-mode traffic")
    expect(toggle).to_have_text("Production traffic only")
    page.get_by_test_id("compare").click()  # the filter form keeps the choice
    expect(page.get_by_test_id("card-traces")).to_have_text("5")

    toggle.click()
    expect(page.get_by_test_id("card-traces")).to_have_text("3")
    expect(page.get_by_test_id("traffic-scope")).to_contain_text("Production traffic only")
