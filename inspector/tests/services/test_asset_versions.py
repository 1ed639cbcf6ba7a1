"""Asset version rules: numbering, immutability, publish and rollback."""

import pydantic
import pytest

from inspector.models import AssetVersion
from inspector.services import (
    asset_create,
    asset_delete,
    asset_version_create,
    asset_version_publish,
    asset_version_rollback,
)
from kernel.errors import Conflict, InvalidInput
from testkit.factories import VALID_SPECS

pytestmark = pytest.mark.django_db


def make_asset(asset_type="policy", name="budget"):
    return asset_create(tenant_id="default", asset_type=asset_type, name=name, spec=VALID_SPECS[asset_type])


def test_create_with_spec_makes_version_one_as_draft():
    asset = make_asset()
    version = asset.versions.get()
    assert (version.version, version.status) == (1, "draft")
    assert version.spec["max_rows"] == 100


def test_versions_are_numbered_consecutively():
    asset = make_asset()
    second = asset_version_create(asset=asset, spec={"max_rows": 10})
    third = asset_version_create(asset=asset, spec={"max_rows": 20})
    assert (second.version, third.version) == (2, 3)


def test_invalid_spec_creates_no_version():
    asset = make_asset()
    with pytest.raises(pydantic.ValidationError):
        asset_version_create(asset=asset, spec={"max_rows": -1})
    assert asset.versions.count() == 1


def test_duplicate_name_in_same_type_and_tenant_is_a_conflict():
    make_asset()
    with pytest.raises(Conflict):
        make_asset()
    other_tenant = asset_create(tenant_id="acme", asset_type="policy", name="budget")
    assert other_tenant.pk


def test_unknown_asset_type_is_invalid():
    with pytest.raises(InvalidInput):
        asset_create(tenant_id="default", asset_type="widget", name="x")


def test_publish_archives_previous_version():
    asset = make_asset()
    first = asset_version_publish(version=asset.versions.get(version=1))
    second = asset_version_publish(version=asset_version_create(asset=asset, spec={"max_rows": 10}))

    first.refresh_from_db()
    assert first.status == "archived" and first.archived_at is not None
    assert second.status == "published" and second.published_at is not None
    assert asset.versions.filter(status="published").count() == 1


def test_publishing_the_published_version_is_a_no_op():
    asset = make_asset()
    version = asset_version_publish(version=asset.versions.get())
    again = asset_version_publish(version=version)
    assert again.status == "published" and again.published_at == version.published_at


def test_archived_version_cannot_be_published_in_place():
    asset = make_asset()
    first = asset_version_publish(version=asset.versions.get(version=1))
    asset_version_publish(version=asset_version_create(asset=asset, spec={"max_rows": 10}))
    first.refresh_from_db()
    with pytest.raises(InvalidInput, match="roll back"):
        asset_version_publish(version=first)


def test_rollback_publishes_a_new_copy_of_the_old_version():
    asset = make_asset()
    first = asset_version_publish(version=asset.versions.get(version=1))
    asset_version_publish(version=asset_version_create(asset=asset, spec={"max_rows": 10}))

    restored = asset_version_rollback(asset=asset, to_version=1)

    assert restored.version == 3 and restored.status == "published"
    assert restored.spec == first.spec and restored.copied_from_id == first.pk
    assert restored.note == "Rollback to version 1"
    assert list(asset.versions.order_by("version").values_list("status", flat=True)) == [
        "archived", "archived", "published"
    ]


def test_rollback_to_missing_or_current_version_is_invalid():
    asset = make_asset()
    asset_version_publish(version=asset.versions.get(version=1))
    with pytest.raises(InvalidInput, match="no version 7"):
        asset_version_rollback(asset=asset, to_version=7)
    with pytest.raises(InvalidInput, match="already the published"):
        asset_version_rollback(asset=asset, to_version=1)
    assert asset.versions.count() == 1


def test_database_refuses_two_published_versions():
    from django.db import IntegrityError, transaction

    asset = make_asset()
    asset_version_publish(version=asset.versions.get())
    with pytest.raises(IntegrityError), transaction.atomic():
        AssetVersion.objects.create(asset=asset, version=2, status="published", spec={})


def test_used_asset_cannot_be_deleted_unused_can(editor_client):
    from inspector.services import trace_ingest
    from testkit.factories import trace_body

    used = make_asset(asset_type="prompt", name="route_rules")
    trace_ingest(payload=trace_body())
    with pytest.raises(Conflict):
        asset_delete(asset=used)
    unused = make_asset(asset_type="screen", name="answer_card")
    asset_delete(asset=unused)
    assert not unused.__class__.objects.filter(name="answer_card").exists()
