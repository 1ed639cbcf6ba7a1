"""A structural diff between two stage outputs, as RFC 6902 operations.

Volatile fields (durations, timestamps) are dropped first so that two runs of
the same deterministic stage diff as equal. The regression engine builds its
scored comparison on top of this kind of diff.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

VOLATILE_KEYS = frozenset({"duration_ms", "started_at", "elapsed_ms", "timestamp", "trace_id"})


def strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [strip_volatile(item) for item in value]
    return value


def stage_output_diff(baseline: dict[str, Any], candidate: dict[str, Any], *, max_operations: int = 500) -> dict[str, Any]:
    """``{changed, operation_count, counts: {add, remove, replace, …}, operations: [...]}``."""
    operations = jsonpatch.make_patch(strip_volatile(baseline), strip_volatile(candidate)).patch
    counts: dict[str, int] = {}
    for operation in operations:
        counts[operation["op"]] = counts.get(operation["op"], 0) + 1
    return {
        "changed": bool(operations),
        "operation_count": len(operations),
        "counts": counts,
        "operations": operations[:max_operations],
        "truncated": len(operations) > max_operations,
    }
