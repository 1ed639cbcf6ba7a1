"""Asset impact computed from constructed traces: exact figures, API, export, empty state."""

import copy

import pytest

from inspector.models import Asset
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from testkit.factories import VALID_SPECS, UserFactory, trace_body
from testkit.plugin import client_for

pytestmark = pytest.mark.django_db


def _trace(trace_id, version, *, duration, status="ok", empty=False, attempts=1, refs=1, rows=1):
    body = trace_body(trace_id=trace_id, duration_ms=duration, applied_assets={"query": f"ci_lookup@{version}"})
    for stage in body["stages"]:
        stage["input"]["applied_assets"] = {"query": f"ci_lookup@{version}"} if stage["stage"] == "execute" else {}
    execute = body["stages"][2]["output"]
    execute["diagnostics"].update(status=status, errors=["boom"] if status == "error" else [],
                                  empty_flags={"result_empty": empty}, counts={"rows": rows})
    execute["duration_ms"] = duration // 10
    present = body["stages"][4]["output"]
    present["references"] = [{"type": "db_row", "entity_id": str(i)} for i in range(refs)]
    if attempts > 1:
        retry = copy.deepcopy(body["stages"][2])
        retry["attempt"] = 2
        body["stages"].insert(3, retry)
    trace_ingest(payload=body)


@pytest.fixture
def asset(db):
    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_publish(version=lookup.versions.get(version=1))
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5, "timeout_ms": 50})
    policy = asset_create(tenant_id="default", asset_type="policy", name="budget", spec={"budget_ms": 500})
    asset_version_publish(version=policy.versions.get(version=1))
    _trace("v1-a", 1, duration=100)
    _trace("v1-b", 1, duration=200, status="error", rows=0)
    _trace("v1-c", 1, duration=300, empty=True, rows=0, refs=0)
    _trace("v1-d", 1, duration=400, attempts=2, refs=3, rows=4)
    _trace("v2-a", 2, duration=1000, refs=2, rows=2)
    _trace("v2-b", 2, duration=3000, status="error", refs=0, rows=0)
    return lookup


def test_version_metrics_are_exact(viewer_client, asset):
    data = viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?base=1&target=2").json()
    base, target = data["metrics"]["base"], data["metrics"]["target"]
    assert base["traces"] == 4 and target["traces"] == 2
    assert base["error_rate"] == 0.25 and base["empty_rate"] == 0.25 and base["replan_rate"] == 0.25
    assert base["warning_rate"] == 0.0 and base["success_rate"] == 0.75
    assert base["duration_median_ms"] == 250.0 and base["duration_p95_ms"] == 385.0
    assert base["mean_references"] == 1.25 and base["mean_rows"] == 1.25
    assert target["error_rate"] == 0.5 and target["duration_median_ms"] == 2000.0 and target["duration_p95_ms"] == 2900.0
    assert base["stage_durations"]["execute"]["runs"] == 4  # one final attempt per trace, replans included once
    assert [v["traces"] for v in data["versions"]] == [2, 4]
    assert data["stages"] == ["execute"]


def test_quality_axes_risk_related_and_advice_follow_the_figures(viewer_client, asset):
    data = viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?base=1&target=2").json()
    base_axes, target_axes = data["axes"]["base"], data["axes"]["target"]
    assert base_axes["reliability"] == 75.0 and base_axes["completeness"] == 75.0 and base_axes["stability"] == 75.0
    assert base_axes["evidence"] == 25.0 and base_axes["speed"] == 100.0  # p95 385 ms within the 500 ms budget
    assert target_axes["reliability"] == 50.0 and target_axes["speed"] == 0.0  # p95 2900 ms, budget 500 ms
    assert "regression_health" not in target_axes  # no analyses yet: left out, never null
    assert data["budget_ms"] == 500.0
    assert data["traffic"] == {"target_traces": 2, "all_traces": 6}
    # 4 and 2 traces: no test can back a level, whatever the points of the other factors.
    assert data["risk"]["level"] == "not_enough_data" and data["risk"]["points"] >= 2
    assert data["risk"]["label"] == "not enough data: 2 of 20 traces per version"
    assert any("EXECUTE" in reason for reason in data["risk"]["reasons"])
    assert data["related"] == []  # these traces applied only this asset
    assert data["recommendations"] and any("v2" in s or "2 traces" in s for s in data["recommendations"])
    row = next(r for r in data["comparison"] if r["metric"] == "error_rate")
    assert (row["base"], row["target"], row["significant"]) == (0.25, 0.5, False) and "p_value" not in row
    assert "20" in row["hint"]  # too few traces for a test: a sample-size hint


def test_time_range_and_tenant_filters(viewer_client, asset):
    data = viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?from=2030-01-01").json()
    assert data["empty"] is True and "in this range" in data["message"]
    # A tenant the viewer does not belong to is refused; a superuser gets an empty report for it.
    assert viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?tenant=nobody").status_code == 403
    superuser = client_for(UserFactory(is_superuser=True))
    assert superuser.get(f"/asset-registry/assets/{asset.pk}/impact?tenant=nobody").json()["empty"] is True
    assert viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?from=someday").status_code == 400
    assert viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?base=9").status_code == 400


def test_csv_and_json_export(viewer_client, asset):
    csv_response = viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?base=1&target=2&export=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode()
    assert "Comparison,Error rate,25.0%,50.0%,+25.0 pts,+100.0%,,,need ≥ 20 traces per version (have 4 and 2)" in text
    json_response = viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?export=json")
    assert "attachment" in json_response["Content-Disposition"]
    assert viewer_client.get(f"/asset-registry/assets/{asset.pk}/impact?export=xls").status_code == 400


def test_asset_without_traces_has_an_empty_state(viewer_client, db):
    unused = asset_create(tenant_id="default", asset_type="screen", name="unused", spec=VALID_SPECS["screen"])
    data = viewer_client.get(f"/asset-registry/assets/{unused.pk}/impact").json()
    assert data["empty"] is True and data["versions"][0]["traces"] == 0
    no_versions = Asset.objects.create(asset_type="mapping", name="bare")
    assert viewer_client.get(f"/asset-registry/assets/{no_versions.pk}/impact").json()["empty"] is True


def test_asset_traces_endpoint(viewer_client, asset):
    all_traces = viewer_client.get(f"/asset-registry/assets/{asset.pk}/traces").json()["results"]
    assert {t["trace_id"] for t in all_traces} == {"v1-a", "v1-b", "v1-c", "v1-d", "v2-a", "v2-b"}
    v2 = viewer_client.get(f"/asset-registry/assets/{asset.pk}/traces?version=2").json()["results"]
    assert {t["trace_id"] for t in v2} == {"v2-a", "v2-b"}
    assert viewer_client.get(f"/asset-registry/assets/{asset.pk}/traces?version=x").status_code == 400


def test_impact_needs_permissions(anon_client, plain_client, asset):
    assert anon_client.get(f"/asset-registry/assets/{asset.pk}/impact").status_code == 401
    assert plain_client.get(f"/asset-registry/assets/{asset.pk}/impact").status_code == 403


def test_consuming_stages_in_pipeline_order_from_one_query(asset, django_assert_num_queries):
    from impact.queries import consuming_stages
    from inspector.contracts import STAGE_ORDER

    body = trace_body(trace_id="two-stages", applied_assets={"query": "ci_lookup@2"})
    for stage in body["stages"]:
        used = stage["stage"] in ("execute", "route_plan")
        stage["input"]["applied_assets"] = {"query": "ci_lookup@2"} if used else {}
    trace_ingest(payload=body)
    with django_assert_num_queries(1):  # one EXISTS a stage in one statement, not a query a stage and version
        stages = consuming_stages(asset)
    assert stages == [s for s in STAGE_ORDER if s in ("execute", "route_plan")]
    assert consuming_stages(Asset.objects.get(name="budget")) == []  # no trace applied the policy
