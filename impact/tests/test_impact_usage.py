"""Cost and tokens per trace in the impact report: exact means per version, a Mann–Whitney test, risk and advice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from scipy import stats as scipy_stats

from impact import queries
from impact.report import asset_impact
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from inspector.services.rollups import rollup_window
from testkit.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db

PRICES = {"currency": "USD", "models": {"gpt-4o": {"input_per_million": 2.5, "output_per_million": 10.0}}}
START = datetime(2026, 11, 20, 10, tzinfo=UTC)
PER_VERSION = 25
# v1: 24 traces priced by the table (no cost sent: 1,000 + 40·i input and 200 output tokens of gpt-4o cost
# 0.0045 + 0.0001·i) and one that reported no usage; v2: 25 traces that sent their cost, about twice v1's.
V1_COSTS = [0.0045 + 0.0001 * i for i in range(PER_VERSION - 1)] + [0.0]
V1_TOKENS = [1200 + 40 * i for i in range(PER_VERSION - 1)] + [0]
V2_COSTS = [0.009 + 0.0002 * i for i in range(PER_VERSION)]
V2_TOKENS = [2400 + 40 * i for i in range(PER_VERSION)]


def _trace(trace_id: str, version: int, started: datetime, *, usage: dict | None) -> None:
    body = trace_body(trace_id=trace_id, duration_ms=500, started_at=started.isoformat(),
                      applied_assets={"query": f"ci_lookup@{version}"})
    for stage in body["stages"]:
        stage["input"]["applied_assets"] = {"query": f"ci_lookup@{version}"} if stage["stage"] == "execute" else {}
    if usage is not None:
        body["stages"][3]["output"]["result"]["usage"] = usage  # compose: the model call
    trace_ingest(payload=body)


@pytest.fixture
def lookup(settings):
    prices = asset_create(tenant_id="default", asset_type="price_table", name=settings.OPS_PRICE_TABLE, spec=PRICES)
    asset_version_publish(version=prices.versions.get(version=1))
    asset = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_publish(version=asset.versions.get(version=1))
    asset_version_create(asset=asset, spec={**VALID_SPECS["query"], "row_limit": 5})
    for i in range(PER_VERSION):
        priced = {"model": "gpt-4o", "input_tokens": 1000 + 40 * i, "output_tokens": 200}
        _trace(f"v1-{i}", 1, START + timedelta(minutes=i), usage=priced if i < PER_VERSION - 1 else None)
    for i in range(PER_VERSION):
        given = {"model": "gpt-4o", "input_tokens": 2000 + 40 * i, "output_tokens": 400, "cost": V2_COSTS[i]}
        _trace(f"v2-{i}", 2, START + timedelta(hours=1, minutes=i), usage=given)
    return asset


def test_cost_and_tokens_per_trace_are_exact_means_over_every_trace_of_the_version(viewer_client, lookup):
    data = viewer_client.get(f"/asset-registry/assets/{lookup.pk}/impact?base=1&target=2").json()
    base, target = data["metrics"]["base"], data["metrics"]["target"]
    # The trace without usage counts as 0: 0.1356 / 25 and 39,840 / 25.
    assert (base["mean_cost"], base["mean_tokens"]) == (0.005424, 1593.6)
    assert (target["mean_cost"], target["mean_tokens"]) == (0.0114, 2880.0)
    assert sum(V1_COSTS) / PER_VERSION == pytest.approx(0.005424) and sum(V2_TOKENS) / PER_VERSION == 2880.0


def test_a_clearly_costlier_version_is_significantly_worse_and_said_so(viewer_client, lookup):
    data = viewer_client.get(f"/asset-registry/assets/{lookup.pk}/impact?base=1&target=2").json()
    rows = {row["metric"]: row for row in data["comparison"]}
    cost, tokens = rows["mean_cost"], rows["mean_tokens"]
    assert (cost["test"], cost["significant"], cost["direction"], cost["worse"]) == ("mann_whitney", True, "up", True)
    assert cost["p_value"] == pytest.approx(scipy_stats.mannwhitneyu(V1_COSTS, V2_COSTS).pvalue)
    assert tokens["p_value"] == pytest.approx(scipy_stats.mannwhitneyu(V1_TOKENS, V2_TOKENS).pvalue)
    assert tokens["significant"] and tokens["worse"]
    assert rows["duration_median_ms"]["significant"] is False  # same durations: only cost and tokens moved
    assert "cost per trace significantly worse (0.005424 → 0.0114, p < 0.001)" in data["risk"]["reasons"]
    assert ("cost per trace rose from 0.005424 to 0.0114 (p < 0.001): check the model and prompt length of "
            "query `ci_lookup` v2") in data["recommendations"]


def test_the_same_versions_the_other_way_round_are_cheaper_not_worse(viewer_client, lookup):
    data = viewer_client.get(f"/asset-registry/assets/{lookup.pk}/impact?base=2&target=1").json()
    cost = next(row for row in data["comparison"] if row["metric"] == "mean_cost")
    assert (cost["significant"], cost["direction"], cost["worse"]) == (True, "down", False)
    assert not any("cost" in sentence for sentence in data["recommendations"])


def test_csv_export_has_the_cost_and_tokens_rows(viewer_client, lookup):
    text = viewer_client.get(f"/asset-registry/assets/{lookup.pk}/impact?base=1&target=2&export=csv").content.decode()
    assert "Comparison,Cost per trace,0.005424,0.0114,+0.005976,+110.2%,< 0.001,yes," in text
    assert "Comparison,Tokens per trace,1593.6,2880,+1286.4,+80.7%,< 0.001,yes," in text


def test_screen_shows_cost_and_tokens_per_trace_with_readable_labels(admin_client, lookup):
    html = admin_client.get(reverse("admin:inspector_asset_impact", args=[lookup.pk]) + "?base=1&target=2")
    text = html.content.decode()
    assert '<tr data-metric="mean_cost"><td>Cost per trace</td><td>0.005424</td><td>0.0114</td>' in text
    assert '<tr data-metric="mean_tokens"><td>Tokens per trace</td><td>1,593.6</td><td>2,880</td>' in text


def test_durations_tokens_and_costs_are_sampled_newest_first_in_one_query(lookup):
    version = lookup.versions.get(version=2)
    with CaptureQueriesContext(connection) as captured:
        _, samples = queries.version_metrics(version, ["execute"], rollup_window(None, None),
                                             start=None, end=None, tenants=None)
    newest_first = [sql["sql"] for sql in captured.captured_queries if "DESC" in sql["sql"]]
    assert len(newest_first) == 1 and '"cost"' in newest_first[0] and '"tokens"' in newest_first[0]
    assert samples["mean_cost"] == pytest.approx(V2_COSTS[::-1])
    assert samples["mean_tokens"] == [float(t) for t in V2_TOKENS[::-1]]
    assert samples["duration_median_ms"] == [500.0] * PER_VERSION


def test_without_any_usage_the_means_are_zero_and_nothing_is_tested(db):
    asset = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_create(asset=asset, spec={**VALID_SPECS["query"], "row_limit": 5})
    for i in range(2 * PER_VERSION):
        _trace(f"plain-{i}", 1 + i % 2, START + timedelta(minutes=i), usage=None)
    report = asset_impact(asset=asset, base="1", target="2")
    assert report["metrics"]["target"]["mean_cost"] == 0.0 and report["metrics"]["target"]["mean_tokens"] == 0.0
    cost = next(row for row in report["comparison"] if row["metric"] == "mean_cost")
    assert (cost["test"], cost["p_value"]) == ("", None)
    assert cost["hint"] == "v1 and v2: no sampled trace reported a cost, nothing to test"
