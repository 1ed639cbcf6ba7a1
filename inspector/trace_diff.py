"""Stage-by-stage comparison of two stored traces (pure: works on plain dicts).

Stages are aligned by name (final attempt of each). Per stage: presence,
status change, duration delta, counts delta, and a structural output diff
(RFC 6902, volatile fields dropped). The regression engine later adds
scores and verdicts on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspector.contracts import STAGE_ORDER
from inspector.pipeline.diff import stage_output_diff


@dataclass
class StageSide:
    stage: str
    attempt: int
    status: str
    duration_ms: int
    counts: dict[str, int]
    warnings: list[str]
    errors: list[str]
    output: dict[str, Any] = field(default_factory=dict)


def _delta(baseline: int | None, candidate: int | None) -> dict[str, Any]:
    if baseline is None or candidate is None:
        return {"baseline": baseline, "candidate": candidate, "delta": None, "percent": None}
    percent = None if baseline == 0 else round((candidate - baseline) / baseline * 100, 1)
    return {"baseline": baseline, "candidate": candidate, "delta": candidate - baseline, "percent": percent}


def compare_stage(baseline: StageSide | None, candidate: StageSide | None) -> dict[str, Any]:
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


def compare_traces(baseline: dict[str, StageSide], candidate: dict[str, StageSide]) -> list[dict[str, Any]]:
    """One row per stage present on either side, in pipeline order."""
    names = [name for name in STAGE_ORDER if name in baseline or name in candidate]
    return [compare_stage(baseline.get(name), candidate.get(name)) for name in names]
