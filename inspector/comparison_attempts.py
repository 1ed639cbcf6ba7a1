"""Every attempt of every stage of two compared traces, for the compare page and ``GET …/diff``.

``selectors.trace_compare`` aligns the final attempts; this adds, per stage
and side, each attempt (number, status, duration, empty) with the replans the
control loop decided after it, read from summary columns and the trace's
``metadata["replans"]`` (no payloads).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from inspector import selectors
from inspector.models import StageRun, Trace
from inspector.trace_comparison import AttemptSnapshot, ReplanRecord, with_attempts


def stage_attempts(trace: Trace) -> dict[str, list[AttemptSnapshot]]:
    """``{stage: [attempt, ...]}`` in execution order, from summary columns only."""
    attempts: dict[str, list[AttemptSnapshot]] = defaultdict(list)
    runs = (StageRun.objects.filter(trace=trace).order_by("stage", "attempt")
            .values("stage", "attempt", "status", "duration_ms", "diagnostics"))
    for run in runs:
        diagnostics = run["diagnostics"] or {}
        attempts[run["stage"]].append(AttemptSnapshot(
            attempt=run["attempt"], status=run["status"], duration_ms=run["duration_ms"],
            empty_flags=diagnostics.get("empty_flags") or {}, counts=diagnostics.get("counts") or {}))
    return dict(attempts)


def trace_compare_with_attempts(**kwargs: Any) -> dict[str, Any]:
    """``selectors.trace_compare`` (same arguments and errors) with every attempt of both traces per stage."""
    comparison = selectors.trace_compare(**kwargs)
    baseline, candidate = comparison["baseline"], comparison["candidate"]
    comparison["stages"] = with_attempts(
        comparison["stages"], stage_attempts(baseline), stage_attempts(candidate),
        ReplanRecord.from_metadata(baseline.metadata), ReplanRecord.from_metadata(candidate.metadata))
    return comparison
