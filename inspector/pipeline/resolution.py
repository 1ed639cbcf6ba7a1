"""Which asset version a run applies: the published one, or a test-mode override.

Overrides are ``{asset_type: "name@version"}``. They are checked up front —
unknown type, unknown asset, an asset of another type, unknown version, or
overrides outside test mode are a 400 and nothing runs.
"""

from __future__ import annotations

from django.conf import settings

from access.errors import TenantForbidden
from access.tenancy import EVERY_TENANT, TenantScope
from inspector.asset_specs import validate_spec
from inspector.contracts import ASSET_TYPES, ExecutionContext, parse_asset_ref
from inspector.models import AssetVersion
from inspector.pipeline.base import HandlerError, ResolvedAsset
from inspector.selectors import asset_own_or_shared, asset_version_own_or_shared
from kernel.errors import InvalidInput, ServiceError

MULTI_NAMED_TYPES = frozenset({"query"})


class PipelineNotConfigured(ServiceError):
    """A stage needs an asset that has no published version."""

    status_code = 409


def default_asset_names() -> dict[str, str]:
    """The asset each singleton type resolves to when a stage names none."""
    return dict(settings.OPS_DEFAULT_ASSETS)


def validate_overrides(context: ExecutionContext, *, drafts: TenantScope = EVERY_TENANT) -> dict[str, ResolvedAsset]:
    """Check every override and return them resolved, keyed by asset type.

    A draft version is only for those who may edit its asset: ``drafts`` is
    the scope of tenants whose drafts the caller may run (403 otherwise).
    """
    overrides = context.asset_overrides
    if overrides and not context.test_mode:
        raise InvalidInput("asset_overrides are only allowed in test mode", field="asset_overrides")
    resolved: dict[str, ResolvedAsset] = {}
    for asset_type, ref in overrides.items():
        if asset_type not in ASSET_TYPES:
            raise InvalidInput(
                f"unknown asset type {asset_type!r}; expected one of {', '.join(ASSET_TYPES)}",
                field="asset_overrides",
            )
        try:
            parsed = parse_asset_ref(ref)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="asset_overrides") from exc
        assets = asset_own_or_shared(tenant_id=context.tenant_id).filter(name=parsed.name)
        if not assets.filter(asset_type=asset_type).exists():
            other = assets.values_list("asset_type", flat=True).first()
            hint = f" (it is a {other} asset)" if other else ""
            raise InvalidInput(f"no {asset_type} asset named {parsed.name!r}{hint}", field="asset_overrides")
        version = _version_query(context.tenant_id, asset_type, parsed.name).filter(version=parsed.version).first()
        if version is None:
            raise InvalidInput(
                f"{asset_type} asset {parsed.name!r} has no version {parsed.version}", field="asset_overrides"
            )
        if version.status == AssetVersion.Status.DRAFT and not drafts.allows(version.asset.tenant_id):
            raise TenantForbidden(f"{asset_type} {parsed.name}@{parsed.version} is a draft: only those who may edit "
                                  "this asset can run it in test mode")
        resolved[asset_type] = _resolved(version)
    return resolved


def _version_query(tenant_id: str, asset_type: str, name: str):
    # The tenant's own asset wins over the shared one: the selector orders it first.
    return (asset_version_own_or_shared(tenant_id=tenant_id)
            .filter(asset__asset_type=asset_type, asset__name=name).select_related("asset"))


def _resolved(version: AssetVersion) -> ResolvedAsset:
    return ResolvedAsset(
        asset_type=version.asset.asset_type,
        name=version.asset.name,
        version=version.version,
        status=version.status,
        spec=validate_spec(version.asset.asset_type, version.spec),
        version_id=version.pk,
    )


class AssetResolver:
    """Resolves assets for one run, caching each answer for the run's duration."""

    def __init__(self, context: ExecutionContext, overrides: dict[str, ResolvedAsset] | None = None) -> None:
        self.context = context
        self.overrides = overrides if overrides is not None else validate_overrides(context)
        self._cache: dict[tuple[str, str], ResolvedAsset] = {}

    def get(self, asset_type: str, name: str | None = None) -> ResolvedAsset:
        override = self.overrides.get(asset_type)
        if name is None:
            # Singleton types: an override replaces the default asset outright.
            if override is not None:
                return override
            name = default_asset_names().get(asset_type)
            if not name:
                raise PipelineNotConfigured(f"no default {asset_type} asset configured (OPS_DEFAULT_ASSETS)")
            return self._cached(asset_type, name, PipelineNotConfigured)
        elif override is not None and (asset_type not in MULTI_NAMED_TYPES or override.name == name):
            # Queries are many per run, so their override applies by name; any
            # other type has one asset per run and is replaced by type.
            return override
        # A name that comes from run data (e.g. the plan's query) failing to
        # resolve is a fault of that run's assets: a stage error, not a 4xx.
        return self._cached(asset_type, name, HandlerError)

    def _cached(self, asset_type: str, name: str, error: type[Exception]) -> ResolvedAsset:
        key = (asset_type, name)
        if key not in self._cache:
            version = (
                _version_query(self.context.tenant_id, asset_type, name)
                .filter(status=AssetVersion.Status.PUBLISHED)
                .first()
            )
            if version is None:
                raise error(f"{asset_type} asset {name!r} has no published version (run `manage.py seed_assets`)")
            self._cache[key] = _resolved(version)
        return self._cache[key]


def overrides_from_args(raw: list[str]) -> dict[str, str]:
    """``["type=name@version", …]`` (command-line options) as an overrides mapping."""
    overrides = {}
    for item in raw:
        asset_type, sep, ref = item.partition("=")
        if not sep or not asset_type or not ref:
            raise InvalidInput(f"override must look like type=name@version, got {item!r}", field="override")
        overrides[asset_type] = ref
    return overrides
