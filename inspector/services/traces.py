"""Writing traces: validated ingest of a whole trace in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import StageRunIn, TraceIn, parse_asset_ref
from inspector.errors import Conflict
from inspector.models import AssetVersion, StagePayload, StageRun, Trace, TraceAssetUsage
from inspector.services.payloads import SerializedPayload, canonical_json, content_hash, serialize_payload
from inspector.services.rollups import note_traces_written

_STATUS_RANK = {"ok": 0, "warning": 1, "error": 2}
_TRACE_STATUS = {0: "success", 1: "warning", 2: "error"}


def trace_ingest(*, payload: dict[str, Any] | TraceIn, scope: TenantScope = EVERY_TENANT) -> tuple[Trace, bool]:
    """Validate and store a trace with its stage runs, payloads and asset bill of materials.

    Returns ``(trace, created)``. Re-sending an identical body for an existing
    ``trace_id`` returns the stored trace with ``created=False``; a different
    body raises ``Conflict``. Raises ``pydantic.ValidationError`` on a
    malformed trace, ``TenantForbidden`` for a tenant outside ``scope``;
    nothing is written then.
    """
    trace_in = payload if isinstance(payload, TraceIn) else TraceIn.model_validate(payload)
    scope.require(trace_in.tenant_id)
    serialized = [
        (serialize_payload(run.input.model_dump(mode="json")), serialize_payload(run.output.model_dump(mode="json")))
        for run in trace_in.stages
    ]
    digest = _digest(trace_in, serialized)
    trace_id = trace_in.trace_id or str(uuid.uuid4())
    # Insert first and look only on a clash: re-sends are rare, and the unique
    # index settles races between concurrent senders of one trace_id.
    try:
        with transaction.atomic():
            _relax_commit_durability()
            trace = _write_trace(trace_in, serialized, trace_id=trace_id, digest=digest)
    except IntegrityError:
        existing = _existing_trace(trace_id, digest)
        if existing is None:
            raise
        return existing, False
    note_traces_written([trace.started_at])
    return trace, True


def _digest(trace_in: TraceIn, serialized: list[tuple[SerializedPayload, SerializedPayload]]) -> str:
    """Hash of the normalised body without ``trace_id``, reusing the payload bytes."""
    header = trace_in.model_dump(mode="json", exclude={"trace_id", "stages"})
    parts = [canonical_json(header)]
    for run, (input_payload, output_payload) in zip(trace_in.stages, serialized, strict=True):
        parts += [canonical_json([run.stage, run.attempt, run.started_at]), input_payload.data, output_payload.data]
    return content_hash(parts)


def _existing_trace(trace_id: str, digest: str) -> Trace | None:
    existing = Trace.objects.filter(trace_id=trace_id).first()
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


def _write_trace(
    trace_in: TraceIn, serialized: list[tuple[SerializedPayload, SerializedPayload]], *, trace_id: str, digest: str
) -> Trace:
    started_at = _trace_started_at(trace_in)
    trace = Trace.objects.create(
        trace_id=trace_id,
        parent_trace_id=trace_in.parent_trace_id,
        tenant_id=trace_in.tenant_id,
        question=trace_in.question,
        route=trace_in.route or _route_from_stages(trace_in.stages),
        status=trace_in.status or _status_from_stages(trace_in.stages),
        started_at=started_at,
        duration_ms=(
            trace_in.duration_ms
            if trace_in.duration_ms is not None
            else sum(run.output.duration_ms for run in trace_in.stages)
        ),
        test_mode=trace_in.test_mode,
        stage_count=len(trace_in.stages),
        # Each replan re-runs its scope stage once more: the highest attempt tells how many there were.
        replan_count=max((run.attempt for run in trace_in.stages), default=1) - 1,
        metadata=trace_in.metadata,
        content_hash=digest,
    )
    stage_runs = _build_stage_runs(trace, trace_in.stages, serialized, started_at)
    # PostgreSQL and SQLite both return primary keys from bulk inserts.
    StageRun.objects.bulk_create([run for run, _, _ in stage_runs])
    StagePayload.objects.bulk_create(
        StagePayload(
            stage_run=run,
            input_data=StagePayload.encode(input_payload.data),
            output_data=StagePayload.encode(output_payload.data),
        )
        for run, input_payload, output_payload in stage_runs
    )
    TraceAssetUsage.objects.bulk_create(_build_asset_usages(trace, trace_in))
    return trace


def _trace_started_at(trace_in: TraceIn) -> datetime:
    if trace_in.started_at is not None:
        return trace_in.started_at
    stamps = [run.started_at for run in trace_in.stages if run.started_at is not None]
    return min(stamps) if stamps else timezone.now()


def _route_from_stages(stages: list[StageRunIn]) -> str:
    for run in stages:
        if run.stage == "route_plan":
            kind = run.output.result.get("kind")
            return kind if kind in ("plan", "direct", "reject") else ""
    return ""


def _status_from_stages(stages: list[StageRunIn]) -> str:
    """The worst status among each stage's final attempt."""
    final: dict[str, StageRunIn] = {}
    for run in stages:
        if run.stage not in final or run.attempt >= final[run.stage].attempt:
            final[run.stage] = run
    worst = max((_STATUS_RANK[run.output.diagnostics.status] for run in final.values()), default=0)
    return _TRACE_STATUS[worst]


def _build_stage_runs(
    trace: Trace,
    stages: list[StageRunIn],
    serialized: list[tuple[SerializedPayload, SerializedPayload]],
    started_at: datetime,
) -> list[tuple[StageRun, SerializedPayload, SerializedPayload]]:
    built = []
    clock = started_at
    for sequence, (run, (input_payload, output_payload)) in enumerate(zip(stages, serialized, strict=True)):
        run_started = run.started_at or clock
        clock = run_started + timedelta(milliseconds=run.output.duration_ms)
        diagnostics = run.output.diagnostics
        stage_run = StageRun(
            trace=trace,
            stage=run.stage,
            attempt=run.attempt,
            sequence=sequence,
            status=diagnostics.status,
            started_at=run_started,
            duration_ms=run.output.duration_ms,
            warnings_count=len(diagnostics.warnings),
            errors_count=len(diagnostics.errors),
            references_count=len(run.output.references),
            result_empty=bool(diagnostics.empty_flags.get("result_empty")),
            diagnostics=diagnostics.model_dump(mode="json"),
            applied_assets=run.input.applied_assets,
            input_size=input_payload.size,
            output_size=output_payload.size,
            input_preview=input_payload.preview,
            output_preview=output_payload.preview,
        )
        built.append((stage_run, input_payload, output_payload))
    return built


def _build_asset_usages(trace: Trace, trace_in: TraceIn) -> list[TraceAssetUsage]:
    """Bill of materials rows: trace-level entries plus what each stage applied."""
    rows: dict[tuple[str, str, str, int], str] = {}
    for asset_type, applied in trace_in.applied_assets.items():
        rows[("", asset_type, applied.name, applied.version)] = applied.status
    for run in trace_in.stages:
        for asset_type, ref in run.input.applied_assets.items():
            parsed = parse_asset_ref(ref)
            declared = trace_in.applied_assets.get(asset_type)
            status = declared.status if declared and declared.name == parsed.name else ""
            rows.setdefault((str(run.stage), asset_type, parsed.name, parsed.version), status)
            if not trace_in.applied_assets:
                rows.setdefault(("", asset_type, parsed.name, parsed.version), "")
    if not rows:
        return []
    registry = _registry_versions(trace.tenant_id, {(t, n, v) for _, t, n, v in rows})
    facts = _usage_facts(trace, trace_in)
    usages = []
    for (stage, asset_type, name, version), status in rows.items():
        known = registry.get((asset_type, name, version))
        usages.append(
            TraceAssetUsage(
                trace=trace,
                stage=stage,
                asset_type=asset_type,
                asset_name=name,
                version=version,
                version_status=status or (known.status if known else ""),
                asset_version=known,
                started_at=trace.started_at,
                tenant_id=trace.tenant_id,
                **facts.get(stage, facts[""]),
            )
        )
    return usages


def _usage_facts(trace: Trace, trace_in: TraceIn) -> dict[str, dict[str, Any]]:
    """Per stage (final attempt) and for the whole trace ("") the figures impact analysis aggregates."""
    final: dict[str, StageRunIn] = {}
    for run in trace_in.stages:
        if run.stage not in final or run.attempt >= final[run.stage].attempt:
            final[run.stage] = run
    facts = {
        str(stage): {"status": run.output.diagnostics.status, "duration_ms": run.output.duration_ms,
                     "result_empty": bool(run.output.diagnostics.empty_flags.get("result_empty")),
                     "replanned": run.attempt > 1, "references_count": len(run.output.references),
                     "rows_count": max(0, int(run.output.diagnostics.counts.get("rows", 0)))}
        for stage, run in final.items()
    }
    answer = final.get("present")
    execute = final.get("execute")
    facts[""] = {
        "status": trace.status, "duration_ms": trace.duration_ms,
        "result_empty": any(fact["result_empty"] for fact in facts.values()),
        "replanned": trace.replan_count > 0,
        "references_count": len(answer.output.references) if answer else 0,
        "rows_count": facts["execute"]["rows_count"] if execute else 0,
    }
    return facts


def _registry_versions(tenant_id: str, keys: set[tuple[str, str, int]]) -> dict[tuple[str, str, int], AssetVersion]:
    """Registry versions for ``(type, name, version)`` keys; the tenant's own asset wins over the default's."""
    condition = Q()
    for asset_type, name, version in keys:
        condition |= Q(asset__asset_type=asset_type, asset__name=name, version=version)
    found: dict[tuple[str, str, int], AssetVersion] = {}
    candidates = (
        AssetVersion.objects.filter(condition, asset__tenant_id__in={tenant_id, "default"})
        .select_related("asset")
        .only("id", "version", "status", "asset__asset_type", "asset__name", "asset__tenant_id")
    )
    for candidate in candidates:
        key = (candidate.asset.asset_type, candidate.asset.name, candidate.version)
        if key not in found or candidate.asset.tenant_id == tenant_id:
            found[key] = candidate
    return found
