"""Which price table prices a trace's usage, read once per tenant and version while it is fresh.

A trace names its price table in its bill of materials
(``applied_assets["price_table"] = "name@version"``) to be priced by that
version; otherwise the published version of ``OPS_PRICE_TABLE`` (the tenant's
own asset first, then the shared one) prices it. Cached in-process like the
registry look-ups of ingest (``registry_cache``), for the same lifetime and
emptied by the same kind of signal: a publish here is seen by the next
trace, one in another process within ``OPS_REGISTRY_CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from inspector.models import Asset, AssetVersion
from inspector.selectors import asset_version_own_or_shared

PRICE_TABLE_TYPE = "price_table"


@dataclass(frozen=True)
class PriceTable:
    id: int
    name: str
    version: int
    status: str
    spec: dict[str, Any]


_entries: dict[tuple[str, str, int], tuple[float, PriceTable | None]] = {}


def price_table_for(tenant_id: str, *, name: str = "", version: int = 0) -> PriceTable | None:
    """The named version, or (no name) the published version of ``OPS_PRICE_TABLE``; None when there is none."""
    name = name or settings.OPS_PRICE_TABLE
    key = (tenant_id, name, version)
    lifetime = settings.OPS_REGISTRY_CACHE_SECONDS
    now = time.monotonic()
    entry = _entries.get(key) if lifetime else None
    if entry is not None and entry[0] > now:
        return entry[1]
    found = _lookup(tenant_id, name, version)
    if lifetime:
        # Misses are kept too (most tenants have no table): a publish empties the cache anyway.
        _entries[key] = (now + lifetime, found)
    return found


def price_tables_clear() -> None:
    _entries.clear()


def _lookup(tenant_id: str, name: str, version: int) -> PriceTable | None:
    versions = asset_version_own_or_shared(tenant_id=tenant_id).filter(
        asset__asset_type=PRICE_TABLE_TYPE, asset__name=name)
    versions = versions.filter(version=version) if version else versions.filter(status=AssetVersion.Status.PUBLISHED)
    row = versions.values_list("id", "version", "status", "spec").first()
    if row is None:
        return None
    pk, number, status, spec = row
    return PriceTable(id=pk, name=name, version=number, status=status, spec=spec)


def _changed(**_signal_kwargs) -> None:
    _entries.clear()
    transaction.on_commit(_entries.clear)


for _model in (Asset, AssetVersion):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"price_tables_changed_save_{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"price_tables_changed_delete_{_model.__name__}")
