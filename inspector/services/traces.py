"""Writing traces: validated ingest of a whole trace, or a batch of them, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from access.errors import TenantForbidden
from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import TraceBatchIn, TraceIn
from inspector.models import Trace
from inspector.services.payloads import (
    SerializedPayload,
    canonical_json,
    content_hash,
    serialize_payload,
)
from inspector.services.registry_cache import registry_cache_clear
from inspector.services.rollups import note_traces_written
from inspector.services.trace_rows import PreparedTrace, traces_write
from kernel.errors import Conflict, InvalidInput, PayloadTooLarge


def trace_ingest(*, payload: dict[str, Any] | TraceIn, scope: TenantScope = EVERY_TENANT) -> tuple[Trace, bool]:
    """Validate and store a trace with its stage runs, payloads and asset bill of materials.

    Returns ``(trace, created)``. Re-sending an identical body for an existing
    ``trace_id`` of the same tenant returns the stored trace with
    ``created=False``; a different body raises ``Conflict``. Trace ids are
    unique per tenant: another tenant's trace with the same id is never
    looked at (its existence is not revealed). Raises ``pydantic.ValidationError`` on a
    malformed trace, ``TenantForbidden`` for a tenant outside ``scope``;
    nothing is written then.
    """
    trace_in = payload if isinstance(payload, TraceIn) else TraceIn.model_validate(payload)
    scope.require(trace_in.tenant_id)
    prepared = _prepare(trace_in)
    # Insert first and look only on a clash: re-sends are rare, and the unique
    # index settles races between concurrent senders of one trace_id.
    for retry in (False, True):
        try:
            with transaction.atomic():
                _relax_commit_durability()
                [trace] = traces_write([prepared])
            break
        except IntegrityError:
            existing = _existing_trace(trace_in.tenant_id, prepared.trace_id, prepared.digest)
            if existing is not None:
                return existing, False
            if retry:
                raise
            # Not a re-send: a registry version cached here was deleted by another process.
            registry_cache_clear()
    note_traces_written([trace.started_at])
    return trace, True


@dataclass(frozen=True)
class BatchItem:
    """What ingest did with one item of a batch (``index`` counts from 0)."""

    index: int
    trace_id: str
    tenant_id: str
    created: bool

    @property
    def result(self) -> str:
        return "created" if self.created else "existing"


@dataclass(frozen=True)
class BatchIngest:
    results: list[BatchItem]

    @property
    def created(self) -> int:
        return sum(item.created for item in self.results)

    @property
    def existing(self) -> int:
        return len(self.results) - self.created


def trace_ingest_batch(*, payloads: list[Any], scope: TenantScope = EVERY_TENANT) -> BatchIngest:
    """Validate and store up to ``OPS_INGEST_BATCH_MAX`` traces in one transaction, all or nothing.

    Each item gets what ``trace_ingest`` gives one trace: ``created``, or not
    when an identical body is stored already (also earlier in the same batch).
    Any bad item rejects the batch and nothing is written: a malformed item
    raises ``pydantic.ValidationError`` (paths start with the item's index),
    a tenant outside ``scope`` ``TenantForbidden``, a ``trace_id`` stored or
    sent earlier for the same tenant with a different body ``Conflict``; an empty batch is
    ``InvalidInput``, a longer one than the limit ``PayloadTooLarge``.
    """
    if not payloads:
        raise InvalidInput("the batch is empty: send at least one trace")
    limit = settings.OPS_INGEST_BATCH_MAX
    if len(payloads) > limit:
        raise PayloadTooLarge(f"a batch holds at most {limit} traces; this one has {len(payloads)}")
    traces_in = TraceBatchIn.model_validate(payloads).root
    for index, trace_in in enumerate(traces_in):
        if not scope.allows(trace_in.tenant_id):
            raise TenantForbidden(f"item {index}: you are not a member of tenant {trace_in.tenant_id!r}")
    prepared = [_prepare(trace_in) for trace_in in traces_in]
    for retry in (False, True):
        try:
            with transaction.atomic():
                _relax_commit_durability()
                items, written = _write_batch(prepared)
            break
        except IntegrityError:
            if retry:
                raise
            # A sender of the same trace_id committed between our look-up and
            # insert, or a cached registry version was deleted: look again.
            registry_cache_clear()
    note_traces_written([trace.started_at for trace in written])
    return BatchIngest(results=items)


def _write_batch(prepared: list[PreparedTrace]) -> tuple[list[BatchItem], list[Trace]]:
    # Trace ids are unique per tenant: an item is compared with its own tenant's trace only.
    keys = {(item.trace_in.tenant_id, item.trace_id) for item in prepared}
    same_ids = Trace.objects.filter(trace_id__in={trace_id for _, trace_id in keys},
                                    tenant_id__in={tenant_id for tenant_id, _ in keys})
    stored = {(tenant_id, trace_id): digest for tenant_id, trace_id, digest
              in same_ids.values_list("tenant_id", "trace_id", "content_hash")}
    first: dict[tuple[str, str], int] = {}
    items: list[BatchItem] = []
    new: list[PreparedTrace] = []
    for index, item in enumerate(prepared):
        key = (item.trace_in.tenant_id, item.trace_id)
        result = {"index": index, "trace_id": item.trace_id, "tenant_id": item.trace_in.tenant_id}
        if key in stored:
            if stored[key] != item.digest:
                raise Conflict(f"item {index}: trace {item.trace_id!r} already exists with a different body")
            items.append(BatchItem(**result, created=False))
        elif key in first:
            earlier = first[key]
            if prepared[earlier].digest != item.digest:
                raise Conflict(f"item {index}: trace {item.trace_id!r} is also item {earlier}, with a different body")
            items.append(BatchItem(**result, created=False))
        else:
            first[key] = index
            new.append(item)
            items.append(BatchItem(**result, created=True))
    return items, traces_write(new)


def _prepare(trace_in: TraceIn) -> PreparedTrace:
    serialized = [
        (serialize_payload(run.input.model_dump(mode="json")), serialize_payload(run.output.model_dump(mode="json")))
        for run in trace_in.stages
    ]
    return PreparedTrace(trace_in=trace_in, serialized=serialized, trace_id=trace_in.trace_id or str(uuid.uuid4()),
                         digest=_digest(trace_in, serialized))


def _digest(trace_in: TraceIn, serialized: list[tuple[SerializedPayload, SerializedPayload]]) -> str:
    """Hash of the normalised body without ``trace_id``, reusing the payload bytes."""
    # Without a session the header is what it was before sessions existed: re-sending a trace stored
    # then still finds the same hash.
    header = trace_in.model_dump(mode="json", exclude={"trace_id", "stages"} | (set() if trace_in.session_id
                                                                                  else {"session_id"}))
    parts = [canonical_json(header)]
    for run, (input_payload, output_payload) in zip(trace_in.stages, serialized, strict=True):
        parts += [canonical_json([run.stage, run.attempt, run.started_at]), input_payload.data, output_payload.data]
    return content_hash(parts)


def _existing_trace(tenant_id: str, trace_id: str, digest: str) -> Trace | None:
    existing = Trace.objects.filter(tenant_id=tenant_id, trace_id=trace_id).first()
    if existing is not None and existing.content_hash != digest:
        raise Conflict(f"trace {trace_id!r} already exists with a different body")
    return existing


def _relax_commit_durability() -> None:
    """``OPS_INGEST_SYNCHRONOUS_COMMIT=false``: this transaction's commit does not wait for the WAL flush.

    Atomicity is unchanged (a trace is stored whole or not at all); a server
    crash may lose traces acknowledged in the last few hundred milliseconds.
    On disks with slow fsync the flush dominates ingest (docs/performance.md).
    """
    if settings.OPS_INGEST_SYNCHRONOUS_COMMIT or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
