"""Synchronous comparison of one stage: two stored traces, or two StageOutput bodies."""

from __future__ import annotations

from typing import Any

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import StageOutput
from inspector.selectors import trace_visible
from kernel.errors import InvalidInput, NotFound
from regression import selectors
from regression.engine import ScoringConfig, StageSnapshot, compare_stage, scoring_options_check


def stage_compare(*, stage: str, options: dict[str, Any], baseline_trace_id: str | None = None,
                  candidate_trace_id: str | None = None, baseline: dict | None = None,
                  candidate: dict | None = None, scope: TenantScope = EVERY_TENANT) -> dict[str, Any]:
    """The stage's comparison (the engine's ``StageComparison`` as JSON).

    Either both bodies or both trace ids; traces outside ``scope`` are not
    found. Raises pydantic's ``ValidationError`` on bad options or bodies
    (the API answers 400 as for any request contract), ``InvalidInput`` on a
    body of another stage, ``NotFound`` when neither trace has the stage.
    """
    config = ScoringConfig.from_overrides(scoring_options_check(options))
    if baseline is not None and candidate is not None:
        base, cand = _snapshot_from_body(stage, baseline, "baseline"), _snapshot_from_body(stage, candidate, "candidate")
    else:
        if baseline_trace_id == candidate_trace_id:
            raise InvalidInput("a trace cannot be compared with itself")
        # One tenant: the candidate's (picked as trace_pick does); the baseline id is looked up in it.
        tenant_id = trace_visible(trace_id=candidate_trace_id, scope=scope).tenant_id
        trace_visible(trace_id=baseline_trace_id, scope=scope, tenant=tenant_id)
        snapshots = selectors.trace_snapshots([baseline_trace_id, candidate_trace_id], tenant_id=tenant_id)
        base = snapshots[baseline_trace_id].stages.get(stage)
        cand = snapshots[candidate_trace_id].stages.get(stage)
        if base is None and cand is None:
            raise NotFound(f"neither trace has stage {stage!r} (or the trace ids are unknown)")
    return compare_stage(base, cand, config, None).model_dump(mode="json", exclude_none=True)  # absent, not null


def _snapshot_from_body(stage: str, body: dict, side: str) -> StageSnapshot:
    output = StageOutput.model_validate(body)  # a 400 with field errors when malformed
    if output.stage != stage:
        raise InvalidInput(f"{side}.stage is {output.stage!r}, expected {stage!r}", field=side)
    return StageSnapshot.from_output(output.model_dump(mode="json"))
