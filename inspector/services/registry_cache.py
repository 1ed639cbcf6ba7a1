"""In-process cache of registry look-ups made by trace ingest.

Every ingested trace links its bill of materials to the registry: which
``AssetVersion`` is ``(tenant, type, name, version)``, and its status. That
was one query a trace (~0.3 ms of SQL plus the ORM's work) for answers that
rarely change: a version's id never changes once created.

Found versions live ``OPS_REGISTRY_CACHE_SECONDS`` (0 switches the cache
off); misses are not kept, so a version created by another process (the web
process, while a worker ingests) is linked by the very next trace: a usage
row left unlinked would stay out of impact reports for good. Any save or
delete of an ``Asset`` or ``AssetVersion`` in this process empties the
cache, at once and again at its commit. Another process's change to a found
entry is seen within the lifetime: until then a status may be the previous
one, and a tenant's own new copy of a shared asset may lose to the shared one.
A cached id of a version deleted elsewhere fails the deferred foreign key at
commit; ingest then empties the cache and writes the trace once more.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from inspector.models import Asset, AssetVersion
from inspector.selectors import asset_version_own_or_shared

MAX_ENTRIES = 10_000  # beyond this the cache starts over rather than growing

RegistryKey = tuple[str, str, int]  # (asset type, name, version)


@dataclass(frozen=True)
class RegistryVersion:
    id: int
    status: str


_entries: dict[tuple[str, str, str, int], tuple[float, RegistryVersion]] = {}


def registry_versions(tenant_id: str, keys: Iterable[RegistryKey]) -> dict[RegistryKey, RegistryVersion]:
    """Registry versions of ``keys`` for a tenant; the tenant's own asset wins over the ``default`` tenant's.

    Keys the registry does not have are absent from the answer.
    """
    lifetime = settings.OPS_REGISTRY_CACHE_SECONDS
    now = time.monotonic()
    found: dict[RegistryKey, RegistryVersion] = {}
    missing: set[RegistryKey] = set()
    for key in keys:
        entry = _entries.get((tenant_id, *key)) if lifetime else None
        if entry is None or entry[0] <= now:
            missing.add(key)
        else:
            found[key] = entry[1]
    if not missing:
        return found
    looked_up = _registry_query(tenant_id, missing)
    found.update(looked_up)
    if lifetime:
        if len(_entries) + len(missing) > MAX_ENTRIES:
            _entries.clear()
        expires = now + lifetime
        for key, version in looked_up.items():
            _entries[(tenant_id, *key)] = (expires, version)
    return found


def registry_cache_clear() -> None:
    """Forget every entry."""
    _entries.clear()


def _registry_changed(**_signal_kwargs) -> None:
    # Now, and again at commit: a look-up by another thread before the commit
    # would otherwise keep the old answer for the whole lifetime.
    _entries.clear()
    transaction.on_commit(_entries.clear)


def _registry_query(tenant_id: str, keys: set[RegistryKey]) -> dict[RegistryKey, RegistryVersion]:
    condition = Q()
    for asset_type, name, version in keys:
        condition |= Q(asset__asset_type=asset_type, asset__name=name, version=version)
    rows = asset_version_own_or_shared(tenant_id=tenant_id).filter(condition).values_list(
        "id", "status", "version", "asset__asset_type", "asset__name"
    )
    found: dict[RegistryKey, RegistryVersion] = {}
    for pk, status, version, asset_type, name in rows:
        # The tenant's own rows come first, so its own copy of a shared asset wins.
        found.setdefault((asset_type, name, version), RegistryVersion(id=pk, status=status))
    return found


for _model in (Asset, AssetVersion):
    post_save.connect(_registry_changed, sender=_model, dispatch_uid=f"registry_changed_save_{_model.__name__}")
    post_delete.connect(_registry_changed, sender=_model, dispatch_uid=f"registry_changed_delete_{_model.__name__}")
