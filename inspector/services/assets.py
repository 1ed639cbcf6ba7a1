"""Writing assets and their immutable versions (SPEC §3).

Rules: version numbers grow by one per asset; a version's spec never changes;
at most one version is published; publishing archives the previous one;
rollback publishes a *new* version copied from an old one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.asset_specs import validate_spec
from inspector.models import Asset, AssetVersion, TraceAssetUsage
from inspector.models.assets import AssetType
from inspector.signals import asset_version_published
from kernel.errors import Conflict, InvalidInput


def asset_create(
    *,
    tenant_id: str,
    asset_type: str,
    name: str,
    description: str = "",
    spec: dict[str, Any] | None = None,
    note: str = "",
    author: AbstractBaseUser | None = None,
    scope: TenantScope = EVERY_TENANT,
) -> Asset:
    """Create an asset; with ``spec`` also its version 1 as a draft.

    Raises ``TenantForbidden`` when ``tenant_id`` is outside ``scope`` (nothing is written).
    """
    scope.require(tenant_id)
    if asset_type not in AssetType.values:
        raise InvalidInput(f"unknown asset type {asset_type!r}", field="asset_type")
    normalised = validate_spec(asset_type, spec) if spec is not None else None
    try:
        with transaction.atomic():
            asset = Asset.objects.create(
                tenant_id=tenant_id, asset_type=asset_type, name=name, description=description
            )
            if normalised is not None:
                AssetVersion.objects.create(asset=asset, version=1, spec=normalised, note=note, author=author)
    except IntegrityError as exc:
        raise Conflict(f"a {asset_type} asset named {name!r} already exists for tenant {tenant_id!r}") from exc
    return asset


def asset_update(*, asset: Asset, description: str) -> Asset:
    """Only the description of an asset is editable; its identity is not."""
    asset.description = description
    asset.save(update_fields=["description", "updated_at"])
    return asset


def asset_delete_refusal(*, asset: Asset) -> str:
    """Why ``asset`` may not be deleted ("" when it may): a version stored traces applied keeps it."""
    if TraceAssetUsage.objects.filter(asset_version__asset=asset).exists():
        return (f"{asset.asset_type} asset {asset.name!r} was applied by stored traces and cannot be deleted: "
                "its versions are the history of those traces")
    return ""


def asset_delete(*, asset: Asset) -> None:
    """Delete an asset that no trace has applied; used assets stay for history.

    Raises ``Conflict`` (nothing deleted) with ``asset_delete_refusal``'s reason.
    """
    with transaction.atomic():
        Asset.objects.select_for_update().filter(pk=asset.pk).first()
        refusal = asset_delete_refusal(asset=asset)
        if refusal:
            raise Conflict(refusal)
        asset.delete()


def asset_version_delete_refusal(*, version: AssetVersion) -> str:
    """Why ``version`` may not be deleted ("" when it may).

    Only a draft no trace applied (not even a test-mode run) may go: the
    published version serves the pipeline, an archived one is what ran before,
    and a used one is part of its traces' history.
    """
    label = f"version {version.version} of {version.asset.asset_type} asset {version.asset.name!r}"
    used = TraceAssetUsage.objects.filter(asset_version=version).exists()
    if version.status == AssetVersion.Status.PUBLISHED:
        reason = "it is the published version the pipeline uses; publish or roll back to another version first"
        if used:
            reason += ", and stored traces applied it"
        return f"{label} cannot be deleted: {reason}"
    if used:
        return f"{label} cannot be deleted: stored traces applied it, and it stays for their history"
    if version.status == AssetVersion.Status.ARCHIVED:
        return f"{label} cannot be deleted: it was published once and stays as the asset's history"
    return ""


def asset_versions_delete(*, versions: QuerySet[AssetVersion], scope: TenantScope = EVERY_TENANT) -> int:
    """Delete unused drafts, all or nothing; returns how many.

    Raises ``Conflict`` naming the first version that must stay (see
    ``asset_version_delete_refusal``) and ``TenantForbidden`` outside
    ``scope``; then nothing is deleted.
    """
    with transaction.atomic():
        chosen = list(versions.select_related("asset").select_for_update(of=("self",)).order_by("pk"))
        for version in chosen:
            scope.require(version.asset.tenant_id)
            refusal = asset_version_delete_refusal(version=version)
            if refusal:
                raise Conflict(refusal)
        AssetVersion.objects.filter(pk__in=[version.pk for version in chosen]).delete()
    return len(chosen)


@transaction.atomic
def asset_version_create(
    *, asset: Asset, spec: dict[str, Any], note: str = "", author: AbstractBaseUser | None = None,
    scope: TenantScope = EVERY_TENANT,
) -> AssetVersion:
    """Add the next numbered draft version after validating its spec.

    Raises ``TenantForbidden`` outside ``scope`` and ``pydantic.ValidationError``
    for a spec its type refuses; then nothing is written.
    """
    scope.require(asset.tenant_id)
    normalised = validate_spec(asset.asset_type, spec)
    # Lock the asset row so two concurrent writers cannot take the same number.
    Asset.objects.select_for_update().filter(pk=asset.pk).first()
    current = asset.versions.aggregate(top=Max("version"))["top"] or 0
    return AssetVersion.objects.create(asset=asset, version=current + 1, spec=normalised, note=note, author=author)


@transaction.atomic
def asset_version_publish(*, version: AssetVersion) -> AssetVersion:
    """Publish a draft; the previously published version becomes archived.

    Publishing the already-published version is a no-op. Archived versions are
    not re-published in place: roll back to them instead (a new version).
    """
    Asset.objects.select_for_update().filter(pk=version.asset_id).first()
    version.refresh_from_db()
    if version.status == AssetVersion.Status.PUBLISHED:
        return version
    if version.status == AssetVersion.Status.ARCHIVED:
        raise InvalidInput(
            f"version {version.version} is archived; roll back to it to publish a copy", field="version"
        )
    now = timezone.now()
    AssetVersion.objects.filter(asset_id=version.asset_id, status=AssetVersion.Status.PUBLISHED).update(
        status=AssetVersion.Status.ARCHIVED, archived_at=now
    )
    version.status = AssetVersion.Status.PUBLISHED
    version.published_at = now
    version.save(update_fields=["status", "published_at"])
    asset_version_published.send(sender=AssetVersion, version=version)
    return version


def asset_version_publish_selected(*, versions: QuerySet[AssetVersion], scope: TenantScope) -> AssetVersion:
    """Publish the one version of a selection (the admin's action) when its tenant is in ``scope``.

    Raises ``InvalidInput`` unless exactly one version is selected and
    ``TenantForbidden`` outside the scope; then as ``asset_version_publish``.
    """
    if versions.count() != 1:
        raise InvalidInput("Select exactly one version to publish.")
    version = versions.select_related("asset").get()
    scope.require(version.asset.tenant_id)
    return asset_version_publish(version=version)


@transaction.atomic
def asset_version_rollback(
    *, asset: Asset, to_version: int, note: str = "", author: AbstractBaseUser | None = None,
    scope: TenantScope = EVERY_TENANT,
) -> AssetVersion:
    """Publish a new version whose spec is copied from ``to_version``; all of it or, on an error, nothing."""
    scope.require(asset.tenant_id)
    source = asset.versions.filter(version=to_version).first()
    if source is None:
        raise InvalidInput(f"asset {asset.name!r} has no version {to_version}", field="version")
    if source.status == AssetVersion.Status.PUBLISHED:
        raise InvalidInput(f"version {to_version} is already the published version", field="version")
    copy = asset_version_create(
        asset=asset, spec=source.spec, note=note or f"Rollback to version {to_version}", author=author
    )
    copy.copied_from = source
    copy.save(update_fields=["copied_from"])
    return asset_version_publish(version=copy)
