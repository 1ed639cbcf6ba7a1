"""The asset impact screen in a real browser: figures match the API, read like a report, switch versions, export."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from impact.figures import figure, p_text
from impact.report import asset_impact
from inspector.contracts import ExecutionContext
from inspector.models import Asset, AssetVersion, Trace, TraceAssetUsage
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install, reference_v2_install
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser
QUESTIONS = ["Events on checkout-api last 30 days", "Events on pg-orders-prod last 14 days",
             "Incidents on billing-service last 30 days"]
RUNS_PER_VERSION = 7 * len(QUESTIONS)  # 21: enough for the significance tests (20 per version)
P_VALUE = re.compile(r"^(< 0\.001|\d(\.\d+)?|—)( ✱)?$")


def _run_spread(first: datetime, last: datetime) -> None:
    """Run every question RUNS_PER_VERSION / 3 times and date the new traces evenly from ``first`` to ``last``."""
    before = set(Trace.objects.values_list("pk", flat=True))
    for question in QUESTIONS * (RUNS_PER_VERSION // len(QUESTIONS)):
        pipeline_run(context=ExecutionContext(question=question))
    new = sorted(set(Trace.objects.values_list("pk", flat=True)) - before)
    step = (last - first) / max(1, len(new) - 1)
    for index, pk in enumerate(new):
        Trace.objects.filter(pk=pk).update(started_at=first + index * step)
        TraceAssetUsage.objects.filter(trace_id=pk).update(started_at=first + index * step)


def _dated(asset: Asset, version: int, *, created: datetime, published: datetime | None) -> None:
    AssetVersion.objects.filter(asset=asset, version=version).update(created_at=created, published_at=published)


def _passing_analysis_of(trace: Trace) -> None:
    """A completed PASS analysis whose golden run's candidate trace is ``trace`` (its version's regression health)."""
    from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun

    golden = GoldenQuery.objects.create(name="checkout-events", question=QUESTIONS[0])
    baseline = Baseline.objects.create(golden_query=golden, trace=trace)
    analysis = RegressionAnalysis.objects.create(kind="pair", status="completed", score=97, verdict="PASS")
    RegressionRun.objects.create(golden_query=golden, baseline=baseline, candidate_trace=trace, analysis=analysis,
                                 status="completed")


@pytest.fixture
def two_versions(transactional_db):
    """event_history v1 (published 20 days ago, used from 14 to 6 days ago) and v2 (created 7 days ago, published 6,
    used since), 21 traces each; one golden run of v2 passed, v1 has no analysis (no regression-health value)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    day = timedelta(days=1)
    reference_assets_install()
    event_history = Asset.objects.get(name="event_history")
    _dated(event_history, 1, created=now - 20 * day, published=now - 20 * day)
    _run_spread(now - 14 * day, now - 6 * day - timedelta(hours=2))
    reference_v2_install(publish=True)  # event_history v2 hides info events: fewer rows, fewer references
    _dated(event_history, 2, created=now - 7 * day, published=now - 6 * day)
    _run_spread(now - 6 * day, now - timedelta(hours=1))
    _passing_analysis_of(Trace.objects.filter(asset_usages__asset_version__asset=event_history,
                                              asset_usages__asset_version__version=2).first())
    return event_history


def test_impact_screen_matches_the_api_switches_versions_and_exports(staff_page, live_server, two_versions):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_asset_change", args=[two_versions.pk]))
    page.get_by_test_id("impact-link").click()
    report = asset_impact(asset=two_versions)
    assert (report["base"], report["target"]) == (1, 2)
    target = report["metrics"]["target"]
    expect(page.get_by_test_id("card-traces")).to_have_text(str(target["traces"]))
    expect(page.get_by_test_id("card-refs")).to_have_text(figure("mean_references", target["mean_references"]))
    expect(page.get_by_test_id("risk")).to_contain_text(report["risk"]["label"])
    rows_row = page.get_by_test_id("comparison").locator('tr[data-metric="mean_rows"]')
    expect(rows_row).to_contain_text("▼")
    expect(page.get_by_test_id("recommendations").locator("li").first).to_be_visible()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"asset-impact-{scheme}.png")
    page.emulate_media(color_scheme="light")

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
    assert content.startswith("Section,Item,Base (v2),Target (v1),Change,Change (%),p-value,Significant,Note")
    for row in ("Comparison,Rows returned per trace,", "Comparison,Cost per trace,", "Comparison,Tokens per trace,",
                "Comparison,EXECUTE median (ms),", "Risk,Level,", "Per stage,EXECUTE runs,", "Versions,v2 (published)"):
        assert row in content


def test_radar_draws_a_missing_value_as_missing(staff_page, live_server, two_versions):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[two_versions.pk]))
    radar = page.get_by_test_id("radar")
    # v2 has a regression-health score (one passing golden run): a whole polygon with a vertex on every axis.
    expect(radar.locator("polygon.ops-radar-target")).to_have_count(1)
    expect(radar.locator('circle.ops-radar-target[data-axis="regression_health"]')).to_have_count(1)
    expect(radar.locator('text[data-axis="regression_health"]')).to_contain_text("100")
    # v1 has none: no vertex there (not at 0, not at 100), no polygon through it, a gap, and a "no data" note.
    expect(radar.locator('circle.ops-radar-base[data-axis="regression_health"]')).to_have_count(0)
    expect(radar.locator("circle.ops-radar-base")).to_have_count(5)
    expect(radar.locator("polygon.ops-radar-base")).to_have_count(0)
    expect(radar.locator("path.ops-radar-base.ops-radar-edge")).to_have_count(1)
    expect(page.get_by_test_id("radar-no-data")).to_have_text("○ no data, not drawn: regression health (v1)")
    axes = page.get_by_test_id("axes").locator('tr[data-axis="regression_health"]')
    expect(axes).to_contain_text("no data")

    page.get_by_test_id("base-select").select_option("2")
    page.get_by_test_id("target-select").select_option("1")
    page.get_by_test_id("compare").click()  # now the target lacks it: its label says so
    expect(radar.locator('text[data-axis="regression_health"]')).to_contain_text("○ no data")
    expect(radar.locator('circle.ops-radar-target[data-axis="regression_health"]')).to_have_count(0)


def test_comparison_reads_with_names_percentages_and_p_values(staff_page, live_server, two_versions):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[two_versions.pk]))
    report = asset_impact(asset=two_versions)
    table = page.get_by_test_id("comparison")
    expect(table.locator('tr[data-metric="stage:execute:median_ms"] td').first).to_have_text("EXECUTE median (ms)")
    expect(table.locator('tr[data-metric="duration_median_ms"] td').first).to_have_text("Median duration (ms)")
    expect(table.locator('tr[data-metric="empty_rate"] td').first).to_have_text("Empty-result rate")
    for key in ("stage:", "_ms", "mean_", "_rate"):  # no metric key where a person reads
        expect(table).not_to_contain_text(key)
    expect(page.get_by_test_id("risk-reasons")).not_to_contain_text("_rate")
    expect(page.get_by_test_id("recommendations")).not_to_contain_text("stage:")

    error = table.locator('tr[data-metric="error_rate"] td')
    expect(error.nth(1)).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(error.nth(2)).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(error.nth(3)).to_have_text("=")  # no error in either version
    expect(page.get_by_test_id("card-error-rate")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(page.get_by_test_id("card-empty-rate")).to_have_text(re.compile(r"^\d+\.\d%$"))

    cells = table.get_by_test_id("p-value")
    for index in range(cells.count()):
        assert P_VALUE.match(cells.nth(index).inner_text().strip()), cells.nth(index).inner_text()
    for row in report["comparison"]:
        if row["p_value"] is not None:
            shown = p_text(row["p_value"]) + (" ✱" if row["significant"] else "")
            expect(table.locator(f'tr[data-metric="{row["metric"]}"]').get_by_test_id("p-value")).to_have_text(shown)
    assert any(row["p_value"] is not None for row in report["comparison"])  # 21 traces a version: tested
    expect(table).not_to_contain_text("0.0000")


def test_version_history_is_a_timeline(staff_page, live_server, two_versions):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[two_versions.pk]))
    history = page.get_by_test_id("version-history")
    lanes = history.locator("g.ops-tl-lane")
    expect(lanes).to_have_count(2)
    v1, v2 = history.locator('g[data-version="1"]'), history.locator('g[data-version="2"]')
    expect(v2).to_contain_text("v2 (published) · target")
    expect(v1).to_contain_text("v1 (archived) · base")
    expect(v1).to_contain_text(f"{RUNS_PER_VERSION} traces")
    # Placed on the time axis: v1 was created and used before v2; each has a published dot.
    v1_created = v1.locator("path.ops-tl-created").bounding_box()
    v2_created = v2.locator("path.ops-tl-created").bounding_box()
    assert v1_created["x"] < v2_created["x"]
    v1_traffic = v1.locator("rect.ops-tl-traffic").bounding_box()
    v2_traffic = v2.locator("rect.ops-tl-traffic").bounding_box()
    assert v1_traffic["x"] + v1_traffic["width"] <= v2_traffic["x"] + 1
    expect(v1.locator("circle.ops-tl-published")).to_have_count(1)
    expect(v1.locator("rect.ops-tl-traffic title")).to_contain_text(f"v1: {RUNS_PER_VERSION} traces from ")
    expect(history.locator("text.ops-tl-axis").first).to_be_visible()
    expect(history.locator("text.ops-tl-caption")).to_contain_text("UTC")
    expect(page.get_by_test_id("timeline-legend")).to_contain_text("published")


def _constructed(version: int, number: int, *, started: datetime, empty: bool = False, replanned: bool = False,
                 duration: int = 300) -> None:
    import copy

    from inspector.services import trace_ingest
    from testkit.factories import trace_body

    body = trace_body(trace_id=f"c{version}-{number}", duration_ms=duration, started_at=started.isoformat(),
                      applied_assets={"query": f"ci_lookup@{version}"})
    for stage in body["stages"]:
        stage["input"]["applied_assets"] = {"query": f"ci_lookup@{version}"} if stage["stage"] == "execute" else {}
    body["stages"][2]["output"]["diagnostics"].update(empty_flags={"result_empty": empty})
    if replanned:
        retry = copy.deepcopy(body["stages"][2])
        retry["attempt"] = 2
        body["stages"].insert(3, retry)
    trace_ingest(payload=body)


def test_risk_says_not_enough_data_or_nothing_to_compare(staff_page, live_server, transactional_db):
    from inspector.services import asset_create, asset_version_create, asset_version_publish
    from testkit.factories import VALID_SPECS

    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_publish(version=lookup.versions.get(version=1))
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5})
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    # The case: 40 traces of v1, 18 of v2 with the empty-result rate up 185 %: it read "low", in green.
    for number in range(40):
        _constructed(1, number, started=start + timedelta(minutes=number), empty=number < 1)
    for number in range(18):
        _constructed(2, number, started=start + timedelta(minutes=60 + number), empty=number < 1,
                     duration=420, replanned=number < 3)
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[lookup.pk]))
    risk = page.get_by_test_id("risk")
    expect(risk).to_have_text("— not enough data: 18 of 20 traces per version")
    expect(risk).not_to_have_class(re.compile("ops-risk-low"))
    reasons = page.get_by_test_id("risk-reasons")
    expect(reasons).to_contain_text("too few traces for a test (v1 has 40 traces, v2 18")
    expect(reasons).to_contain_text("empty-result rate 2.5% → 5.6%, +122%: not confirmed by a test")
    expect(page.get_by_test_id("recommendations")).to_contain_text("only 18 traces used v2 (need ≥ 20 for a test)")
    empty = page.get_by_test_id("comparison").locator('tr[data-metric="empty_rate"] td')
    expect(empty.nth(1)).to_have_text("2.5%")
    expect(empty.nth(2)).to_have_text("5.6%")
    expect(empty.nth(3)).to_have_text("▲ +3.1 pts (+122.4%)")  # a rate changes in points, and relatively
    expect(empty.nth(4)).to_have_text("—")  # not tested: 18 traces
    expect(empty.nth(5)).to_have_text("need ≥ 20 traces per version (have 40 and 18)")

    page.get_by_test_id("base-select").select_option("2")  # v2 against itself
    page.get_by_test_id("compare").click()
    expect(page.locator("h2", has_text="compared with")).to_contain_text("v2 compared with v2")
    expect(risk).to_have_text("— nothing to compare: base and target are both v2")
    expect(page.get_by_test_id("recommendations")).to_contain_text("choose another version as base")

    # A range with traces of v2 only: v1 has nothing to compare with.
    since = (start + timedelta(minutes=59)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[lookup.pk]) + f"?base=1&target=2&from={since}")
    expect(risk).to_have_text("— nothing to compare: v1 has no traces")
    expect(page.get_by_test_id("version-history").locator('g[data-version="1"]')).to_contain_text("no traces in range")


def test_impact_screen_empty_state(staff_page, live_server, transactional_db):
    reference_assets_install()
    unused = Asset.objects.get(name="ci_count")
    staff_page.goto(live_server.url + reverse("admin:inspector_asset_impact", args=[unused.pk]))
    expect(staff_page.get_by_test_id("impact-empty")).to_contain_text("No stored trace applied")
    lane = staff_page.get_by_test_id("version-history").locator('g[data-version="1"]')
    expect(lane).to_contain_text("no traces in range")


def test_impact_screen_says_which_days_come_from_the_rollup(staff_page, live_server, transactional_db):
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
