"""OTLP exports into stored traces: buffer the spans, assemble each trace once its root span is in.

A trace is assembled as soon as its root span has arrived, from every span
buffered for it; a span arriving later (another export batch, out of order)
assembles it again from all of them and replaces the stored trace, so each
trace is stored exactly once and ends up with all its spans. A span sent twice
is buffered once (unique span id), and the same spans give the same body,
which ingest treats as already stored. Traces whose root never comes are
assembled from their earliest span once no span has come for
``OPS_OTLP_QUIET_SECONDS`` (``otlp_sweep``, run by beat).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, ProtectedError
from django.utils import timezone
from pydantic import ValidationError

from access.tenancy import TenantScope
from inspector.models import Trace
from inspector.services import trace_ingest
from kernel.errors import Conflict, ServiceError
from otlp.decoding import ExportTraceServiceRequest
from otlp.mapping import StageRule, assemble, root_of
from otlp.models import BufferedSpan, SpanStageRule
from otlp.spans import span_records

log = logging.getLogger(__name__)

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
TENANT_ATTRIBUTE = "ops.tenant_id"


@dataclass
class ExportOutcome:
    """What an export did, for OTLP's ``partial_success``: rejected spans and why, and warnings."""

    spans: int = 0
    rejected_spans: int = 0
    assembled: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def error_message(self) -> str:
        return "; ".join(self.messages)


def _tenant(record: dict, default: str) -> str:
    return str(record["resource"].get(TENANT_ATTRIBUTE) or record["attributes"].get(TENANT_ATTRIBUTE) or default)


class TenantRules(dict):
    """Each tenant's span stage rules, read once per export or sweep however many traces it touches."""

    def __missing__(self, tenant_id: str) -> list[StageRule]:
        rules = self[tenant_id] = [StageRule(pattern=p, stage=s) for p, s in
                                   SpanStageRule.objects.filter(tenant_id=tenant_id).values_list("pattern", "stage")]
        return rules


def otlp_export(*, export: ExportTraceServiceRequest, scope: TenantScope, default_tenant: str,
                now: datetime | None = None) -> ExportOutcome:
    """Buffer the export's spans and assemble every trace whose root span is in. All-or-nothing on tenants:
    a span naming a tenant the caller is not a member of refuses the whole export (TenantForbidden)."""
    now = now or timezone.now()
    records = span_records(export)
    outcome = ExportOutcome(spans=len(records))
    valid = []
    for record in records:
        if not TRACE_ID.match(record["trace_id"]) or record["trace_id"] == "0" * 32 or not SPAN_ID.match(record["span_id"]):
            outcome.rejected_spans += 1
            continue
        valid.append((_tenant(record, default_tenant), record))
    if outcome.rejected_spans:
        outcome.messages.append(f"{outcome.rejected_spans} span(s) without a valid trace id or span id were rejected")
    for tenant in sorted({tenant for tenant, _ in valid}):
        scope.require(tenant)
    BufferedSpan.objects.bulk_create(
        [BufferedSpan(tenant_id=tenant, trace_hex=r["trace_id"], span_id=r["span_id"], record=r, received_at=now)
         for tenant, r in valid],
        ignore_conflicts=True, batch_size=500)
    rules = TenantRules()
    for tenant, trace_hex in sorted({(tenant, r["trace_id"]) for tenant, r in valid}):
        _assemble(tenant, trace_hex, outcome, rules, when_rooted=True)
    return outcome


def _assemble(tenant: str, trace_hex: str, outcome: ExportOutcome, rules: TenantRules, *, when_rooted: bool) -> None:
    records = list(BufferedSpan.objects.filter(tenant_id=tenant, trace_hex=trace_hex).values_list("record", flat=True))
    root = root_of(records)
    if root is None and when_rooted:
        return  # wait for the root span, or for otlp_sweep's quiet period
    earliest = None if root else min(records, key=lambda r: (r["start_ns"], r["span_id"]))
    assembly = assemble(records, tenant_id=tenant, rules=rules[tenant], root=earliest)
    if earliest is not None:
        assembly.body["metadata"]["otlp"]["root_missing"] = True
    if assembly.unmapped:
        names = ", ".join(sorted({span["name"] for span in assembly.unmapped}))[:300]
        outcome.messages.append(f"trace {trace_hex}: {len(assembly.unmapped)} span(s) map to no stage ({names}); "
                                "listed in the trace's metadata.otlp.unmapped_spans")
    try:
        _store(assembly.body)
    except ValidationError as exc:
        outcome.rejected_spans += len(records)
        first = exc.errors()[0]
        outcome.messages.append(f"trace {trace_hex} was not stored: {'/'.join(map(str, first['loc']))}: {first['msg']}")
        return
    except ServiceError as exc:
        outcome.rejected_spans += len(records)
        outcome.messages.append(f"trace {trace_hex} was not stored: {exc.message}")
        return
    outcome.assembled.append(trace_hex)


def _store(body: dict) -> None:
    """Ingest the body; when an earlier assembly of the trace is stored, replace it (same transaction)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                trace_ingest(payload=body)
            return
        except Conflict:
            pass
        try:
            Trace.objects.filter(tenant_id=body["tenant_id"], trace_id=body["trace_id"]).delete()
        except (ProtectedError, IntegrityError) as exc:
            raise Conflict(f"trace {body['trace_id']} is stored and referenced (an analysis, a baseline): "
                           "its late spans were not applied") from exc
        trace_ingest(payload=body)


@dataclass
class SweepOutcome:
    assembled: int
    deleted_spans: int


def otlp_sweep(*, now: datetime | None = None) -> SweepOutcome:
    """Assemble traces whose root span never came once they have been quiet, and forget old buffered spans."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.OPS_OTLP_QUIET_SECONDS)
    # Spans stay buffered after assembly (late spans re-assemble from all of them): only unstored traces wait.
    stored = Trace.objects.filter(tenant_id=OuterRef("tenant_id"), trace_id=OuterRef("trace_hex"))
    waiting = (BufferedSpan.objects.filter(~Exists(stored)).values("tenant_id", "trace_hex")
               .annotate(last=Max("received_at")).filter(last__lt=quiet_since).order_by("last"))
    outcome, rules = ExportOutcome(), TenantRules()
    assembled = 0
    for group in waiting[: settings.OPS_OTLP_SWEEP_BATCH]:
        _assemble(group["tenant_id"], group["trace_hex"], outcome, rules, when_rooted=False)
        assembled += 1
    for message in outcome.messages:
        log.info("otlp sweep: %s", message)
    deleted, _ = BufferedSpan.objects.filter(
        received_at__lt=now - timedelta(hours=settings.OPS_OTLP_BUFFER_HOURS)).delete()
    return SweepOutcome(assembled=assembled, deleted_spans=deleted)
