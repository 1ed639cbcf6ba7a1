"""Reading traces for comparisons: engine snapshots and per-run metrics.

Trace ids are unique per tenant: every read names the tenant the ids are in
(an analysis's ``tenant_id``). An empty tenant (analyses stored before they
had one) reads the ids in every tenant.

The end of the module reads for the admin's screens: an analysis's page,
the golden query list with each query's last run, and the baseline picker
of "Start analysis" on a trace.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from inspector.contracts import STAGE_ORDER
from inspector.models import StageRun, Trace
from inspector.selectors import stage_snapshot
from inspector.trace_comparison import AttemptSnapshot, ReplanRecord, StageSnapshot, result_size
from regression.engine import TraceSnapshot
from regression.engine.replans import TRACE
from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun, WorkStatus
from regression.suite_selectors import stage_verdicts


def _in_tenant(queryset: QuerySet, tenant_id: str, field: str = "tenant_id") -> QuerySet:
    return queryset.filter(**{field: tenant_id}) if tenant_id else queryset


def _stage_runs(trace_ids: list[str], tenant_id: str) -> dict[str, dict[str, list[StageRun]]]:
    """Every attempt of every stage of each trace, in execution order, with payloads (one query)."""
    by_trace: dict[str, dict[str, list[StageRun]]] = defaultdict(lambda: defaultdict(list))
    runs = (_in_tenant(StageRun.objects.filter(trace__trace_id__in=trace_ids), tenant_id, "trace__tenant_id")
            .select_related("payload", "trace")
            .only("stage", "attempt", "status", "duration_ms", "diagnostics", "references_count",
                  "model", "input_tokens", "output_tokens", "cost",
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


# Stage metrics group_metrics reads from StageRun columns, never from diagnostics.counts.
_COLUMN_METRICS = frozenset({"references", "tokens", "cost"})


def group_metrics(trace_ids: list[str], *, tenant_id: str) -> dict[str, dict[str, list[float]]]:
    """``{stage: {metric: [one value per trace]}}`` from summary columns only (no payloads).

    Under ``"trace"``, ``total_duration_ms``: every attempt of every stage, retries included.
    ``tokens`` (input + output) only for runs that reported usage, ``cost`` only for runs whose
    cost is known (given or priced at ingest): a run without them is not a sample of 0.
    """
    metrics: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    runs = (_in_tenant(StageRun.objects.filter(trace__trace_id__in=trace_ids), tenant_id, "trace__tenant_id")
            .values("trace__trace_id", "stage", "attempt", "status", "duration_ms", "diagnostics",
                    "references_count", "model", "input_tokens", "output_tokens", "cost", "cost_source")
            .order_by("trace__trace_id", "stage", "-attempt"))
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
        tokens = run["input_tokens"] + run["output_tokens"]
        if tokens or run["model"]:
            stage["tokens"].append(float(tokens))
        if run["cost_source"]:
            stage["cost"].append(run["cost"])
        for name, value in (run["diagnostics"] or {}).get("counts", {}).items():
            if name not in _COLUMN_METRICS:  # the column is the one source of these
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


# --- admin screens: an analysis's page, the golden query list, the baseline picker ----------------------

SHORT_JSON = 120  # characters of a value shown in an issue row; longer ones open to the whole value
FULL_JSON = 20_000  # characters of the whole value shown under it
BASELINE_CHOICES = 20  # recent traces the "Start analysis" picker offers
BASELINE_SCAN = 2_000  # newest traces of the tenant searched for them: the question has no index


def _json_text(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True, indent=indent)


def _value_cell(value: Any, present: bool) -> dict[str, Any]:
    """An issue's baseline or candidate value as shown: short JSON, and the whole (indented) when cut."""
    if not present:
        return {"present": False, "text": "", "full": ""}
    text = _json_text(value)
    if len(text) <= SHORT_JSON:
        return {"present": True, "text": text, "full": ""}
    return {"present": True, "text": text[:SHORT_JSON - 1] + "…", "full": _json_text(value, indent=2)[:FULL_JSON]}


def _issue_row(issue: dict[str, Any]) -> dict[str, Any]:
    return {**issue, "pointer": issue.get("pointer") or "", "kind": issue.get("kind", ""),
            "before": _value_cell(issue.get("baseline"), issue.get("baseline") is not None),
            "after": _value_cell(issue.get("candidate"), issue.get("candidate") is not None)}


def _duration_text(duration: dict[str, Any]) -> str:
    before, after = duration.get("baseline", 0), duration.get("candidate", 0)
    pct = duration.get("delta_pct")
    change = f" ({pct:+.0f}%)" if pct is not None and before and before != after else ""
    return f"{before} → {after} ms{change}"


def _stage_row(result: dict[str, Any], verdict: str) -> dict[str, Any]:
    diff = result.get("diff") or {}
    counts = [{"name": name, **delta} for name, delta in sorted((result.get("counts") or {}).items())
              if delta.get("delta")]
    return {
        "stage": result["stage"], "verdict": verdict, "score": int(result.get("score", 0)),
        "presence": result.get("presence", "both"), "duration": _duration_text(result.get("duration") or {}),
        "counts": counts, "issues": [_issue_row(issue) for issue in result.get("issues", [])],
        "diff": {side: len(diff.get(side) or []) for side in ("added", "removed", "changed")},
        "improvements": result.get("improvements") or [], "noise_ignored": result.get("noise_ignored") or [],
    }


@dataclass
class AnalysisTrace:
    """A baseline or candidate trace of an analysis: ``present`` False once retention removed it."""

    trace_id: str
    present: bool


def _analysis_traces(analysis: RegressionAnalysis) -> tuple[list[AnalysisTrace], list[AnalysisTrace]]:
    wanted = [*analysis.baseline_trace_ids, *analysis.candidate_trace_ids]
    stored = set(_in_tenant(Trace.objects.filter(trace_id__in=wanted), analysis.tenant_id)
                 .values_list("trace_id", flat=True))
    return ([AnalysisTrace(trace_id, trace_id in stored) for trace_id in analysis.baseline_trace_ids],
            [AnalysisTrace(trace_id, trace_id in stored) for trace_id in analysis.candidate_trace_ids])


def _statistics(statistics: dict[str, Any]) -> dict[str, Any] | None:
    """The group statistics (``regression.statistics`` as stored) as rows of stage, metric and cells."""
    if not statistics.get("table") and not statistics.get("text"):
        return None
    regressions = set(statistics.get("regressions") or [])
    rows = []
    for row in statistics.get("table") or []:
        stage, _, metric = row.get("name", "").partition(" ")
        rows.append({**row, "stage": stage, "metric": metric, "regression": row.get("name") in regressions})
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    rows.sort(key=lambda row: order.get(row["stage"], len(order)))  # pipeline order; the trace's totals last
    return {"rows": rows, "text": statistics.get("text", ""), "regressions": sorted(regressions),
            "inconclusive": bool(statistics.get("inconclusive")),
            "insufficient": bool(statistics.get("insufficient"))}


def analysis_page(*, analysis: RegressionAnalysis) -> dict[str, Any]:
    """What the admin's analysis page shows: per-stage rows with their issues, the statistics, the traces.

    Stages come in pipeline order, each with the verdict the analysis's
    thresholds give its score (``suite_selectors.stage_verdicts``); an
    issue's values are short JSON with the whole value alongside when cut.
    """
    verdicts = {row["stage"]: row["verdict"] for row in stage_verdicts(analysis)}
    order = list(verdicts)
    results = sorted(analysis.stage_results or [],
                     key=lambda result: order.index(result["stage"]) if result["stage"] in order else len(order))
    baselines, candidates = _analysis_traces(analysis)
    return {
        "stages": [_stage_row(result, verdicts.get(result["stage"], "")) for result in results],
        "critical_issues": [_issue_row(issue) for issue in analysis.critical_issues or []],
        "statistics": _statistics(analysis.statistics or {}),
        "baselines": baselines,
        "candidates": candidates,
        "options_text": _json_text(analysis.options, indent=2) if analysis.options else "",
        "runs": list(analysis.runs.select_related("golden_query").only("id", "golden_query__name")),
        "done": analysis.status in (WorkStatus.COMPLETED, WorkStatus.FAILED),
    }


def golden_query_list(queryset: QuerySet[GoldenQuery]) -> QuerySet[GoldenQuery]:
    """Golden queries with their last run: ``last_run_status``, ``last_run_verdict`` and ``last_run_at``.

    ``last_run_at`` is when the last run finished, or was requested while it
    has not; its verdict is its analysis's ("" until scored).
    """
    last = RegressionRun.objects.filter(golden_query=OuterRef("pk")).order_by("-created_at", "-id")
    return queryset.annotate(
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_verdict=Subquery(last.values("analysis__verdict")[:1]),
        last_run_at=Subquery(last.annotate(at=Coalesce("finished_at", "created_at", output_field=DateTimeField()))
                             .values("at")[:1], output_field=DateTimeField()),
    )


def analysis_baseline_choices(*, trace: Trace) -> QuerySet[Trace]:
    """Recent traces of ``trace``'s tenant that asked the same question: the baselines its analysis may pick.

    Searched among the tenant's newest ``BASELINE_SCAN`` traces only (the
    question is not indexed); an older one is typed as an id instead.
    """
    recent = (Trace.objects.filter(tenant_id=trace.tenant_id).order_by("-started_at", "-id")
              .values("pk")[:BASELINE_SCAN])
    return (Trace.objects.filter(pk__in=Subquery(recent), question=trace.question).exclude(pk=trace.pk)
            .only("trace_id", "tenant_id", "started_at", "status", "duration_ms", "route", "test_mode")
            .order_by("-started_at", "-id")[:BASELINE_CHOICES])
