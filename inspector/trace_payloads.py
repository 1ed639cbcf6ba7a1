"""Which stage payloads fit in one answer (``GET /inspector/traces/{id}?include=payloads``).

A trace may carry up to ``OPS_INGEST_MAX_BYTES`` of payloads; one answer
carries at most ``OPS_TRACE_PAYLOADS_MAX_BYTES`` of them, so a sync worker
never holds an unbounded document. Stages are taken in execution order and
each one whose input and output fit in what is left goes in whole; one that
does not fit is named in the answer (and read with the stage endpoint), and
smaller ones after it still go in, so one huge result does not hide the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PayloadBudget:
    included: frozenset[int]
    included_bytes: int
    omitted: tuple[int, ...]


def payloads_within_limit(runs: Iterable[tuple[int, int]], limit: int) -> PayloadBudget:
    """``runs``: (stage run id, input + output JSON bytes) in execution order."""
    included, omitted, used = set(), [], 0
    for run_id, size in runs:
        if used + size <= limit:
            included.add(run_id)
            used += size
        else:
            omitted.append(run_id)
    return PayloadBudget(included=frozenset(included), included_bytes=used, omitted=tuple(omitted))


@dataclass(frozen=True)
class OmittedPayload:
    stage: str
    attempt: int
    size_bytes: int
    trace_id: str
    tenant_id: str


@dataclass(frozen=True)
class PayloadInclusion:
    """What an answer with ``?include=payloads`` carries, for its ``payloads`` summary."""

    limit_bytes: int
    included_bytes: int
    omitted: list[OmittedPayload]

    @property
    def capped(self) -> bool:
        return bool(self.omitted)
