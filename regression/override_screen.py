"""Data for the asset override (test mode) screen of a trace."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import jsonpatch
import jsonpointer

from inspector.contracts import ASSET_TYPES, STAGE_ORDER
from inspector.models import Trace
from inspector.selectors import asset_own_or_shared, asset_version_own_or_shared
from kernel.errors import InvalidInput, NotFound


def _used(trace: Trace) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """What the trace applied: type → {name, version} (trace level) and type → stages that applied it."""
    used: dict[str, dict[str, Any]] = {}
    stages: dict[str, set[str]] = defaultdict(set)
    for usage in trace.asset_usages.all():
        if usage.stage:
            stages[usage.asset_type].add(usage.stage)
        else:
            used[usage.asset_type] = {"name": usage.asset_name, "version": usage.version}
    return used, {t: sorted(s, key=STAGE_ORDER.index) for t, s in stages.items()}


def picker_data(trace: Trace) -> dict[str, Any]:
    """Assets of the trace's tenant (and the shared default ones) with their versions."""
    assets = (asset_own_or_shared(tenant_id=trace.tenant_id)
              .prefetch_related("versions__author").order_by("asset_type", "name"))
    used, consumers = _used(trace)
    rows = []
    for asset in assets:
        rows.append({
            "id": asset.pk, "type": asset.asset_type, "name": asset.name, "description": asset.description,
            "used": used.get(asset.asset_type, {}).get("name") == asset.name,
            "usedVersion": used.get(asset.asset_type, {}).get("version")
            if used.get(asset.asset_type, {}).get("name") == asset.name else None,
            "versions": [{"version": v.version, "status": v.status, "note": v.note,
                          "author": v.author.get_username() if v.author else "",
                          "created": v.created_at.strftime("%Y-%m-%d %H:%M")}
                         for v in sorted(asset.versions.all(), key=lambda v: -v.version)],
        })
    counts = {asset_type: sum(1 for row in rows if row["type"] == asset_type) for asset_type in ASSET_TYPES}
    return {"traceId": trace.trace_id, "assets": rows, "counts": counts, "consumers": consumers,
            "stages": list(STAGE_ORDER)}


def spec_preview(trace: Trace, asset_type: str, name: str, version: int) -> dict[str, Any]:
    """The spec change an override makes, from the version the trace used to the chosen one."""
    chosen = (asset_version_own_or_shared(tenant_id=trace.tenant_id)
              .filter(asset__asset_type=asset_type, asset__name=name, version=version).select_related("asset").first())
    if chosen is None:
        raise NotFound(f"no {asset_type} asset {name!r} version {version}")
    used, consumers = _used(trace)
    previous = used.get(asset_type)
    before: dict[str, Any] = {}
    used_ref = ""
    if previous and previous["name"] == name:
        used_version = chosen.asset.versions.filter(version=previous["version"]).first()
        before = used_version.spec if used_version else {}
        used_ref = f"{name}@{previous['version']}"
    elif previous:
        used_ref = f"{previous['name']}@{previous['version']}"
    operations = [{**op, "before": jsonpointer.resolve_pointer(before, op["path"], None)}
                  for op in jsonpatch.make_patch(before, chosen.spec).patch]
    stages = consumers.get(asset_type, [])
    if asset_type == "query" and not (previous and previous["name"] == name):
        stages = []  # a query the trace's plan never ran changes nothing here
    return {"type": asset_type, "ref": f"{name}@{version}", "used": used_ref, "operations": operations,
            "identical": not operations, "stages": stages,
            "note": "" if stages else "no stage of this trace applied this asset, so the re-run may not change"}


def parse_overrides(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise InvalidInput("overrides must map an asset type to 'name@version'", field="overrides")
    return raw
