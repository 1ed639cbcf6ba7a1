"""Test-mode traces (override tests, stage tests, golden runs) stay out of the impact report unless asked for.

The data mix production and test-mode traces on rolled-up days and on live
days (today), so both the roll-up path and the live path are exercised.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.apps import apps as django_apps
from django.db.models import F, Sum

from impact.report import PRODUCTION_ONLY, WITH_TEST_MODE, asset_impact
from inspector.models import RollupDay, Trace, TraceAssetUsage, TraceRollup, UsageRollup
from inspector.services import asset_create, asset_version_create, trace_ingest
from inspector.services.rollups import days_to_roll, rollup_window, usage_rollup
from testkit.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)
DAY0 = (NOW - timedelta(days=6)).date()
TODAY = datetime(NOW.year, NOW.month, NOW.day, tzinfo=UTC)
# Production v2 traces: 3 on rolled days, 2 today; test-mode v2 traces: 2 on a rolled day, 1 today.
PRODUCTION, TEST_MODE = 5, 3


def _at(day_offset: int, hour: int = 12) -> datetime:
    return datetime(DAY0.year, DAY0.month, DAY0.day, hour, tzinfo=UTC) + timedelta(days=day_offset)


def _trace(trace_id: str, version: int, started: datetime, *, duration: int, test_mode: bool = False,
           status: str = "ok") -> None:
    body = trace_body(trace_id=trace_id, duration_ms=duration, started_at=started.isoformat(), test_mode=test_mode,
                      applied_assets={"query": f"ci_lookup@{version}"})
    for stage in body["stages"]:
        stage["input"]["applied_assets"] = {"query": f"ci_lookup@{version}"} if stage["stage"] == "execute" else {}
    body["stages"][2]["output"]["diagnostics"].update(status=status, errors=["boom"] if status == "error" else [])
    body["stages"][2]["output"]["duration_ms"] = duration // 10
    # Override tests run a costlier model: their cost per trace would move the mean too.
    cost, tokens = (0.05, 5000) if test_mode else (0.002, 500)
    body["stages"][3]["output"]["result"]["usage"] = {"model": "m", "input_tokens": tokens, "output_tokens": 0,
                                                       "cost": cost}
    trace_ingest(payload=body)


@pytest.fixture
def mixed(db):
    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5})
    for number in range(4):
        _trace(f"v1-{number}", 1, _at(number % 3), duration=100)
    for number in range(3):
        _trace(f"prod-{number}", 2, _at(number), duration=200)
    for number in range(2):
        _trace(f"prod-today-{number}", 2, TODAY + timedelta(minutes=number), duration=200)
    # Override tests of v2: slow and failing, so they would move every rate and percentile.
    for number in range(2):
        _trace(f"test-{number}", 2, _at(1, hour=13 + number), duration=9000, test_mode=True, status="error")
    _trace("test-today", 2, TODAY + timedelta(minutes=5), duration=9000, test_mode=True, status="error")
    return lookup


def _roll():
    return usage_rollup(now=_at(6))


def _counts(report: dict) -> dict:
    target = report["metrics"]["target"]
    return {"traces": target["traces"], "errors": target["errors"], "error_rate": target["error_rate"],
            "runs": target["stage_durations"]["execute"]["runs"], "all": report["traffic"]["all_traces"],
            "history": [row["traces"] for row in report["versions"]], "cost": target["mean_cost"],
            "tokens": target["mean_tokens"]}


def test_rollups_hold_production_traffic_only(mixed):
    _roll()
    rolled_v2 = UsageRollup.objects.filter(asset_version__version=2, stage="").aggregate(n=Sum("traces"))["n"]
    assert rolled_v2 == 3  # the two test-mode traces of day 1 are not rolled up
    assert TraceRollup.objects.aggregate(n=Sum("traces"))["n"] == 4 + 3


@pytest.mark.parametrize("rolled", [False, True], ids=["live", "rolled"])
def test_report_leaves_test_mode_traces_out_by_default_and_counts_them_when_asked(mixed, rolled):
    if rolled:
        _roll()
        assert rollup_window(None, None).rolled

    production = asset_impact(asset=mixed, base="1", target="2")
    everything = asset_impact(asset=mixed, base="1", target="2", include_test_mode=True)

    assert _counts(production) == {"traces": PRODUCTION, "errors": 0, "error_rate": 0.0, "runs": PRODUCTION,
                                   "all": 4 + PRODUCTION, "history": [PRODUCTION, 4], "cost": 0.002, "tokens": 500.0}
    # (5 × 0.002 + 3 × 0.05) / 8 and (5 × 500 + 3 × 5000) / 8
    assert _counts(everything) == {"traces": PRODUCTION + TEST_MODE, "errors": TEST_MODE, "error_rate": 0.375,
                                   "runs": PRODUCTION + TEST_MODE, "all": 4 + PRODUCTION + TEST_MODE,
                                   "history": [PRODUCTION + TEST_MODE, 4], "cost": 0.02, "tokens": 2187.5}
    assert production["metrics"]["target"]["duration_p95_ms"] < 1000 < everything["metrics"]["target"]["duration_p95_ms"]
    assert production["rollup"]["percentiles_approximate"] is rolled


def test_rolled_and_live_reports_agree_in_both_modes(mixed):
    live = {mode: _counts(asset_impact(asset=mixed, base="1", target="2", include_test_mode=mode))
            for mode in (False, True)}
    _roll()
    rolled = {mode: _counts(asset_impact(asset=mixed, base="1", target="2", include_test_mode=mode))
              for mode in (False, True)}
    assert rolled == live
    # A range that starts inside a rolled day: the partial day and today are live, the rest rolled.
    start = _at(1, hour=12)
    partial = {mode: _counts(asset_impact(asset=mixed, base="1", target="2", start=start, include_test_mode=mode))
               for mode in (False, True)}
    assert partial[False]["traces"] == 4 and partial[True]["traces"] == 7


def test_exact_figures_without_test_mode_are_those_of_the_production_traces(db):
    # Test-mode rows are subtracted from every row's totals; percentiles, first and last use are recomputed.
    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    production = [120, 340, 560, 780, 1000, 1230]
    for number, duration in enumerate(production):
        _trace(f"prod-{number}", 1, TODAY + timedelta(minutes=10 + number), duration=duration)
    _trace("test-first", 1, TODAY, duration=50, test_mode=True)
    _trace("test-last", 1, TODAY + timedelta(minutes=30), duration=7000, test_mode=True)
    everything = [*production, 50, 7000]

    for include, durations, first, last in ((False, production, 10, 15), (True, everything, 0, 30)):
        metrics = asset_impact(asset=lookup, include_test_mode=include)["metrics"]["target"]
        assert metrics["traces"] == len(durations)
        assert metrics["duration_median_ms"] == round(float(np.quantile(durations, 0.5)), 2)
        assert metrics["duration_p95_ms"] == round(float(np.quantile(durations, 0.95)), 2)
        execute = [d // 10 for d in durations]
        assert metrics["stage_durations"]["execute"] == {
            "median_ms": round(float(np.quantile(execute, 0.5)), 2),
            "p95_ms": round(float(np.quantile(execute, 0.95)), 2), "runs": len(durations)}
        assert metrics["first_used"] == (TODAY + timedelta(minutes=first)).isoformat()
        assert metrics["last_used"] == (TODAY + timedelta(minutes=last)).isoformat()


def test_report_says_which_traffic_it_covers(mixed):
    assert asset_impact(asset=mixed)["traffic_scope"] == PRODUCTION_ONLY
    report = asset_impact(asset=mixed, include_test_mode=True)
    assert report["traffic_scope"] == WITH_TEST_MODE and report["filters"]["include_test_mode"] is True


def test_an_asset_used_only_by_test_mode_traces_is_empty_by_default(db):
    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    _trace("only-test", 1, TODAY, duration=100, test_mode=True)
    assert asset_impact(asset=lookup)["empty"] is True
    assert asset_impact(asset=lookup, include_test_mode=True)["metrics"]["target"]["traces"] == 1


def test_the_migration_makes_rolled_days_stale_so_they_are_rolled_again_without_test_mode(mixed):
    _roll()
    # A roll-up from before this change: the day counted its test-mode traces.
    TraceRollup.objects.filter(day=DAY0 + timedelta(days=1)).update(traces=F("traces") + 2)
    migration = importlib.import_module("inspector.migrations.0008_rollups_production_only")

    migration.days_stale(django_apps, None)

    assert not any(day.valid for day in RollupDay.objects.all())
    assert len(days_to_roll(now=_at(6))) == 6
    _roll()
    assert TraceRollup.objects.aggregate(n=Sum("traces"))["n"] == Trace.objects.filter(
        test_mode=False, started_at__lt=TODAY).count()


def test_usage_rows_carry_their_trace_test_mode_and_the_migration_copies_it_onto_old_rows(mixed):
    usage = TraceAssetUsage.objects
    assert set(usage.filter(test_mode=True).values_list("trace__test_mode", flat=True)) == {True}
    assert set(usage.filter(test_mode=False).values_list("trace__test_mode", flat=True)) == {False}
    tested = usage.filter(test_mode=True).count()
    usage.update(test_mode=False)  # rows written before the column existed
    migration = importlib.import_module("inspector.migrations.0009_usage_test_mode")

    migration.copy_test_mode(django_apps, None)

    assert tested and usage.filter(test_mode=True).count() == tested


# --- the API ---------------------------------------------------------------------------------------------


def _impact_url(asset, query: str = "") -> str:
    return f"/asset-registry/assets/{asset.pk}/impact{query}"


def test_api_leaves_test_mode_traces_out_by_default(viewer_client, mixed):
    data = viewer_client.get(_impact_url(mixed, "?base=1&target=2")).json()
    assert data["metrics"]["target"]["traces"] == PRODUCTION
    assert data["filters"]["include_test_mode"] is False and data["traffic_scope"] == PRODUCTION_ONLY


def test_api_counts_test_mode_traces_with_the_toggle(viewer_client, mixed):
    _roll()
    data = viewer_client.get(_impact_url(mixed, "?base=1&target=2&include_test_mode=true")).json()
    assert data["metrics"]["target"]["traces"] == PRODUCTION + TEST_MODE
    assert data["traffic"]["all_traces"] == 4 + PRODUCTION + TEST_MODE
    off = viewer_client.get(_impact_url(mixed, "?base=1&target=2&include_test_mode=false")).json()
    assert off["metrics"]["target"]["traces"] == PRODUCTION


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", ""])
def test_api_rejects_a_bad_toggle(viewer_client, mixed, value):
    response = viewer_client.get(_impact_url(mixed, f"?include_test_mode={value}"))
    assert response.status_code == 400
    assert "include_test_mode" in response.json()


def test_api_toggle_needs_the_same_permissions(anon_client, plain_client, mixed):
    assert anon_client.get(_impact_url(mixed, "?include_test_mode=true")).status_code in (401, 403)
    assert plain_client.get(_impact_url(mixed, "?include_test_mode=true")).status_code == 403


def test_api_schema_documents_the_toggle(viewer_client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = schema["paths"]["/asset-registry/assets/{id}/impact"]["get"]["parameters"]
    toggle = next(p for p in parameters if p["name"] == "include_test_mode")
    assert toggle["schema"] == {"type": "boolean", "default": False}
