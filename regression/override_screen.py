"""Data for the asset override (test mode) screen of a trace."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from inspector.contracts import ASSET_TYPES, STAGE_ORDER
from inspector.models import Trace
from inspector.selectors import asset_own_or_shared, asset_version_own_or_shared
from inspector.structural_diff import DEFAULT_LIST_KEYS, DiffOptions, stage_output_diff
from inspector.text_diff import is_multiline, line_diff, sql_layout
from kernel.errors import InvalidInput, NotFound

# Every key of a spec is content (no volatile keys, nothing left out); route rules and answer
# blocks are matched by their intent, so an inserted rule is one added rule, not a shifted list.
SPEC_DIFF = DiffOptions(volatile_patterns=(), ignore_keys=(), list_keys=(*DEFAULT_LIST_KEYS, "intent"))


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
    operations = spec_changes(before, chosen.spec, asset_type=asset_type)
    stages = consumers.get(asset_type, [])
    if asset_type == "query" and not (previous and previous["name"] == name):
        stages = []  # a query the trace's plan never ran changes nothing here
    return {"type": asset_type, "ref": f"{name}@{version}", "used": used_ref, "operations": operations,
            "identical": not operations, "stages": stages,
            "note": "" if stages else "no stage of this trace applied this asset, so the re-run may not change"}


def spec_changes(before: dict[str, Any], after: dict[str, Any], *, asset_type: str) -> list[dict[str, Any]]:
    """The changes from spec ``before`` to spec ``after``: add (``after``), remove (``before``), replace (both).

    The one structural diff of the project (``inspector.structural_diff``)
    aligns lists, so a list edit reads as the items it removes, at their index
    in ``before``, and the items it adds, at their index in ``after``. (An RFC
    6902 patch removing three keywords says "remove /keywords/6" three times,
    each index counted after the previous removal.) A replaced text on several
    lines, and a query's SQL, carries ``lines``: its line diff.
    """
    operations: list[dict[str, Any]] = [dict(op) for op in stage_output_diff(
        before, after, SPEC_DIFF, max_operations=None)["operations"]]
    for op in operations:
        old, new = op.get("before"), op.get("after")
        if op["op"] != "replace" or not (isinstance(old, str) and isinstance(new, str)):
            continue
        if asset_type == "query" and op["path"] == "/sql":
            op["lines"] = line_diff(sql_layout(old), sql_layout(new))
        elif is_multiline(old) or is_multiline(new):
            op["lines"] = line_diff(old, new)
    return operations


def parse_overrides(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise InvalidInput("overrides must map an asset type to 'name@version'", field="overrides")
    return raw
