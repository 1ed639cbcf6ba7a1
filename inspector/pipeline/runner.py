"""The pipeline runner: follows the route, runs each stage, stores the trace.

``plan`` runs all five stages; ``direct`` and ``reject`` run ``route_plan``
then ``present``. A stage that ends in error halts the plan: the remaining
stages are skipped and ``present`` still runs so the user gets an answer that
explains what went wrong.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from inspector.contracts import STAGE_ORDER, AppliedAsset, ExecutionContext, StageInput, StageRunIn, TraceIn
from inspector.errors import InvalidInput
from inspector.models import Trace
from inspector.pipeline.executor import StageExecution, StageExecutor
from inspector.pipeline.resolution import AssetResolver, validate_overrides
from inspector.services.traces import trace_ingest

STAGES_BY_ROUTE: dict[str, tuple[str, ...]] = {
    "plan": STAGE_ORDER,
    "direct": ("route_plan", "present"),
    "reject": ("route_plan", "present"),
}


@dataclass
class PipelineExecution:
    context: ExecutionContext
    route: str
    executions: list[StageExecution] = field(default_factory=list)
    total_ms: float = 0.0

    @property
    def handler_ms(self) -> float:
        return sum(execution.handler_ms for execution in self.executions)

    def stage(self, name: str) -> StageExecution | None:
        return next((e for e in self.executions if e.output.stage == name), None)


def stage_params(context: ExecutionContext, plan_output: dict[str, Any], halted: dict[str, Any]) -> dict[str, Any]:
    """What every stage after ``route_plan`` gets besides the previous output."""
    params: dict[str, Any] = {
        "question": context.question,
        "route": plan_output.get("kind", ""),
        "plan": plan_output.get("plan", {}),
        "direct_answer": plan_output.get("direct_answer", ""),
    }
    if halted:
        params["halted"] = halted
    return params


def pipeline_execute(
    *, context: ExecutionContext, resolver: AssetResolver | None = None, stop_after: str | None = None
) -> PipelineExecution:
    """Run the stages the route asks for, in memory; nothing is stored."""
    started = time.perf_counter()
    resolver = resolver or AssetResolver(context)
    executor = StageExecutor(context, resolver)
    first = executor.run(
        StageInput(stage="route_plan", params={"question": context.question}, trace_id=context.trace_id)
    )
    run = PipelineExecution(context=context, route="", executions=[first])
    kind = first.output.result.get("kind", "")
    run.route = kind if kind in STAGES_BY_ROUTE else ""
    halted: dict[str, Any] = {}
    if first.output.diagnostics.status == "error":
        halted = {"stage": "route_plan", "errors": first.output.diagnostics.errors}
    previous = first.output
    for stage in STAGES_BY_ROUTE.get(run.route, ("route_plan", "present"))[1:]:
        if stop_after and STAGE_ORDER.index(stage) > STAGE_ORDER.index(stop_after):
            break
        if halted and stage != "present":
            continue
        execution = executor.run(
            StageInput(
                stage=stage,
                params=stage_params(context, first.output.result, halted),
                prev_output=previous.result,
                trace_id=context.trace_id,
            )
        )
        run.executions.append(execution)
        previous = execution.output
        if execution.output.diagnostics.status == "error" and not halted:
            halted = {"stage": stage, "errors": execution.output.diagnostics.errors}
    run.total_ms = (time.perf_counter() - started) * 1000
    return run


def pipeline_run(
    *,
    context: ExecutionContext,
    started_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
) -> Trace:
    """Validate the request, run the pipeline and store the trace with its bill of materials.

    Raises ``InvalidInput`` (400) for bad overrides or an unknown baseline
    before anything runs or is written.
    """
    if not context.question.strip():
        raise InvalidInput("question must not be blank", field="question")
    overrides = validate_overrides(context)
    if context.baseline_trace_id and not Trace.objects.filter(trace_id=context.baseline_trace_id).exists():
        raise InvalidInput(f"baseline trace {context.baseline_trace_id!r} not found", field="baseline_trace_id")
    context = context.model_copy(update={"trace_id": context.trace_id or str(uuid.uuid4())})
    run = pipeline_execute(context=context, resolver=AssetResolver(context, overrides))
    trace, _ = trace_ingest(payload=_trace_in(run, started_at or timezone.now(), metadata or {}))
    return trace


def _trace_in(run: PipelineExecution, started_at: datetime, metadata: dict[str, Any]) -> TraceIn:
    context = run.context
    stages, clock, applied = [], started_at, {}
    for execution in run.executions:
        stages.append(
            StageRunIn(
                stage=execution.output.stage,
                started_at=clock,
                input=execution.stage_input,
                output=execution.output,
            )
        )
        clock += timedelta(milliseconds=execution.output.duration_ms)
        for asset_type, asset in execution.applied.items():
            applied[asset_type] = AppliedAsset(name=asset.name, version=asset.version, status=asset.status)
    overhead_ms = max(0.0, run.total_ms - run.handler_ms)
    return TraceIn(
        trace_id=context.trace_id,
        parent_trace_id=context.baseline_trace_id,
        tenant_id=context.tenant_id,
        question=context.question,
        route=run.route,
        started_at=started_at,
        duration_ms=max(0, round(run.total_ms)),
        test_mode=context.test_mode,
        applied_assets=applied,
        stages=stages,
        metadata={
            **metadata,
            "source": "pipeline",
            "user_id": context.user_id,
            "asset_overrides": context.asset_overrides,
            "executor": {"total_ms": round(run.total_ms, 3), "handler_ms": round(run.handler_ms, 3),
                         "overhead_ms": round(overhead_ms, 3)},
        },
    )
