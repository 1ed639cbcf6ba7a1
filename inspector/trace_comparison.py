"""Stage-by-stage comparison of two stored traces (pure: no ORM).

``StageSnapshot`` is what every comparison knows of one stage run: this
module's unscored rows (the trace diff page and ``GET …/diff``) and the
regression engine's scored ``compare_stage`` both take it. Stages are aligned
by name (final attempt of each). Per stage: presence, status change, duration
delta, counts delta, message changes and the structural output diff of
``inspector.structural_diff``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from inspector.contracts import STAGE_ORDER
from inspector.structural_diff import stage_output_diff
from kernel.contracts import Contract


class StageSnapshot(Contract):
    """One stage run as comparisons see it; ``output`` is the full StageOutput dict."""

    stage: str = Field(min_length=1)
    status: Literal["ok", "warning", "error"] = "ok"
    warnings: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    empty_flags: dict[str, bool] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    references_count: int = Field(default=0, ge=0)
    duration_ms: int = Field(default=0, ge=0)
    output: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_output(cls, output: dict[str, Any]) -> StageSnapshot:
        """Build a snapshot from a StageOutput dict (``{stage, result, diagnostics, references, duration_ms}``)."""
        diagnostics = output.get("diagnostics") or {}
        return cls(
            stage=str(output.get("stage", "")),
            status=diagnostics.get("status") or "ok",
            warnings=diagnostics.get("warnings") or [],
            errors=diagnostics.get("errors") or [],
            empty_flags=diagnostics.get("empty_flags") or {},
            counts=diagnostics.get("counts") or {},
            references_count=len(output.get("references") or []),
            duration_ms=output.get("duration_ms") or 0,
            output=output,
        )


def _delta(baseline: int | None, candidate: int | None) -> dict[str, Any]:
    if baseline is None or candidate is None:
        return {"baseline": baseline, "candidate": candidate, "delta": None, "percent": None}
    percent = None if baseline == 0 else round((candidate - baseline) / baseline * 100, 1)
    return {"baseline": baseline, "candidate": candidate, "delta": candidate - baseline, "percent": percent}


def stage_row(baseline: StageSnapshot | None, candidate: StageSnapshot | None) -> dict[str, Any]:
    """The unscored comparison of one stage present on at least one side."""
    stage = (baseline or candidate).stage  # type: ignore[union-attr]
    presence = "both" if baseline and candidate else "baseline_only" if baseline else "candidate_only"
    row: dict[str, Any] = {
        "stage": stage,
        "presence": presence,
        "status": {"baseline": baseline.status if baseline else None, "candidate": candidate.status if candidate else None},
        "duration_ms": _delta(baseline.duration_ms if baseline else None, candidate.duration_ms if candidate else None),
    }
    keys = sorted(set(baseline.counts if baseline else {}) | set(candidate.counts if candidate else {}))
    row["counts"] = {
        key: _delta((baseline.counts.get(key, 0) if baseline else None), (candidate.counts.get(key, 0) if candidate else None))
        for key in keys
    }
    if baseline and candidate:
        row["new_errors"] = [e for e in candidate.errors if e not in baseline.errors]
        row["resolved_errors"] = [e for e in baseline.errors if e not in candidate.errors]
        row["new_warnings"] = [w for w in candidate.warnings if w not in baseline.warnings]
        row["output_diff"] = stage_output_diff(baseline.output, candidate.output)
        row["status"]["changed"] = baseline.status != candidate.status
    return row


def compare_traces(baseline: dict[str, StageSnapshot], candidate: dict[str, StageSnapshot]) -> list[dict[str, Any]]:
    """One row per stage present on either side, in pipeline order."""
    names = [name for name in STAGE_ORDER if name in baseline or name in candidate]
    return [stage_row(baseline.get(name), candidate.get(name)) for name in names]
