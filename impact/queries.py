"""Per-version metrics of an asset, aggregated in the database from stored traces.

Every figure comes from the bill-of-materials rows of traces that applied the
version (``TraceAssetUsage``), which carry the trace's figures (trace-level
rows) and each consuming stage's final attempt (stage rows) since ingest. So
one narrow, indexed table is aggregated — no join to traces or stage runs.
Percentiles use PostgreSQL's ``percentile_cont``; on SQLite (the demo
database) numpy computes them from the values.

Test-mode traces (override tests, stage tests, golden runs) are not
production traffic: every figure leaves them out unless
``include_test_mode``. Roll-ups hold production traffic only, so with
``include_test_mode`` the test-mode traces of rolled days are counted from
their usage rows (they are few); see ``inspector.services.rollups``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import operator
from collections import defaultdict
from datetime import datetime
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, Exists, FloatField, Max, Min, OuterRef, Q, QuerySet, Sum

from inspector.contracts import STAGE_ORDER
from inspector.models import Asset, AssetVersion, Trace, TraceAssetUsage, TraceRollup, UsageRollup
from inspector.selectors import asset_version_own_or_shared
from inspector.services.rollups import (
    RollupWindow,
    Tally,
    bucket_expression,
    rolled_sums,
    usage_sums,
)
from inspector.usage import COST_DIGITS
from kernel.tenancy import SHARED_TENANT
from regression.models import RegressionAnalysis

log = logging.getLogger(__name__)

# Summed roll-up rows are kept this long; a roll-up that changes them changes their key sooner.
ROLLED_ROWS_SECONDS = 24 * 3600
# Newest trace-level rows per version whose durations, tokens and costs feed the Mann–Whitney tests.
SAMPLE_TRACES = 2000
# Related assets are counted over the version's newest traces: 1,000 keep the query ~15 ms at any size
# (5,000 took ~65 ms of the impact page, mostly probing each trace's usage rows).
CO_APPLIED_SAMPLE = 1000


class Percentiles(Aggregate):
    """PostgreSQL ``percentile_cont(ARRAY[0.5, 0.95])``: both percentiles from one sort."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, **extra):
        from django.contrib.postgres.fields import ArrayField

        super().__init__(expression, output_field=ArrayField(FloatField()), **extra)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _exact_percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's ``percentile_cont``."""
    return float(np.quantile(values, fraction)) if values else None


def _in_range(rows: QuerySet, *, start: datetime | None, end: datetime | None,
              tenants: tuple[str, ...] | None) -> QuerySet:
    """Rows (traces or usage: both carry ``started_at`` and ``tenant_id``) started within the range, of the
    tenants (None: every tenant); an empty bound is open."""
    if start:
        rows = rows.filter(started_at__gte=start)
    if end:
        rows = rows.filter(started_at__lte=end)
    if tenants is not None:
        rows = rows.filter(tenant_id__in=tenants)
    return rows


def usage_within(usage: QuerySet, *, start: datetime | None = None, end: datetime | None = None,
            tenants: tuple[str, ...] | None = None, include_test_mode: bool = False) -> QuerySet:
    """Usage rows within the report's time range and tenants (None: every tenant), production only by default."""
    if not include_test_mode:
        usage = usage.filter(test_mode=False)  # in the covering index: still an index-only scan
    return _in_range(usage, start=start, end=end, tenants=tenants)


def version_usage(version_id: int, *, start: datetime | None, end: datetime | None,
                  tenants: tuple[str, ...] | None, include_test_mode: bool = False, stage: str = "") -> QuerySet:
    """Usage rows of one version (trace-level by default) within the filters."""
    return usage_within(TraceAssetUsage.objects.filter(asset_version_id=version_id, stage=stage),
                   start=start, end=end, tenants=tenants, include_test_mode=include_test_mode)


def _percentiles(rows: QuerySet, field: str) -> tuple[float | None, float | None]:
    if _is_postgres():
        found = rows.aggregate(both=Percentiles(field))["both"] or [None, None]
        return found[0], found[1]
    values = [float(v) for v in rows.values_list(field, flat=True)]
    return _exact_percentile(values, 0.5), _exact_percentile(values, 0.95)


def version_metrics(version: AssetVersion, stages: list[str], window: RollupWindow,
                    **filters: Any) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """``(metrics, samples)`` of one version; metrics match ``risk.VersionMetrics``, samples
    ``risk.compare_versions``'s ``*_samples`` (see ``trace_samples``).

    Whole days that are rolled up are read from the roll-up
    (``inspector.services.rollups``) and the rest from the usage rows; with no
    rolled day in range every figure is exact, otherwise the percentiles are
    read from duration buckets (within ~2.5 %) and the rest stays exact.
    """
    if window.rolled:
        return _rolled_version_metrics(version, stages, window, **filters)
    usage = version_usage(version.pk, **filters)
    # Counting an indexed column (not the primary key) keeps every aggregate an
    # index-only scan of the covering index: 13 ms instead of 75 ms at 50k rows.
    aggregates = _totals()
    if _is_postgres():
        # One pass over the version's rows: counts, sums and both percentiles together.
        aggregates["percentiles"] = Percentiles("duration_ms")
    row = usage.aggregate(**aggregates)
    both = row.pop("percentiles", None) or [None, None]
    row["median"], row["p95"] = both if _is_postgres() else _percentiles(usage, "duration_ms")
    for mean, total in (("refs", "refs_sum"), ("rows", "rows_sum"), ("tokens", "tokens_sum"), ("cost", "cost_sum")):
        row[mean] = (row[total] or 0) / row["traces"] if row["traces"] else None
    return _metrics_from(version, row, stage_durations(version.pk, stages, **filters)), trace_samples(usage)


def trace_samples(usage: QuerySet) -> dict[str, list[float]]:
    """Per-trace samples of the newest ``SAMPLE_TRACES`` trace-level rows, keyed by the metric they test.

    Durations, tokens and costs come from one read of the covering index
    (all three are in it): ``{"duration_median_ms", "mean_tokens", "mean_cost"}``.
    A trace that reported no usage is in the tokens and cost samples as 0,
    as it counts in the means.
    """
    rows = list(usage.order_by("-started_at").values_list("duration_ms", "tokens", "cost")[:SAMPLE_TRACES])
    return {"duration_median_ms": [float(duration) for duration, _, _ in rows],
            "mean_tokens": [float(tokens) for _, tokens, _ in rows],
            "mean_cost": [float(cost) for _, _, cost in rows]}


def _totals() -> dict[str, Any]:
    return {
        "traces": Count("*"), "first": Min("started_at"), "last": Max("started_at"),
        "errors": Count("asset_version_id", filter=Q(status="error")),
        "warnings": Count("asset_version_id", filter=Q(status="warning")),
        "replans": Count("asset_version_id", filter=Q(replanned=True)),
        "empties": Count("asset_version_id", filter=Q(result_empty=True)),
        "refs_sum": Sum("references_count"), "rows_sum": Sum("rows_count"),
        "tokens_sum": Sum("tokens"), "cost_sum": Sum("cost"),
    }


def _metrics_from(version: AssetVersion, row: dict[str, Any], stage_figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The metrics dict from one version's totals (``traces``, ``errors``, …, ``median``, ``p95``, means).

    Means are rounded here, once, so the roll-up and the usage rows (whose
    float sums differ in the last bits) give the same figures.
    """
    traces = row["traces"]
    rate = (lambda n: round(n / traces, 4)) if traces else (lambda n: 0.0)
    return {
        "version": version.version, "traces": traces,
        "first_used": row["first"].isoformat() if row["first"] else None,
        "last_used": row["last"].isoformat() if row["last"] else None,
        "success_rate": rate(traces - row["errors"] - row["warnings"]) if traces else 0.0,
        "warning_rate": rate(row["warnings"]), "error_rate": rate(row["errors"]),
        "empty_rate": rate(row["empties"]), "replan_rate": rate(row["replans"]),
        "errors": row["errors"], "empties": row["empties"],
        "duration_median_ms": _round(row["median"]), "duration_p95_ms": _round(row["p95"]),
        "mean_references": _round(row["refs"]) if traces else None,
        "mean_rows": _round(row["rows"]) if traces else None,
        # Costs are stored to COST_DIGITS decimals (inspector.usage); two would round most means to 0.
        "mean_cost": round(row["cost"], COST_DIGITS) if traces else None,
        "mean_tokens": _round(row["tokens"]) if traces else None,
        "verdicts": verdict_counts(version.pk),
        "stage_durations": stage_figures,
    }


def _rolled_version_metrics(version: AssetVersion, stages: list[str], window: RollupWindow,
                            **filters: Any) -> tuple[dict[str, Any], dict[str, list[float]]]:
    tenants, include_test_mode = filters["tenants"], filters.get("include_test_mode", False)
    # The trace level ('') and the consuming stages in one pass over the version's roll-up.
    per_stage = _tallies(version.pk, window, tenants, stages=["", *stages], include_test_mode=include_test_mode)
    trace_level = per_stage.get("", Tally())
    median, p95 = trace_level.percentiles()
    stage_figures: dict[str, dict[str, Any]] = {stage: {"median_ms": None, "p95_ms": None, "runs": 0} for stage in stages}
    for stage in stages:
        if stage in per_stage:
            stage_median, stage_p95 = per_stage[stage].percentiles()
            stage_figures[stage] = {"median_ms": _round(stage_median), "p95_ms": _round(stage_p95),
                                    "runs": per_stage[stage].traces}
    traces = trace_level.traces
    row = {"traces": traces, "first": trace_level.first_at, "last": trace_level.last_at,
           "errors": trace_level.errors, "warnings": trace_level.warnings, "replans": trace_level.replans,
           "empties": trace_level.empties, "median": median, "p95": p95,
           **{mean: total / traces if traces else None
              for mean, total in (("refs", trace_level.references_sum), ("rows", trace_level.rows_sum),
                                  ("tokens", trace_level.tokens_sum), ("cost", trace_level.cost_sum))}}
    # The samples are the newest exact rows, read as without the roll-up: the tests give the same p-values.
    return _metrics_from(version, row, stage_figures), trace_samples(version_usage(version.pk, **filters))


def rolled_test_mode_traces(window: RollupWindow, tenants: tuple[str, ...] | None) -> list[int]:
    """Test-mode traces of the rolled days, which the roll-up leaves out (few: read by their own index)."""
    if not window.rolled:
        return []
    traces = Trace.objects.filter(window.rolled_filter(), test_mode=True)
    if tenants is not None:
        traces = traces.filter(tenant_id__in=tenants)
    return list(traces.values_list("pk", flat=True))


def _tallies(version_id: int, window: RollupWindow, tenants: tuple[str, ...] | None, *,
             stages: list[str], include_test_mode: bool = False) -> dict[str, Tally]:
    """Per stage ('' is the trace level), the version's figures: rolled days plus live ranges.

    With ``include_test_mode`` the rolled days' test-mode traces are added
    from their usage rows (an id list: the (version, trace) index finds them).
    """
    tallies: dict[str, Tally] = defaultdict(Tally)
    for row in _rolled_rows(version_id, window, tenants, stages=stages):
        tallies[row["stage"]].add(row)
    tested = rolled_test_mode_traces(window, tenants) if include_test_mode else []
    if tested:
        usage = TraceAssetUsage.objects.filter(trace_id__in=tested, asset_version_id=version_id, stage__in=stages)
        for row in (usage.annotate(bucket=bucket_expression()).values("stage", "bucket")
                    .annotate(**usage_sums()).order_by()):
            tallies[row["stage"]].add(row)
    live_ranges = window.live_filter()
    if live_ranges:
        # Every live range and stage in one query: a list of stages and OR-ed ranges still let the
        # (version, stage, started_at) index bound each scan (one bitmap range per stage and range),
        # where a query per stage and range cost a round trip and the ORM's work each (issue 17).
        live = functools.reduce(operator.or_, live_ranges)
        usage = usage_within(TraceAssetUsage.objects.filter(live, asset_version_id=version_id, stage__in=stages),
                        tenants=tenants, include_test_mode=include_test_mode)
        for row in (usage.annotate(bucket=bucket_expression()).values("stage", "bucket")
                    .annotate(**usage_sums()).order_by()):
            tallies[row["stage"]].add(row)
    return tallies


def _rolled_rows(version_id: int, window: RollupWindow, tenants: tuple[str, ...] | None, *,
                 stages: list[str]) -> list[dict[str, Any]]:
    """The version's roll-up rows of the window summed per stage and bucket, remembered while the window's
    roll-up is the same (``RollupWindow.rolled_state``).

    At 1M traces a version has ~74,000 roll-up rows in 81 days; summing them
    was ~37 ms of each version's figures on every view of the impact page
    (issue 17), though they change only when the roll-up job rolls a day again.
    """
    rolled = UsageRollup.objects.filter(window.day_filter(), asset_version_id=version_id)
    if "" not in stages:
        rolled = rolled.filter(stage__gt="")
    elif stages == [""]:
        rolled = rolled.filter(stage="")
    # else the trace level and the stages: every roll-up row of the version (its stage rows are its stages').
    if tenants is not None:
        rolled = rolled.filter(tenant_id__in=tenants)
    summed = rolled.values("stage", "bucket").annotate(**rolled_sums()).order_by()
    if not window.rolled_state:
        return list(summed)
    key = "impact:rolled:" + hashlib.sha256(repr((version_id, sorted(stages), tenants, window.first_day,
                                                  window.last_day, window.holes, window.rolled_state)).encode()).hexdigest()
    try:
        found = cache.get(key)
    except Exception:  # a cache outage costs the sum, never the report
        log.warning("impact roll-up cache unavailable", exc_info=True)
        return list(summed)
    if found is None:
        found = list(summed)
        with contextlib.suppress(Exception):
            cache.set(key, found, timeout=ROLLED_ROWS_SECONDS)
    return found


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def stage_durations(version_id: int, stages: list[str], **filters: Any) -> dict[str, dict[str, Any]]:
    """Median and p95 of each consuming stage's final attempt, from the stage usage rows (one grouped query)."""
    result: dict[str, dict[str, Any]] = {stage: {"median_ms": None, "p95_ms": None, "runs": 0} for stage in stages}
    if not stages:
        return result
    usage = usage_within(TraceAssetUsage.objects.filter(asset_version_id=version_id, stage__in=stages), **filters)
    if _is_postgres():
        # Stage rows of a version are rows of its consuming stages, so "any
        # stage" is the same set; as a range (stage > '') the index bounds the
        # scan instead of filtering every entry of the version (236 -> 96 ms
        # per version at 500k traces each).
        ranged = usage_within(TraceAssetUsage.objects.filter(asset_version_id=version_id, stage__gt=""), **filters)
        rows = ranged.values("stage").annotate(both=Percentiles("duration_ms"), runs=Count("*"))
        for row in rows:
            median, p95 = row["both"] or [None, None]
            if row["stage"] in result:
                result[row["stage"]] = {"median_ms": _round(median), "p95_ms": _round(p95), "runs": row["runs"]}
        return result
    for stage in stages:
        values = [float(v) for v in usage.filter(stage=stage).values_list("duration_ms", flat=True)]
        result[stage] = {"median_ms": _round(_exact_percentile(values, 0.5)),
                         "p95_ms": _round(_exact_percentile(values, 0.95)), "runs": len(values)}
    return result


def verdict_counts(version_id: int) -> dict[str, int]:
    """Verdicts of completed analyses whose candidate trace (a golden run or an override test) applied the version.

    Those candidates are test-mode traces by nature, so the verdicts are
    shown whether or not the report includes test-mode traffic.
    """
    applied = Q(runs__candidate_trace__asset_usages__asset_version_id=version_id) | Q(
        override_tests__candidate_trace__asset_usages__asset_version_id=version_id)
    rows = (RegressionAnalysis.objects.filter(applied, status="completed").values("verdict")
            .annotate(n=Count("id", distinct=True)))
    # Keys are snake_case like every key of the report (the stored verdicts are PASS, WARN and FAIL).
    counts = {"pass": 0, "warn": 0, "fail": 0}
    counts.update({row["verdict"].lower(): row["n"] for row in rows if row["verdict"]})
    return counts


def consuming_stages(asset: Asset) -> list[str]:
    """Stages that applied any version of the asset: index probes on (version, stage), no scan.

    One statement with an EXISTS per stage (each stops at its first index
    entry) instead of a query per stage and version: 14 round trips were
    ~30 ms of the impact page on a busy server.
    """
    probes = {f"stage_{i}": Exists(TraceAssetUsage.objects.filter(asset_version__asset_id=OuterRef("pk"), stage=stage))
              for i, stage in enumerate(STAGE_ORDER)}
    found = Asset.objects.filter(pk=asset.pk).values(**probes).first() or {}
    return [stage for i, stage in enumerate(STAGE_ORDER) if found.get(f"stage_{i}")]


def total_traces(window: RollupWindow, *, tenants: tuple[str, ...] | None, include_test_mode: bool = False) -> int:
    """Traces in range (the traffic share's denominator): rolled days from ``TraceRollup``, the rest counted."""
    total = 0
    if window.rolled:
        rolled = TraceRollup.objects.filter(window.day_filter())
        if tenants is not None:
            rolled = rolled.filter(tenant_id__in=tenants)
        total = rolled.aggregate(n=Sum("traces"))["n"] or 0
        if include_test_mode:
            total += len(rolled_test_mode_traces(window, tenants))
    for live in window.live_filter():
        traces = Trace.objects.filter(live)
        if not include_test_mode:
            traces = traces.filter(test_mode=False)
        if tenants is not None:
            traces = traces.filter(tenant_id__in=tenants)
        total += traces.count()
    return total


def co_applied(version_id: int, asset: Asset, **filters: Any) -> list[tuple[str, str, int]]:
    """Assets applied in the same traces (the version's newest ``CO_APPLIED_SAMPLE`` traces)."""
    newest = version_usage(version_id, **filters).order_by("-started_at").values("trace_id")[:CO_APPLIED_SAMPLE]
    rows = (TraceAssetUsage.objects.filter(trace_id__in=newest, stage="")
            .exclude(asset_type=asset.asset_type, asset_name=asset.name)
            .values("asset_type", "asset_name").annotate(count=Count("trace_id", distinct=True))
            .order_by("-count", "asset_name")[:10])
    return [(row["asset_type"], row["asset_name"], row["count"]) for row in rows]


def policy_budget_ms(tenant: str) -> float:
    version = (asset_version_own_or_shared(tenant_id=tenant or SHARED_TENANT)
               .filter(asset__asset_type="policy", status="published").only("spec").first())
    return float((version.spec or {}).get("budget_ms", 1000)) if version else 1000.0
