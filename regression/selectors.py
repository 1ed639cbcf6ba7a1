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
from inspector.trace_comparison import AttemptSnapshot, ReplanRecord, StageSnapshot, result_size
from regression.engine import TraceSnapshot
from regression.engine.replans import TRACE
from regression.models import RegressionAnalysis, RegressionRun


def _in_tenant(queryset: QuerySet, tenant_id: str, field: str = "tenant_id") -> QuerySet:
    return queryset.filter(**{field: tenant_id}) if tenant_id else queryset


def _stage_runs(trace_ids: list[str], tenant_id: str) -> dict[str, dict[str, list[StageRun]]]:
    """Every attempt of every stage of each trace, in execution order, with payloads (one query)."""
    by_trace: dict[str, dict[str, list[StageRun]]] = defaultdict(lambda: defaultdict(list))
    runs = (_in_tenant(StageRun.objects.filter(trace__trace_id__in=trace_ids), tenant_id, "trace__tenant_id")
            .select_related("payload", "trace")
            .only("stage", "attempt", "status", "duration_ms", "diagnostics", "references_count",
                  "trace__trace_id", "trace__route", "payload__input_data", "payload__output_data")
            .order_by("stage", "attempt"))
    for run in runs:
        by_trace[run.trace.trace_id][run.stage].append(run)
    return by_trace


def _attempt(run: StageRun, output: dict[str, Any] | None = None) -> AttemptSnapshot:
    diagnostics = run.diagnostics or {}
    output = run.payload.output if output is None else output
    return AttemptSnapshot(attempt=run.attempt, status=run.status, duration_ms=run.duration_ms,
                           empty_flags=diagnostics.get("empty_flags") or {}, counts=diagnostics.get("counts") or {},
                           result_size=result_size((output or {}).get("result")))


def _stage(runs: list[StageRun]) -> StageSnapshot:
    """The final attempt, scored as before, carrying every attempt for the replan rules."""
    snapshot = stage_snapshot(runs[-1])
    # The final attempt's output is already decoded in the snapshot: decoding a megabyte payload twice
    # doubled the analysis time of large traces.
    attempts = [_attempt(run) for run in runs[:-1]] + [_attempt(runs[-1], snapshot.output)]
    return snapshot.model_copy(update={"attempts": attempts})


def trace_snapshots(trace_ids: list[str], *, tenant_id: str) -> dict[str, TraceSnapshot]:
    """The engine's view of each trace: every stage attempt, the replans and the total time with retries."""
    snapshots = {}
    traces = {trace_id: (route, metadata) for trace_id, route, metadata in
              _in_tenant(Trace.objects.filter(trace_id__in=trace_ids), tenant_id)
              .values_list("trace_id", "route", "metadata")}
    for trace_id, stages in _stage_runs(trace_ids, tenant_id).items():
        route, metadata = traces.get(trace_id, ("", {}))
        snapshots[trace_id] = TraceSnapshot(
            trace_id=trace_id, route=route, stages={stage: _stage(runs) for stage, runs in stages.items()},
            replans=ReplanRecord.from_metadata(metadata),
            total_duration_ms=sum(run.duration_ms for runs in stages.values() for run in runs),
        )
    for trace_id in trace_ids:
        route, metadata = traces.get(trace_id, ("", {}))
        snapshots.setdefault(trace_id, TraceSnapshot(trace_id=trace_id, route=route,
                                                     replans=ReplanRecord.from_metadata(metadata)))
    return snapshots


def group_metrics(trace_ids: list[str], *, tenant_id: str) -> dict[str, dict[str, list[float]]]:
    """``{stage: {metric: [one value per trace]}}`` from summary columns only (no payloads).

    Under ``"trace"``, ``total_duration_ms``: every attempt of every stage, retries included.
    """
    metrics: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    runs = (_in_tenant(StageRun.objects.filter(trace__trace_id__in=trace_ids), tenant_id, "trace__tenant_id")
            .values("trace__trace_id", "stage", "attempt", "status", "duration_ms", "diagnostics",
                    "references_count").order_by("trace__trace_id", "stage", "-attempt"))
    seen = set()
    totals: dict[str, float] = defaultdict(float)
    for run in runs:
        # Every attempt counts towards the trace's time with retries (the replan rules' noise floor).
        totals[run["trace__trace_id"]] += run["duration_ms"]
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
    if totals:
        metrics[TRACE]["total_duration_ms"] = [totals[trace_id] for trace_id in sorted(totals)]
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
                  "stage_results", "notes", "created_at")
            .order_by("-created_at").first())
