"""Changelists at 1440×900 with long ids, questions, names and notes: no table wider than its container, labels in
capitals or words in both themes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from controlloop.models import ReplanPolicy
from controlloop.services import ensure_default_policy
from inspector.models import Trace
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun
from testkit.factories import VALID_SPECS, trace_body
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser

LONG = ("Which servers in the checkout cluster ran out of disk space during the last deployment window, and which "
        "services on them were restarted by the orchestrator afterwards?")
LISTS = ["inspector_trace", "inspector_stagerun", "inspector_assetversion", "controlloop_replanpolicy",
         "regression_regressionanalysis", "regression_regressionrun"]
TENANTS = ["default", "acme-production-europe-west-cluster"]


@pytest.fixture
def long_rows(transactional_db):
    """Rows as wide as production makes them: uuid trace ids, long questions, names and notes, two tenants."""
    traces = []
    for index in range(12):
        stored, _ = trace_ingest(payload=trace_body(
            trace_id=str(uuid.uuid4()), tenant_id=TENANTS[index % 2], question=f"{LONG} ({index})"))
        traces.append(stored)
    Trace.objects.filter(pk__in=[t.pk for t in traces[:4]]).update(
        test_mode=True, replan_count=2, input_tokens=123_456, output_tokens=7_890, cost=12.345678, duration_ms=65_432)
    Trace.objects.filter(pk=traces[5].pk).update(route="", status="error")
    name = "inventory_dependency_path_with_a_very_long_descriptive_name_for_the_checkout_cluster"
    asset = asset_create(tenant_id="default", asset_type="price_table", name=name, spec=VALID_SPECS["price_table"])
    asset_version_publish(version=asset.versions.get())
    asset_version_create(asset=asset, spec=VALID_SPECS["price_table"], note=LONG * 3)
    ensure_default_policy()
    ReplanPolicy.objects.create(name="checkout-cluster-conservative-policy-for-the-weekend-freeze-2026",
                                tenant_id=TENANTS[1], min_severity="critical", min_interval_seconds=12.5,
                                cooling_period_seconds=3600)
    for index, trace in enumerate(traces[:6]):
        query = GoldenQuery.objects.create(name=f"checkout-dependencies-after-the-deployment-freeze-{index}",
                                           question=LONG, tenant_id=trace.tenant_id)
        baseline = Baseline.objects.create(golden_query=query, trace=traces[-1 - index])
        analysis = RegressionAnalysis.objects.create(
            kind="group", status="completed", score=71, verdict="WARN", tenant_id=trace.tenant_id,
            baseline_trace_ids=[t.trace_id for t in traces[:3]], candidate_trace_ids=[t.trace_id for t in traces[3:6]],
            started_at=timezone.now() - timedelta(minutes=3), finished_at=timezone.now())
        RegressionRun.objects.create(golden_query=query, baseline=baseline, candidate_trace=trace, analysis=analysis,
                                     status="completed", trigger="asset_publish", finished_at=timezone.now())
    return traces


def widths(page) -> dict:
    return page.evaluate("""() => {
        const changelist = document.querySelector('#changelist'), table = document.querySelector('#result_list');
        return {changelist: [changelist.scrollWidth, changelist.clientWidth],
                table: [table.scrollWidth, table.closest('.results').clientWidth],
                cut: [...document.querySelectorAll('#result_list .ops-truncate')].filter(
                    e => e.scrollWidth > e.clientWidth && !e.title).length};
    }""")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_changelist_is_wider_than_its_container_at_1440(staff_page, live_server, long_rows, scheme):
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.emulate_media(color_scheme=scheme)
    for name in LISTS:
        page.goto(live_server.url + reverse(f"admin:{name}_changelist"))
        expect(page.locator("#result_list tbody tr").first).to_be_visible()
        measured = widths(page)
        assert measured["changelist"][0] <= measured["changelist"][1], (name, measured)
        assert measured["table"][0] <= measured["table"][1], (name, measured)
        assert measured["cut"] == 0, (name, "text cut without a tooltip")
        if name == "inspector_trace":
            save_screenshot(page, f"admin-trace-list-{scheme}.png")


def test_cut_questions_keep_their_whole_text_in_a_tooltip(staff_page, live_server, long_rows):
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + reverse("admin:inspector_trace_changelist"))
    question = page.locator("#result_list td.field-short_question .ops-truncate").first
    assert question.evaluate("e => e.scrollWidth > e.clientWidth")  # cut to its column…
    assert question.get_attribute("title").startswith(LONG)  # …and whole on hover
    trace_id = page.locator("#result_list .ops-id").first
    assert len(trace_id.get_attribute("title")) == 36


def test_labels_are_capitals_or_words_in_light_dark_and_the_theme_switch(staff_page, live_server, long_rows):
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + reverse("admin:inspector_trace_changelist"))
    filters = page.locator("#changelist-filter")
    expect(filters.get_by_role("link", name="No route")).to_be_visible()
    expect(filters.get_by_role("link", name="unknown", exact=True)).to_have_count(0)
    expect(filters.get_by_role("link", name="Test-mode runs")).to_be_visible()
    expect(page.locator("#nav-sidebar")).to_contain_text("Control loop")
    expect(page.locator("#nav-sidebar")).not_to_contain_text("Controlloop")
    pill = page.locator("#result_list .ops-status-success").first
    flag = page.locator("#result_list .ops-flag").first
    colours = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert pill.inner_text() == "SUCCESS" and flag.inner_text() == "TEST"
        colours[scheme] = pill.evaluate("e => getComputedStyle(e).color")
    assert colours == {"light": "rgb(46, 125, 50)", "dark": "rgb(129, 199, 132)"}
    # The theme switch (data-theme) wins over the system scheme: light system, dark admin.
    page.emulate_media(color_scheme="light")
    page.locator("button.theme-toggle").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert pill.evaluate("e => getComputedStyle(e).color") == "rgb(129, 199, 132)"
    assert pill.inner_text() == "SUCCESS"

    page.goto(live_server.url + reverse("admin:controlloop_replanpolicy_changelist"))
    expect(page.locator("#changelist-filter").get_by_role("link", name="Critical")).to_be_visible()
    expect(page.locator("#changelist-filter")).not_to_contain_text("critical")  # no snake or lower-case codes
    expect(page.locator("#result_list td.field-severity").filter(has_text="Critical")).to_have_count(1)
    page.goto(live_server.url + reverse("admin:inspector_stagerun_changelist"))
    assert page.locator("#result_list .ops-status").first.inner_text() == "OK"
