"""Reading golden suites and their runs: lists for a tenant scope, and a run's verdict table.

``suite_run_table`` is what both the API (``GET …/suite-runs/{run_id}``) and
the admin's run page show: one row per item of the suite, in order, with its
verdict, score, pass^k, failed assertions, per-stage verdicts (from the
item's analysis) and its candidate and baseline traces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from access.tenancy import TenantScope
from inspector.contracts import STAGE_ORDER
from inspector.models import Trace
from regression.engine import ScoringConfig
from regression.models import RegressionAnalysis
from regression.suite_models import GoldenSuite, SuiteItem, SuiteRun

LATEST_RUNS = 10


def suite_list(*, scope: TenantScope) -> QuerySet[GoldenSuite]:
    return scope.filter(GoldenSuite.objects.annotate(item_count=Count("items")).order_by("name", "id"))


def suite_items(*, suite: GoldenSuite) -> QuerySet[SuiteItem]:
    return suite.items.order_by("position", "id")


def suite_run_list(*, scope: TenantScope, suite: GoldenSuite | None = None) -> QuerySet[SuiteRun]:
    runs = SuiteRun.objects.select_related("suite").order_by("-created_at", "-id")
    if suite is not None:
        runs = runs.filter(suite=suite)
    return scope.filter(runs, "suite__tenant_id")


def suite_latest_runs(*, suite: GoldenSuite) -> list[SuiteRun]:
    return list(suite.runs.order_by("-created_at", "-id")[:LATEST_RUNS])


def stage_verdicts(analysis: RegressionAnalysis | None) -> list[dict[str, Any]]:
    """Per stage of a finished analysis, in pipeline order: ``{stage, verdict, score}``.

    A stage's verdict follows the same thresholds as the analysis's
    (``warn_at`` / ``fail_at`` of its options, FAIL on a critical issue), and
    a stage the group statistics found a significant regression in is at
    least WARN, as the analysis as a whole is.
    """
    if analysis is None or not analysis.stage_results:
        return []
    config = ScoringConfig.from_overrides(analysis.options or {})
    regressed = {name.split(" ", 1)[0] for name in (analysis.statistics or {}).get("regressions", [])}
    rows = []
    for result in analysis.stage_results:
        score = int(result.get("score", 0))
        critical = any(issue.get("critical") for issue in result.get("issues", []))
        verdict = "FAIL" if critical or score >= config.fail_at else (
            "WARN" if score >= config.warn_at or result["stage"] in regressed else "PASS")
        rows.append({"stage": result["stage"], "verdict": verdict, "score": score})
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    return sorted(rows, key=lambda row: (order.get(row["stage"], len(order)), row["stage"]))


@dataclass
class ItemRow:
    """One item of a suite run, as shown: finished (``verdict`` set) or not yet."""

    item_id: int
    name: str
    kind: str
    verdict: str = ""
    score: int | None = None
    passes: int = 0
    repeats: int = 0
    pass_all: bool = False
    failed_assertions: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    candidate_trace_ids: list[str] = field(default_factory=list)
    baseline_trace_ids: list[str] = field(default_factory=list)
    analysis_id: str | None = None
    analysis_status: str = ""

    @property
    def stage_verdict(self) -> dict[str, str]:
        return {row["stage"]: row["verdict"] for row in self.stages}


def suite_run_table(*, run: SuiteRun) -> list[ItemRow]:
    """The run's rows, one per item of its suite in order (items not reached yet have no verdict)."""
    results = {result.item_id: result for result in run.results.select_related("analysis")}
    rows = []
    for item in suite_items(suite=run.suite):
        row = ItemRow(item_id=item.pk, name=item.name, kind=item.kind)
        result = results.get(item.pk)
        if result is not None:
            analysis = result.analysis
            row.verdict, row.score = result.verdict, result.score
            row.passes, row.repeats, row.pass_all = result.passes, result.repeats, result.pass_all
            row.candidate_trace_ids = list(result.candidate_trace_ids)
            row.failed_assertions = _failed_assertions(result.assertion_results)
            if analysis is not None:
                row.analysis_id, row.analysis_status = str(analysis.pk), analysis.status
                row.baseline_trace_ids = list(analysis.baseline_trace_ids)
                row.stages = stage_verdicts(analysis) if result.verdict else []
        rows.append(row)
    return rows


def _failed_assertions(per_repeat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    failed = []
    for repeat, outcome in enumerate(per_repeat, start=1):
        for check in outcome.get("assertions", []):
            if not check.get("passed"):
                failed.append({"repeat": repeat, "trace_id": outcome.get("trace_id", ""), "index": check["index"],
                               "stage": check["stage"], "pointer": check["pointer"], "op": check["op"],
                               "message": check["message"]})
    return failed


def trace_pks(*, tenant_id: str, trace_ids: list[str]) -> dict[str, int]:
    """``{trace_id: pk}`` of the tenant's traces (the admin's trace pages are addressed by pk)."""
    return dict(Trace.objects.filter(tenant_id=tenant_id, trace_id__in=trace_ids).values_list("trace_id", "pk"))


def run_stages(rows: list[ItemRow]) -> list[str]:
    """The stages any row has a verdict for, in pipeline order: the run table's stage columns."""
    seen = {row_stage["stage"] for row in rows for row_stage in row.stages}
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    return sorted(seen, key=lambda stage: (order.get(stage, len(order)), stage))


@dataclass
class TraceLink:
    trace_id: str
    pk: int | None  # None: the trace is gone (retention), shown without a link


@dataclass
class ScreenRow:
    """An item row of the admin's run page: the API row plus the stage cells of the table's columns and links."""

    row: ItemRow
    stage_cells: list[dict[str, Any]]
    candidates: list[TraceLink]
    baselines: list[TraceLink]


def suite_run_page(*, run: SuiteRun) -> dict[str, Any]:
    """What the admin's run page shows: progress, the stage columns and one row per item with trace links."""
    rows = suite_run_table(run=run)
    stages = run_stages(rows)
    wanted = [trace_id for row in rows for trace_id in (*row.candidate_trace_ids, *row.baseline_trace_ids)]
    pks = trace_pks(tenant_id=run.suite.tenant_id, trace_ids=wanted)
    screen_rows = []
    for row in rows:
        by_stage = {cell["stage"]: cell for cell in row.stages}
        screen_rows.append(ScreenRow(
            row=row,
            stage_cells=[by_stage.get(stage, {"stage": stage, "verdict": "", "score": None}) for stage in stages],
            candidates=[TraceLink(trace_id, pks.get(trace_id)) for trace_id in row.candidate_trace_ids],
            baselines=[TraceLink(trace_id, pks.get(trace_id)) for trace_id in row.baseline_trace_ids],
        ))
    return {"rows": screen_rows, "stages": stages, "item_total": len(rows),
            "done": run.status in ("completed", "failed")}


def suite_is_anchored(*, suite: GoldenSuite) -> bool:
    """Whether the suite has items or runs, which tie it to its tenant's traces."""
    return suite.items.exists() or suite.runs.exists()
