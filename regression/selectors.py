"""Reading traces for comparisons: engine snapshots and per-run metrics.

Trace ids are unique per tenant: every read names the tenant the ids are in
(an analysis's ``tenant_id``). An empty tenant (analyses stored before they
had one) reads the ids in every tenant.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from inspector.models import StageRun, Trace
from inspector.selectors import stage_snapshot
from regression.engine import TraceSnapshot
from regression.models import RegressionAnalysis, RegressionRun


def _in_tenant(queryset: QuerySet, tenant_id: str, field: str = "tenant_id") -> QuerySet:
    return queryset.filter(**{field: tenant_id}) if tenant_id else queryset


def _final_runs(trace_ids: list[str], tenant_id: str) -> dict[str, dict[str, StageRun]]:
    """The final attempt of every stage of each trace, with payloads (one query)."""
    by_trace: dict[str, dict[str, StageRun]] = defaultdict(dict)
    runs = (_in_tenant(StageRun.objects.filter(trace__trace_id__in=trace_ids), tenant_id, "trace__tenant_id")
            .select_related("payload", "trace")
            .only("stage", "attempt", "status", "duration_ms", "diagnostics", "references_count",
                  "trace__trace_id", "trace__route", "payload__input_data", "payload__output_data")
            .order_by("stage", "-attempt"))
    for run in runs:
        by_trace[run.trace.trace_id].setdefault(run.stage, run)
    return by_trace


def trace_snapshots(trace_ids: list[str], *, tenant_id: str) -> dict[str, TraceSnapshot]:
    snapshots = {}
    routes = dict(_in_tenant(Trace.objects.filter(trace_id__in=trace_ids), tenant_id).values_list("trace_id", "route"))
    for trace_id, stages in _final_runs(trace_ids, tenant_id).items():
        snapshots[trace_id] = TraceSnapshot(
            trace_id=trace_id, route=routes.get(trace_id, ""),
            stages={stage: stage_snapshot(run) for stage, run in stages.items()},
        )
    for trace_id in trace_ids:
        snapshots.setdefault(trace_id, TraceSnapshot(trace_id=trace_id, route=routes.get(trace_id, "")))
    return snapshots


def group_metrics(trace_ids: list[str], *, tenant_id: str) -> dict[str, dict[str, list[float]]]:
    """``{stage: {metric: [one value per trace]}}`` from summary columns only (no payloads)."""
    metrics: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    runs = (_in_tenant(StageRun.objects.filter(trace__trace_id__in=trace_ids), tenant_id, "trace__tenant_id")
            .values("trace__trace_id", "stage", "attempt", "status", "duration_ms", "diagnostics",
                    "references_count").order_by("trace__trace_id", "stage", "-attempt"))
    seen = set()
    for run in runs:
        key = (run["trace__trace_id"], run["stage"])
        if key in seen:
            continue
        seen.add(key)
        stage = metrics[run["stage"]]
        stage["duration_ms"].append(float(run["duration_ms"]))
        stage["error"].append(1.0 if run["status"] == "error" else 0.0)
        stage["references"].append(float(run["references_count"]))
        for name, value in (run["diagnostics"] or {}).get("counts", {}).items():
            if name != "references":
                stage[name].append(float(value))
    return {stage: dict(values) for stage, values in metrics.items()}


def run_list(filters: dict[str, Any] | None = None) -> QuerySet[RegressionRun]:
    # candidate_trace: its trace_id only (the run's answer names it).
    runs = RegressionRun.objects.select_related("golden_query", "analysis", "candidate_trace").defer(
        "analysis__stage_results", "analysis__statistics", "candidate_trace__question", "candidate_trace__metadata")
    filters = filters or {}
    if filters.get("golden_query"):
        runs = runs.filter(golden_query__name=filters["golden_query"])
    if filters.get("status"):
        runs = runs.filter(status=filters["status"])
    return runs


def latest_pair_analysis(baseline_id: str, candidate_id: str, tenant_id: str) -> RegressionAnalysis | None:
    """The newest completed pair analysis of exactly these two traces of ``tenant_id``, if any."""
    return (RegressionAnalysis.objects
            .filter(status="completed", kind="pair", tenant_id=tenant_id,
                    baseline_trace_ids=[baseline_id], candidate_trace_ids=[candidate_id])
            .only("id", "baseline_trace_ids", "candidate_trace_ids", "score", "verdict", "critical_issues",
                  "stage_results", "created_at")
            .order_by("-created_at").first())
