"""Which replan trigger, if any, a stage's output raises (pure).

The runner asks after every stage; the first matching rule wins.
"""

from __future__ import annotations

from typing import Any

from controlloop.contracts import ReplanTrigger
from inspector.contracts import StageOutput


def _trigger(kind: str, stage: str, severity: str, reason: str, **metadata: Any) -> ReplanTrigger:
    return ReplanTrigger(trigger_type=kind, stage_name=stage, severity=severity, reason=reason,
                         trigger_raw=f"{kind} {stage} {reason}"[:2000], metadata=metadata)


def trigger_for(output: StageOutput, *, route: str = "plan") -> ReplanTrigger | None:
    stage = str(output.stage)
    diagnostics = output.diagnostics
    errors = " ".join(diagnostics.errors).lower()
    if diagnostics.status == "error":
        if stage == "validate" or "policy violation" in errors:
            return _trigger("policy_violation", stage, "high", "; ".join(diagnostics.errors))
        if "timed out" in errors:
            return _trigger("timeout", stage, "high", "; ".join(diagnostics.errors))
        if "query rejected" in errors:
            return _trigger("tool_error_fatal", stage, "critical", "; ".join(diagnostics.errors))
        return _trigger("error", stage, "high", "; ".join(diagnostics.errors))
    if stage == "route_plan" and any("no configuration item" in w for w in diagnostics.warnings):
        return _trigger("slot_missing", stage, "low", "the question names no system")
    if stage == "execute" and diagnostics.empty_flags.get("result_empty"):
        return _trigger("empty_result", stage, "medium", "the query returned no rows",
                        rows=diagnostics.counts.get("rows", 0))
    if stage == "present" and route == "plan":
        result = output.result
        if result.get("final_blocks") and not result.get("final_references"):
            return _trigger("low_evidence", stage, "low", "the answer cites no evidence")
        if result.get("ui_model", {}).get("dropped_blocks", 0) > 0:
            return _trigger("present_limit", stage, "low", "blocks were dropped to fit the screen")
    return None
