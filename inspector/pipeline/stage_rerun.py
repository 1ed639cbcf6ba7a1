"""Re-running one stage with overridden assets, from a stored trace or a question.

From a trace: the stage's recorded input (latest attempt) is run again in test
mode; the baseline is the recorded output. From a question: the pipeline runs
in memory with the published assets up to that stage (the baseline), then the
stage runs again on the same input with the overrides. Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import STAGE_ORDER, ExecutionContext, StageInput, StageOutput
from inspector.pipeline.executor import StageExecution, StageExecutor
from inspector.pipeline.resolution import AssetResolver, validate_overrides
from inspector.pipeline.runner import pipeline_execute
from inspector.selectors import stage_run_with_payload
from inspector.structural_diff import stage_output_diff
from kernel.errors import InvalidInput
from kernel.tenancy import SHARED_TENANT


@dataclass
class StageRerunResult:
    execution: StageExecution
    baseline_output: dict[str, Any]
    baseline: dict[str, Any]
    diff: dict[str, Any]

    @property
    def output(self) -> StageOutput:
        return self.execution.output


def stage_rerun(
    *,
    stage: str,
    asset_overrides: dict[str, str],
    trace_id: str = "",
    question: str = "",
    tenant_id: str = SHARED_TENANT,
    trace_tenant: str = "",
    user_id: str = "",
    scope: TenantScope = EVERY_TENANT,
    drafts: TenantScope = EVERY_TENANT,
) -> StageRerunResult:
    """Re-run ``stage`` of a stored trace or of a new run of ``question`` (in ``tenant_id``) with overrides.

    A stored trace is picked as ``selectors.trace_pick`` does, in ``trace_tenant`` when given (trace ids
    are unique per tenant).
    """
    if stage not in STAGE_ORDER:
        raise InvalidInput(f"unknown stage {stage!r}; expected one of {', '.join(STAGE_ORDER)}", field="stage")
    if bool(trace_id) == bool(question.strip()):
        raise InvalidInput("give exactly one of trace_id or question")
    if trace_id:
        return _from_trace(stage, trace_id, asset_overrides, user_id, scope, drafts, trace_tenant)
    scope.require(tenant_id)
    return _from_question(stage, question, asset_overrides, tenant_id, user_id, drafts)


def _context(**fields: Any) -> ExecutionContext:
    return ExecutionContext(test_mode=True, **fields)


def _from_trace(stage: str, trace_id: str, overrides: dict[str, str], user_id: str,
                scope: TenantScope, drafts: TenantScope, tenant: str = "") -> StageRerunResult:
    run = stage_run_with_payload(trace_id=trace_id, stage=stage, scope=scope, tenant=tenant)
    trace = run.trace
    recorded_input = StageInput.model_validate(run.payload.input)
    context = _context(tenant_id=trace.tenant_id, question=trace.question, trace_id=trace_id, user_id=user_id,
                       asset_overrides=overrides, baseline_trace_id=trace_id,
                       rerun_context={"stage": stage, "attempt": run.attempt})
    executor = StageExecutor(context, AssetResolver(context, validate_overrides(context, drafts=drafts)))
    # Drop what the original run applied: the re-run records its own versions.
    execution = executor.run(recorded_input.model_copy(update={"applied_assets": {}}))
    baseline_output = run.payload.output
    return StageRerunResult(
        execution=execution,
        baseline_output=baseline_output,
        baseline={"trace_id": trace_id, "stage": stage, "attempt": run.attempt,
                  "applied_assets": recorded_input.applied_assets},
        diff=stage_output_diff(baseline_output, execution.output.model_dump(mode="json")),
    )


def _from_question(stage: str, question: str, overrides: dict[str, str], tenant_id: str, user_id: str,
                   drafts: TenantScope) -> StageRerunResult:
    candidate_context = _context(tenant_id=tenant_id, question=question, user_id=user_id, asset_overrides=overrides,
                                 rerun_context={"stage": stage})
    # Overrides are validated before anything runs.
    candidate_resolver = AssetResolver(candidate_context, validate_overrides(candidate_context, drafts=drafts))
    baseline_context = ExecutionContext(tenant_id=tenant_id, question=question, user_id=user_id)
    baseline_run = pipeline_execute(context=baseline_context, stop_after=stage)
    baseline_execution = baseline_run.stage(stage)
    if baseline_execution is None:
        raise InvalidInput(f"the question's route ({baseline_run.route or 'unknown'}) does not run stage {stage!r}",
                           field="stage")
    execution = StageExecutor(candidate_context, candidate_resolver).run(
        baseline_execution.stage_input.model_copy(update={"applied_assets": {}})
    )
    baseline_output = baseline_execution.output.model_dump(mode="json")
    return StageRerunResult(
        execution=execution,
        baseline_output=baseline_output,
        baseline={"question": question, "stage": stage,
                  "applied_assets": baseline_execution.stage_input.applied_assets},
        diff=stage_output_diff(baseline_output, execution.output.model_dump(mode="json")),
    )
