"""The pipeline runner: follows the route, runs each stage, asks the control loop, stores the trace.

``plan`` runs all five stages; ``direct`` and ``reject`` run ``route_plan``
then ``present``. After each stage the control loop may be asked about a
trigger the stage raised (empty result, error, timeout, violation, …):

- ``auto_retry`` re-runs from the policy's scope stage with the patched plan,
  each re-run recorded as a new attempt of its stage;
- ``ask_user`` and ``stop_with_guidance`` (or a vetoed replan) end the plan:
  the remaining stages are skipped and ``present`` explains what to do.

A stage that ends in error without an approved retry halts the plan the same way.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import STAGE_ORDER, AppliedAsset, ExecutionContext, StageInput, StageRunIn, TraceIn
from inspector.models import Trace
from inspector.pipeline.executor import StageExecution, StageExecutor
from inspector.pipeline.ports import replan_loop_for
from inspector.pipeline.resolution import AssetResolver, validate_overrides
from inspector.services.traces import trace_ingest
from kernel.errors import InvalidInput

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
    replans: list[Any] = field(default_factory=list)  # controlloop DecisionRecords, in order
    control_loop: dict[str, Any] = field(default_factory=dict)  # what the loop decided with; empty when off

    @property
    def handler_ms(self) -> float:
        return sum(execution.handler_ms for execution in self.executions)

    def stage(self, name: str) -> StageExecution | None:
        """The latest attempt of a stage."""
        return next((e for e in reversed(self.executions) if e.output.stage == name), None)


def stage_params(context: ExecutionContext, plan_output: dict[str, Any], halted: dict[str, Any]) -> dict[str, Any]:
    """What every stage after ``route_plan`` gets besides the previous output."""
    params: dict[str, Any] = {
        "question": context.question,
        "route": plan_output.get("kind", ""),
        "plan": plan_output.get("plan", {}),
        "direct_answer": plan_output.get("direct_answer", ""),
    }
    if plan_output.get("limits"):
        params["limits"] = plan_output["limits"]
    if halted:
        params["halted"] = halted
    return params


def pipeline_execute(
    *, context: ExecutionContext, resolver: AssetResolver | None = None, stop_after: str | None = None,
    control_loop: bool | None = None, started_at: datetime | None = None,
) -> PipelineExecution:
    """Run the stages the route asks for, replanning as the control loop decides.

    Nothing is stored here except the control loop's replan events (when
    enabled: the trace id is known and ``OPS_CONTROL_LOOP`` is on).
    """
    started = time.perf_counter()
    executor = StageExecutor(context, resolver or AssetResolver(context))
    loop = replan_loop_for(context, enabled=settings.OPS_CONTROL_LOOP if control_loop is None else control_loop,
                           started_at=started_at)
    run = PipelineExecution(context=context, route="")
    attempts: dict[str, int] = defaultdict(int)
    plan_output: dict[str, Any] = {}
    halted: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    stages: tuple[str, ...] = ("route_plan",)
    index = 0
    while index < len(stages):
        stage = stages[index]
        if stop_after and STAGE_ORDER.index(stage) > STAGE_ORDER.index(stop_after):
            break
        if halted and stage != "present":
            index += 1
            continue
        attempts[stage] += 1
        if stage == "route_plan":
            stage_input = StageInput(stage=stage, params={"question": context.question}, trace_id=context.trace_id)
        else:
            stage_input = StageInput(stage=stage, params=stage_params(context, plan_output, halted),
                                     prev_output=previous, trace_id=context.trace_id)
        execution = executor.run(stage_input)
        execution.attempt = attempts[stage]
        run.executions.append(execution)
        if stage == "route_plan":
            plan_output = copy.deepcopy(execution.output.result)
            kind = plan_output.get("kind", "")
            run.route = kind if kind in STAGES_BY_ROUTE else ""
            stages = STAGES_BY_ROUTE.get(run.route, ("route_plan", "present"))
        previous = execution.output.result
        trigger = loop.detect(execution.output, run.route) if not halted else None
        loop.outcome(stage, trigger)
        if trigger is not None and loop.enabled:
            record = loop.ask(trigger, plan_output.get("plan", {}))
            run.replans.append(record)
            decision = record.decision
            if decision.approved and decision.decision == "auto_retry" and decision.scope in stages:
                if decision.scope != "route_plan":
                    plan_output["plan"] = decision.patch.after
                    plan_output["limits"] = decision.patch.after.get("limits", plan_output.get("limits", {}))
                loop.pending[stage] = record
                index = stages.index(decision.scope)
                previous = run.stage(stages[index - 1]).output.result if index > 0 else {}
                continue
            if decision.decision != "auto_retry" or not decision.approved:
                errors = [trigger.reason] if trigger.reason else []
                if not decision.approved:
                    errors.append(f"replan denied: {decision.reason}")
                halted = {"stage": stage, "errors": errors, "action": decision.decision,
                          "guidance": decision.guidance if decision.approved else "",
                          "trigger": trigger.trigger_type}
        if execution.output.diagnostics.status == "error" and not halted:
            halted = {"stage": stage, "errors": execution.output.diagnostics.errors}
        index += 1
    # The loop's own account (policy, version, breaker, isolation), when the installed loop gives one.
    describe = getattr(loop, "describe", None)
    if loop.enabled and describe is not None:
        run.control_loop = describe()
    run.total_ms = (time.perf_counter() - started) * 1000
    return run


def pipeline_run(
    *,
    context: ExecutionContext,
    started_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
    session_id: str = "",
    scope: TenantScope = EVERY_TENANT,
    drafts: TenantScope = EVERY_TENANT,
) -> Trace:
    """Validate the request, run the pipeline and store the trace with its bill of materials.

    The trace joins the conversation ``session_id`` when one is given (an
    answer to an ask_user card: ``inspector.pipeline.replies``). Raises
    ``InvalidInput`` (400) for bad overrides or an unknown baseline,
    ``TenantForbidden`` (403) for a tenant outside ``scope``, before anything
    runs or is written.
    """
    scope.require(context.tenant_id)
    if not context.question.strip():
        raise InvalidInput("question must not be blank", field="question")
    overrides = validate_overrides(context, drafts=drafts)
    # The baseline becomes the new trace's parent_trace_id: an id within the same tenant.
    baseline = scope.filter(Trace.objects).filter(trace_id=context.baseline_trace_id, tenant_id=context.tenant_id)
    if context.baseline_trace_id and not baseline.exists():
        raise InvalidInput(f"baseline trace {context.baseline_trace_id!r} not found", field="baseline_trace_id")
    context = context.model_copy(update={"trace_id": context.trace_id or str(uuid.uuid4())})
    run = pipeline_execute(context=context, resolver=AssetResolver(context, overrides), started_at=started_at)
    trace, _ = trace_ingest(payload=_trace_in(run, started_at or timezone.now(), metadata or {}, session_id))
    return trace


def _replan_entry(record: Any) -> dict[str, Any]:
    """One decision as the trace keeps it; the regression engine scores these and names a refused replan."""
    event, decision = record.decision_event, record.decision
    return {"trigger": event.trigger_type, "stage": event.stage_name, "decision": decision.decision,
            "approved": decision.approved, "veto": decision.veto, "reason": decision.reason,
            "attempt": decision.attempt, "event_id": event.pk}


def _trace_in(run: PipelineExecution, started_at: datetime, metadata: dict[str, Any], session_id: str = "") -> TraceIn:
    context = run.context
    stages, clock, applied = [], started_at, {}
    for execution in run.executions:
        stages.append(
            StageRunIn(
                stage=execution.output.stage,
                attempt=execution.attempt,
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
        session_id=session_id,
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
            "replans": [_replan_entry(record) for record in run.replans],
            **({"control_loop": run.control_loop} if run.control_loop else {}),
            "executor": {"total_ms": round(run.total_ms, 3), "handler_ms": round(run.handler_ms, 3),
                         "overhead_ms": round(overhead_ms, 3)},
        },
    )
