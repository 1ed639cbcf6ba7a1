"""Deleting assets and versions: only what no trace applied and nothing serves; a refusal deletes nothing."""

import pytest

from access.errors import TenantForbidden
from access.tenancy import TenantScope
from inspector.models import Asset, AssetVersion
from inspector.services import (
    asset_create,
    asset_delete,
    asset_delete_refusal,
    asset_version_create,
    asset_version_delete_refusal,
    asset_version_publish,
    asset_versions_delete,
    trace_ingest,
)
from kernel.errors import Conflict
from testkit.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db
URL = "/asset-registry/assets"


@pytest.fixture
def route_rules():
    """prompt route_rules: v1 published and applied by a stored trace, v2 archived, v3 published, v4 a draft."""
    asset = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    asset_version_publish(version=asset.versions.get())
    trace_ingest(payload=trace_body())  # applies route_rules@1
    asset_version_publish(version=asset_version_create(asset=asset, spec=VALID_SPECS["prompt"]))
    asset_version_publish(version=asset_version_create(asset=asset, spec=VALID_SPECS["prompt"]))
    asset_version_create(asset=asset, spec=VALID_SPECS["prompt"])
    return asset


def version(asset, number):
    return AssetVersion.objects.get(asset=asset, version=number)


def test_only_an_unused_draft_may_be_deleted(route_rules):
    assert "stored traces applied it" in asset_version_delete_refusal(version=version(route_rules, 1))
    assert "was published once" in asset_version_delete_refusal(version=version(route_rules, 2))
    assert "the published version the pipeline uses" in asset_version_delete_refusal(version=version(route_rules, 3))
    assert asset_version_delete_refusal(version=version(route_rules, 4)) == ""


def test_deleting_a_selection_with_one_protected_version_deletes_none(route_rules):
    with pytest.raises(Conflict, match="published version"):
        asset_versions_delete(versions=AssetVersion.objects.filter(asset=route_rules, version__in=[3, 4]))
    assert route_rules.versions.count() == 4
    assert asset_versions_delete(versions=AssetVersion.objects.filter(asset=route_rules, version=4)) == 1
    assert sorted(route_rules.versions.values_list("version", flat=True)) == [1, 2, 3]


def test_deleting_outside_the_scope_is_forbidden_and_deletes_nothing(route_rules):
    with pytest.raises(TenantForbidden):
        asset_versions_delete(versions=AssetVersion.objects.filter(asset=route_rules, version=4),
                              scope=TenantScope(tenants=frozenset({"acme"})))
    assert route_rules.versions.count() == 4


def test_an_asset_a_trace_applied_is_refused_with_its_reason(route_rules):
    assert "applied by stored traces" in asset_delete_refusal(asset=route_rules)
    with pytest.raises(Conflict, match="history of those traces"):
        asset_delete(asset=route_rules)
    assert Asset.objects.filter(pk=route_rules.pk).exists()


def test_api_delete_of_a_used_asset_is_409_with_the_reason(editor_client, route_rules):
    response = editor_client.delete(f"{URL}/{route_rules.pk}")
    assert response.status_code == 409
    assert "applied by stored traces" in response.json()["detail"]
    assert route_rules.versions.count() == 4


def test_api_delete_of_an_unused_asset_still_works(editor_client):
    unused = asset_create(tenant_id="default", asset_type="screen", name="answer_card", spec=VALID_SPECS["screen"])
    assert editor_client.delete(f"{URL}/{unused.pk}").status_code == 204
    assert not Asset.objects.filter(pk=unused.pk).exists()
