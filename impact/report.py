"""The impact report of an asset: per-version metrics, comparison, axes, risk, related assets, advice.

Reads through ``queries`` (database aggregates) and applies the pure
rules in ``risk``; nothing here is sample data.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from access.tenancy import EVERY_TENANT, TenantScope
from impact import history, queries
from impact.risk import (
    AXIS_FORMULAS,
    VersionMetrics,
    compare_versions,
    quality_axes,
    recommendations,
    regression_risk,
    related_assets,
    spec_change_size,
)
from inspector.models import Asset
from inspector.params import is_natural
from inspector.services.rollups import RollupWindow, rollup_window
from kernel.errors import InvalidInput


def _pick_versions(asset: Asset, base: str | None, target: str | None) -> tuple[Any, Any]:
    versions = {v.version: v for v in asset.versions.all()}
    if not versions:
        return None, None
    for label, raw in (("base", base), ("target", target)):
        if raw not in (None, "") and (not is_natural(str(raw)) or int(raw) not in versions):
            raise InvalidInput(f"{label} must be one of this asset's versions ({', '.join(map(str, sorted(versions)))})",
                               field=label)
    published = next((v for v in versions.values() if v.status == "published"), None)
    newest = versions[max(versions)]
    target_version = versions[int(target)] if target else newest
    if base:
        base_version = versions[int(base)]
    else:
        older = [n for n in versions if n < target_version.version]
        base_version = (published if published and published.version != target_version.version
                        else versions[max(older)] if older else target_version)
    return base_version, target_version


def _metrics_for(versions: set, stages: list[str], window: RollupWindow, filters: dict[str, Any]) -> dict[int, tuple]:
    """Metrics of base and target; on PostgreSQL the two at once, on two connections.

    Each version's figures scan its own index range, so the two scans overlap
    instead of adding up. One runs in the request's thread, on its connection;
    the other in this process's one helper thread, which keeps its connection
    between requests as the request thread does (``DB_CONN_MAX_AGE``, health
    checks): a thread pool made per request opened two new PostgreSQL
    connections each time, which made the page slower than one after the other
    on two cores (139 against 106 ms, issue 17). Tests keep it sequential
    (``OPS_IMPACT_PARALLEL``): their data sit in one uncommitted transaction
    other connections cannot see.
    """
    from django.conf import settings
    from django.db import connection

    if len(versions) < 2 or not settings.OPS_IMPACT_PARALLEL or connection.vendor != "postgresql":
        return {v.pk: queries.version_metrics(v, stages, window, **filters) for v in versions}
    first, second = sorted(versions, key=lambda version: version.pk)
    elsewhere = _helper_thread().submit(_metrics_on_helper_thread, second, stages, window, filters)
    return {first.pk: queries.version_metrics(first, stages, window, **filters), second.pk: elsewhere.result()}


def _metrics_on_helper_thread(version, stages: list[str], window: RollupWindow, filters: dict[str, Any]) -> tuple:
    from django.db import close_old_connections

    # What Django does around each request: drop a connection past its age or found broken.
    close_old_connections()
    try:
        return queries.version_metrics(version, stages, window, **filters)
    finally:
        close_old_connections()


@functools.cache
def _helper_thread():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="impact-metrics")


PRODUCTION_ONLY = ("Production traffic only: test-mode traces (override tests, stage tests, golden runs) "
                   "are left out.")
WITH_TEST_MODE = ("Production and test-mode traffic: override tests, stage tests and golden runs are "
                  "counted with production traces.")


def asset_impact(*, asset: Asset, base: str | None = None, target: str | None = None,
                 start: datetime | None = None, end: datetime | None = None, tenant: str = "",
                 include_test_mode: bool = False, scope: TenantScope = EVERY_TENANT) -> dict[str, Any]:
    """The whole impact report as plain data: the screen's context, the CSV's and the JSON's source.

    A figure that does not exist is None here; the JSON
    (``serializers.ImpactReportSerializer``) leaves it out.

    Only traces of ``scope``'s tenants count: a shared asset's report never
    shows another tenant's usage. Test-mode traces are not production
    traffic and count only with ``include_test_mode``.
    """
    if start and end and start > end:
        raise InvalidInput("from must be before to", field="from")
    if tenant:
        scope.require(tenant)
    readable = scope.readable()
    tenants = (tenant,) if tenant else (None if readable is None else tuple(sorted(readable)))
    filters = {"start": start, "end": end, "tenants": tenants, "include_test_mode": include_test_mode}
    base_version, target_version = _pick_versions(asset, base, target)
    stages = queries.consuming_stages(asset)
    window = rollup_window(start, end)  # read once: which days come from the roll-up
    computed = _metrics_for({base_version, target_version} - {None}, stages, window, filters)
    known = {pk: {key: m[key] for key in ("traces", "first_used", "last_used")} for pk, (m, _) in computed.items()}
    versions = history.usage_timeline(asset, window, known=known, tenants=tenants,
                                      include_test_mode=include_test_mode)
    report: dict[str, Any] = {
        "asset": {"id": asset.pk, "type": asset.asset_type, "name": asset.name, "tenant": asset.tenant_id},
        "filters": {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
                    "tenant": tenant, "include_test_mode": include_test_mode},
        "traffic_scope": WITH_TEST_MODE if include_test_mode else PRODUCTION_ONLY,
        "versions": versions, "axis_formulas": AXIS_FORMULAS,
        "rollup": _rollup_note(window),
    }
    if target_version is None or not any(row["traces"] for row in versions):
        report.update(empty=True, message="No stored trace applied any version of this asset yet"
                      + (" in this range." if start or end or tenant else "."))
        return report
    base_metrics, base_samples = computed[base_version.pk]
    target_metrics, target_samples = computed[target_version.pk]
    base_m, target_m = VersionMetrics(**base_metrics), VersionMetrics(**target_metrics)
    budget = queries.policy_budget_ms(tenant)
    comparison = compare_versions(base_m, target_m, base_samples=base_samples, target_samples=target_samples)
    total = queries.total_traces(window, tenants=tenants, include_test_mode=include_test_mode)
    risk = regression_risk(base=base_m, target=target_m,
                           spec_ops=spec_change_size(base_version.spec, target_version.spec),
                           traffic_share=target_m.traces / total if total else 0.0, stages=stages,
                           comparison=comparison)
    axes = {"base": quality_axes(base_m, budget_ms=budget), "target": quality_axes(target_m, budget_ms=budget)}
    report.update(
        empty=False, base=base_version.version, target=target_version.version, stages=stages, budget_ms=budget,
        metrics={"base": base_metrics, "target": target_metrics}, comparison=comparison, axes=axes, risk=risk,
        traffic={"target_traces": target_m.traces, "all_traces": total},
        related=related_assets(queries.co_applied(target_version.pk, asset, **filters)),
        recommendations=recommendations(asset_type=asset.asset_type, asset_name=asset.name, base=base_m,
                                        target=target_m, comparison=comparison, axes=axes["target"], risk=risk),
    )
    return report


def _rollup_note(window: RollupWindow) -> dict[str, Any]:
    """Which days came from the daily roll-up: their percentiles are read from duration buckets."""
    if not window.rolled:
        return {"rolled_days": 0, "through": None, "percentiles_approximate": False}
    days = (window.last_day - window.first_day).days + 1 - len(window.holes)
    return {"rolled_days": days, "through": window.last_day.isoformat(), "percentiles_approximate": True}
