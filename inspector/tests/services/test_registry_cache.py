"""Ingest's in-process cache of registry versions: found once, then from memory; changes here are seen at once."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from inspector.models import AssetVersion, TraceAssetUsage
from inspector.services import (
    asset_create,
    asset_version_publish,
    trace_ingest,
)
from inspector.services.registry_cache import registry_cache_clear, registry_versions
from testkit.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db


def _registry_queries(queries) -> int:
    return sum("inspector_assetversion" in q["sql"] for q in queries.captured_queries)


def _ingest(trace_id: str, **fields) -> TraceAssetUsage:
    """A trace naming ``prompt:route_rules@1`` without a status; its trace-level usage row."""
    trace_ingest(payload=trace_body(trace_id=trace_id, applied_assets={"prompt": "route_rules@1"}, **fields))
    return TraceAssetUsage.objects.get(trace__trace_id=trace_id, stage="")


def test_a_version_created_after_a_miss_is_found_by_the_next_trace():
    assert _ingest("before").asset_version is None

    asset = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])

    after = _ingest("after")
    assert after.asset_version == asset.versions.get(version=1) and after.version_status == "draft"


def test_lookups_are_answered_from_memory_after_the_first():
    asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    with CaptureQueriesContext(connection) as first:
        _ingest("first")
    with CaptureQueriesContext(connection) as second:
        linked = _ingest("second")

    assert _registry_queries(first) == 1 and _registry_queries(second) == 0
    assert linked.asset_version is not None


def test_misses_are_asked_again_so_another_process_s_new_version_is_linked_at_once():
    _ingest("miss-1")
    with CaptureQueriesContext(connection) as queries:
        _ingest("miss-2")
    assert _registry_queries(queries) == 1
    # Created "elsewhere": no signal reaches this process's cache.
    from django.db.models.signals import post_save

    from inspector.models import Asset
    from inspector.services.registry_cache import _registry_changed

    post_save.disconnect(_registry_changed, sender=Asset, dispatch_uid="registry_changed_save_Asset")
    post_save.disconnect(_registry_changed, sender=AssetVersion, dispatch_uid="registry_changed_save_AssetVersion")
    try:
        asset = Asset.objects.create(tenant_id="default", asset_type="prompt", name="route_rules")
        version = AssetVersion.objects.create(asset=asset, version=1, spec=VALID_SPECS["prompt"])
    finally:
        post_save.connect(_registry_changed, sender=Asset, dispatch_uid="registry_changed_save_Asset")
        post_save.connect(_registry_changed, sender=AssetVersion, dispatch_uid="registry_changed_save_AssetVersion")
    assert _ingest("miss-3").asset_version == version


def test_a_publish_is_seen_by_the_next_trace():
    asset = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    assert _ingest("draft").version_status == "draft"

    asset_version_publish(version=asset.versions.get(version=1))

    assert _ingest("published").version_status == "published"


def test_the_tenant_own_version_created_later_wins_over_the_shared_one():
    shared = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    assert _ingest("acme-1", tenant_id="acme").asset_version == shared.versions.get()

    own = asset_create(tenant_id="acme", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])

    assert _ingest("acme-2", tenant_id="acme").asset_version == own.versions.get()


def test_entries_expire(settings, monkeypatch):
    _ingest("old")
    asset = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    version = asset.versions.get()
    # As if another process had created it: nothing here emptied the cache.
    registry_versions("default", [("prompt", "route_rules", 1)])
    AssetVersion.objects.filter(pk=version.pk).update(status="archived")
    assert registry_versions("default", [("prompt", "route_rules", 1)])[("prompt", "route_rules", 1)].status == "draft"

    clock = __import__("time").monotonic() + settings.OPS_REGISTRY_CACHE_SECONDS + 1
    monkeypatch.setattr("inspector.services.registry_cache.time.monotonic", lambda: clock)

    assert registry_versions("default", [("prompt", "route_rules", 1)])[("prompt", "route_rules", 1)].status == "archived"


def test_zero_seconds_switches_the_cache_off(settings):
    settings.OPS_REGISTRY_CACHE_SECONDS = 0
    _ingest("off-1")
    with CaptureQueriesContext(connection) as queries:
        _ingest("off-2")
    assert _registry_queries(queries) == 1


@pytest.mark.django_db(transaction=True)
def test_a_cached_version_deleted_by_another_process_is_forgotten_and_the_trace_stored():
    asset = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    version = asset.versions.get()
    registry_versions("default", [("prompt", "route_rules", 1)])
    # Deleted elsewhere: no signal reaches this process's cache.
    with transaction.atomic():
        AssetVersion.objects.filter(pk=version.pk)._raw_delete(using="default")

    usage = _ingest("after-delete")

    assert usage.asset_version is None
    registry_cache_clear()
