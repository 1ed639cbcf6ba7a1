"""An asset's version history: each version's times and the traffic it had in the report's range.

Read for the version timeline (``charts.timeline_svg``): when each version was
created and published, how many traces applied it in range and when the
first and last of them started. Rolled days come from ``UsageRollup`` (which
keeps each group's first and last use), the rest from the usage rows, as in
``queries``; base and target are not counted again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min, Sum

from impact.queries import rolled_test_mode_traces, usage_within
from inspector.models import Asset, TraceAssetUsage, UsageRollup
from inspector.services.rollups import RollupWindow


def usage_timeline(asset: Asset, window: RollupWindow, *, known: dict[int, dict[str, Any]],
                   tenants: tuple[str, ...] | None, include_test_mode: bool = False) -> list[dict[str, Any]]:
    """Every version with its times and traffic in range, newest version first.

    ``known`` maps version ids to ``{"traces", "first_used", "last_used"}``
    already computed (base and target); only the other versions are read, in
    one grouped query per source. ``first_used``, ``last_used`` and
    ``published`` are None when there is none.
    """
    versions = list(asset.versions.select_related("author").order_by("-version"))
    others = [v.pk for v in versions if v.pk not in known]
    usage = dict(known)
    if others:
        usage.update(_version_usage(others, window, tenants=tenants, include_test_mode=include_test_mode))
    rows = []
    for v in versions:
        found = usage.get(v.pk, {})
        rows.append({"version": v.version, "status": v.status, "note": v.note,
                     "author": v.author.get_username() if v.author else "", "created": v.created_at.isoformat(),
                     "published": v.published_at.isoformat() if v.published_at else None,
                     "traces": found.get("traces", 0), "first_used": found.get("first_used"),
                     "last_used": found.get("last_used")})
    return rows


class _Usage:
    """Traces and first/last use of one version, summed over rolled and live rows."""

    def __init__(self) -> None:
        self.traces, self.first, self.last = 0, None, None

    def add(self, traces: int, first: datetime | None, last: datetime | None) -> None:
        self.traces += traces or 0
        self.first = min(filter(None, (self.first, first)), default=None)
        self.last = max(filter(None, (self.last, last)), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {"traces": self.traces, "first_used": self.first.isoformat() if self.first else None,
                "last_used": self.last.isoformat() if self.last else None}


def _version_usage(version_ids: list[int], window: RollupWindow, *, tenants: tuple[str, ...] | None,
                   include_test_mode: bool = False) -> dict[int, dict[str, Any]]:
    """Traces and first/last use per version in range: rolled days from ``UsageRollup``, the rest from usage rows."""
    found: dict[int, _Usage] = {pk: _Usage() for pk in version_ids}
    if window.rolled:
        rolled = UsageRollup.objects.filter(window.day_filter(), asset_version_id__in=version_ids, stage="")
        if tenants is not None:
            rolled = rolled.filter(tenant_id__in=tenants)
        for row in rolled.values("asset_version_id").annotate(n=Sum("traces"), first=Min("first_at"),
                                                              last=Max("last_at")).order_by():
            found[row["asset_version_id"]].add(row["n"], row["first"], row["last"])
    live_sets = []
    tested = rolled_test_mode_traces(window, tenants) if include_test_mode else []
    if tested:
        live_sets.append(TraceAssetUsage.objects.filter(trace_id__in=tested, asset_version_id__in=version_ids,
                                                        stage=""))
    for live in window.live_filter():
        live_sets.append(usage_within(TraceAssetUsage.objects.filter(live, asset_version_id__in=version_ids, stage=""),
                                      tenants=tenants, include_test_mode=include_test_mode))
    for usage in live_sets:
        for row in usage.values("asset_version_id").annotate(n=Count("*"), first=Min("started_at"),
                                                             last=Max("started_at")).order_by():
            found[row["asset_version_id"]].add(row["n"], row["first"], row["last"])
    return {pk: usage.as_dict() for pk, usage in found.items()}
