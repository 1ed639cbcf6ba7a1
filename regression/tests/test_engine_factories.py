"""Builders for engine tests (no tests here): snapshots of a small deterministic pipeline run."""

from __future__ import annotations

import copy
from typing import Any

from regression.engine import StageSnapshot, TraceSnapshot


def snapshot(
    stage: str = "execute",
    *,
    result: dict[str, Any] | None = None,
    status: str = "ok",
    warnings: list[str] | None = None,
    errors: list[str] | None = None,
    empty_flags: dict[str, bool] | None = None,
    counts: dict[str, int] | None = None,
    references: list[dict[str, Any]] | None = None,
    duration_ms: int = 100,
) -> StageSnapshot:
    """A stage snapshot whose ``output`` is the matching StageOutput dict."""
    diagnostics = {
        "status": status,
        "warnings": list(warnings or []),
        "errors": list(errors or []),
        "empty_flags": dict(empty_flags or {"result_empty": False}),
        "counts": dict(counts or {}),
    }
    output = {
        "stage": stage,
        "result": copy.deepcopy(result or {}),
        "diagnostics": diagnostics,
        "references": copy.deepcopy(references or []),
        "duration_ms": duration_ms,
    }
    return StageSnapshot.from_output(output)


def trace(*stages: StageSnapshot, trace_id: str = "trace-a", route: str = "plan") -> TraceSnapshot:
    return TraceSnapshot(trace_id=trace_id, route=route, stages={s.stage: s for s in stages})


def rows(*ids: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"svc-{i}", "state": "open"} for i in ids]


def pipeline(
    *,
    trace_id: str = "trace-a",
    durations: tuple[int, int, int, int, int] = (120, 30, 400, 80, 20),
    stamp: str = "2025-01-01T10:00:00Z",
    kind: str = "plan",
    intent: str = "list_incidents",
    row_ids: tuple[int, ...] = (1, 2, 3),
) -> TraceSnapshot:
    """A five-stage trace of one deterministic question; trace id, stamps and durations vary per run."""
    refs = [{"type": "db_row", "source": "incidents", "entity_id": str(i), "entity_name": f"svc-{i}"} for i in row_ids]
    table = rows(*row_ids)
    route, validate, execute, compose, present = durations
    return trace(
        snapshot("route_plan", duration_ms=route,
                 result={"kind": kind, "plan": {"intent": intent, "steps": [{"tool": "sql", "trace_id": trace_id}]},
                         "direct_answer": "", "planned_at": stamp}),
        snapshot("validate", duration_ms=validate, result={"validation_passed": True, "violations": []}),
        snapshot("execute", duration_ms=execute, counts={"rows": len(table)}, references=refs,
                 result={"tool_results": [{"tool": "sql", "rows": table, "elapsed_ms": execute - 5,
                                           "started_at": stamp, "request_id": f"req-{trace_id}"}],
                         "references": refs}),
        snapshot("compose", duration_ms=compose, counts={"blocks": 2}, references=refs,
                 result={"blocks": [{"type": "text", "text": f"{len(table)} open incidents"},
                                    {"type": "table", "rows": table}], "references": refs,
                         "created_at": stamp}),
        snapshot("present", duration_ms=present,
                 result={"ui_model": {"title": "Open incidents", "timestamp": stamp}, "final_blocks": [],
                         "final_references": refs, "final_attributions": []}),
        trace_id=trace_id,
    )
