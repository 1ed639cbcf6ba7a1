"""The rows of validated traces, and writing them in as few statements as possible.

Callers hold the transaction. On PostgreSQL, for any number of traces: one
query takes the primary keys of the traces and stage runs from their
sequences, then four binary ``COPY … FROM STDIN`` write the traces, stage
runs, payloads and bill of materials: raw bytes on the wire, nothing to
escape in Python or to plan on the server, whatever the batch size.
Elsewhere (SQLite) the ORM's ``bulk_create``. Measurements are in
docs/performance.md ("Ingest").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from inspector.contracts import INT_COLUMN_MAX, StageRunIn, TraceIn, parse_asset_ref
from inspector.models import StagePayload, StageRun, Trace, TraceAssetUsage
from inspector.services.payloads import SerializedPayload
from inspector.services.price_tables import PRICE_TABLE_TYPE, PriceTable, price_table_for
from inspector.services.registry_cache import registry_versions
from inspector.usage import PricedUsage, needs_price_table, priced, usage_of

_STATUS_RANK = {"ok": 0, "warning": 1, "error": 2}
_TRACE_STATUS = {0: "success", 1: "warning", 2: "error"}

TRACE_FIELDS = ("trace_id", "parent_trace_id", "tenant_id", "session_id", "question", "route", "status", "started_at",
                "duration_ms", "test_mode", "stage_count", "replan_count", "input_tokens", "output_tokens", "cost",
                "unpriced_runs", "metadata", "content_hash", "created_at")
STAGE_RUN_FIELDS = ("trace_id", "stage", "attempt", "sequence", "status", "started_at", "duration_ms",
                    "warnings_count", "errors_count", "references_count", "result_empty", "diagnostics",
                    "applied_assets", "input_size", "output_size", "model", "input_tokens", "output_tokens", "cost",
                    "cost_source")
PAYLOAD_FIELDS = ("stage_run_id", "input_data", "output_data")
USAGE_FIELDS = ("trace_id", "stage", "asset_type", "asset_name", "version", "version_status", "asset_version_id",
                "started_at", "tenant_id", "status", "duration_ms", "result_empty", "replanned", "references_count",
                "rows_count", "tokens", "cost", "test_mode")


@dataclass(frozen=True)
class PreparedTrace:
    """A validated trace with its payloads serialised once and the hash of its body."""

    trace_in: TraceIn
    serialized: list[tuple[SerializedPayload, SerializedPayload]]
    trace_id: str
    digest: str


@dataclass(frozen=True)
class Costing:
    """Each stage run's priced usage (in the trace's order) and the price table that priced any of them."""

    runs: list[PricedUsage]
    table: PriceTable | None

    def stage_total(self, trace_in: TraceIn, stage: str) -> tuple[int, float]:
        """Tokens and known cost of every attempt of ``stage``."""
        spent = [usage for run, usage in zip(trace_in.stages, self.runs, strict=True) if run.stage == stage]
        return sum(u.tokens for u in spent), round(sum(u.cost for u in spent), 8)


def _costing(trace_in: TraceIn) -> Costing:
    results = [run.output.result for run in trace_in.stages]
    table = None
    if needs_price_table(results):
        named = trace_in.applied_assets.get(PRICE_TABLE_TYPE)
        table = price_table_for(trace_in.tenant_id, name=named.name if named else "",
                                version=named.version if named else 0)
    runs = [priced(usage_of(result), table.spec if table else None) for result in results]
    used = any(run.cost_source == "price_table" for run in runs)
    return Costing(runs=runs, table=table if used else None)


def traces_write(prepared: list[PreparedTrace]) -> list[Trace]:
    """Insert traces with their stage runs, payloads and bill of materials; the saved ``Trace`` objects.

    Runs inside the caller's transaction. A ``trace_id`` that exists in its tenant raises
    ``IntegrityError`` (at once); a stale registry id fails at commit.
    """
    if not prepared:
        return []
    now = timezone.now()
    costings = [_costing(item.trace_in) for item in prepared]
    traces = [_trace(item, costing, now) for item, costing in zip(prepared, costings, strict=True)]
    if connection.vendor == "postgresql":
        _write_postgresql(prepared, costings, traces)
    else:
        _write_orm(prepared, costings, traces)
    return traces


# -- rows ----------------------------------------------------------------------

def _trace(item: PreparedTrace, costing: Costing, now: datetime) -> Trace:
    trace_in = item.trace_in
    return Trace(
        trace_id=item.trace_id,
        parent_trace_id=trace_in.parent_trace_id,
        tenant_id=trace_in.tenant_id,
        session_id=trace_in.session_id,
        question=trace_in.question,
        route=trace_in.route or _route_from_stages(trace_in.stages),
        status=trace_in.status or _status_from_stages(trace_in.stages),
        started_at=_trace_started_at(trace_in),
        duration_ms=(
            trace_in.duration_ms
            if trace_in.duration_ms is not None
            else sum(run.output.duration_ms for run in trace_in.stages)
        ),
        test_mode=trace_in.test_mode,
        stage_count=len(trace_in.stages),
        # Each replan re-runs its scope stage once more: the highest attempt tells how many there were.
        replan_count=max((run.attempt for run in trace_in.stages), default=1) - 1,
        input_tokens=min(INT_COLUMN_MAX, sum(run.input_tokens for run in costing.runs)),
        output_tokens=min(INT_COLUMN_MAX, sum(run.output_tokens for run in costing.runs)),
        cost=round(sum(run.cost for run in costing.runs), 8),
        unpriced_runs=sum(1 for run in costing.runs if run.unpriced),
        metadata=trace_in.metadata,
        content_hash=item.digest,
        created_at=now,
    )


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


def _final_attempts(stages: list[StageRunIn]) -> dict[str, StageRunIn]:
    final: dict[str, StageRunIn] = {}
    for run in stages:
        if run.stage not in final or run.attempt >= final[run.stage].attempt:
            final[run.stage] = run
    return final


def _status_from_stages(stages: list[StageRunIn]) -> str:
    """The worst status among each stage's final attempt."""
    worst = max((_STATUS_RANK[run.output.diagnostics.status] for run in _final_attempts(stages).values()), default=0)
    return _TRACE_STATUS[worst]


def _stage_run_rows(item: PreparedTrace, costing: Costing, trace: Trace) -> list[dict[str, Any]]:
    """Field values of each stage run (without ``trace_id``), in execution order."""
    rows = []
    clock = trace.started_at
    for sequence, (run, (input_payload, output_payload), usage) in enumerate(
        zip(item.trace_in.stages, item.serialized, costing.runs, strict=True)
    ):
        run_started = run.started_at or clock
        clock = run_started + timedelta(milliseconds=run.output.duration_ms)
        diagnostics = run.output.diagnostics
        rows.append({
            "stage": str(run.stage),
            "attempt": run.attempt,
            "sequence": sequence,
            "status": diagnostics.status,
            "started_at": run_started,
            "duration_ms": run.output.duration_ms,
            "warnings_count": len(diagnostics.warnings),
            "errors_count": len(diagnostics.errors),
            "references_count": len(run.output.references),
            "result_empty": bool(diagnostics.empty_flags.get("result_empty")),
            "diagnostics": diagnostics.model_dump(mode="json"),
            "applied_assets": run.input.applied_assets,
            "input_size": input_payload.size,
            "output_size": output_payload.size,
            "model": usage.model,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cost": usage.cost,
            "cost_source": usage.cost_source,
        })
    return rows


def _usage_rows(trace_in: TraceIn, costing: Costing, trace: Trace) -> list[dict[str, Any]]:
    """Bill of materials (without ``trace_id``): trace-level entries plus what each stage applied.

    The price table that priced the trace is a trace-level entry too: impact
    analysis then compares cost per trace between its versions like any asset's.
    """
    rows: dict[tuple[str, str, str, int], str] = {}
    for asset_type, applied in trace_in.applied_assets.items():
        rows[("", asset_type, applied.name, applied.version)] = applied.status
    if costing.table and PRICE_TABLE_TYPE not in trace_in.applied_assets:
        rows[("", PRICE_TABLE_TYPE, costing.table.name, costing.table.version)] = costing.table.status
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
    registry = registry_versions(trace.tenant_id, {(t, n, v) for _, t, n, v in rows})
    facts = _usage_facts(trace, trace_in, costing)
    usages = []
    for (stage, asset_type, name, version), status in rows.items():
        known = registry.get((asset_type, name, version))
        usages.append({
            "stage": stage,
            "asset_type": asset_type,
            "asset_name": name,
            "version": version,
            "version_status": status or (known.status if known else ""),
            "asset_version_id": known.id if known else None,
            "started_at": trace.started_at,
            "tenant_id": trace.tenant_id,
            "test_mode": trace.test_mode,
            **facts.get(stage, facts[""]),
        })
    return usages


def _usage_facts(trace: Trace, trace_in: TraceIn, costing: Costing) -> dict[str, dict[str, Any]]:
    """Per stage (final attempt; tokens and cost of all its attempts) and for the whole trace ("") the
    figures impact analysis aggregates."""
    final = _final_attempts(trace_in.stages)
    facts = {}
    for stage, run in final.items():
        tokens, cost = costing.stage_total(trace_in, stage)
        facts[str(stage)] = {
            "status": run.output.diagnostics.status, "duration_ms": run.output.duration_ms,
            "result_empty": bool(run.output.diagnostics.empty_flags.get("result_empty")),
            "replanned": run.attempt > 1, "references_count": len(run.output.references),
            "rows_count": max(0, int(run.output.diagnostics.counts.get("rows", 0))),
            "tokens": min(INT_COLUMN_MAX, tokens), "cost": cost,
        }
    answer = final.get("present")
    execute = final.get("execute")
    facts[""] = {
        "status": trace.status, "duration_ms": trace.duration_ms,
        "result_empty": any(fact["result_empty"] for fact in facts.values()),
        "replanned": trace.replan_count > 0,
        "references_count": len(answer.output.references) if answer else 0,
        "rows_count": facts["execute"]["rows_count"] if execute else 0,
        "tokens": min(INT_COLUMN_MAX, trace.input_tokens + trace.output_tokens), "cost": trace.cost,
    }
    return facts


# -- PostgreSQL ----------------------------------------------------------------

def _write_postgresql(prepared: list[PreparedTrace], costings: list[Costing], traces: list[Trace]) -> None:
    from psycopg.types.json import Jsonb

    run_count = sum(len(item.trace_in.stages) for item in prepared)
    trace_ids, stage_run_ids = _allocate_ids((Trace, len(traces)), (StageRun, run_count))
    trace_rows = []
    stage_rows: list[list[Any]] = []
    usage_rows: list[list[Any]] = []
    run_ids = iter(stage_run_ids)
    for item, costing, trace, pk in zip(prepared, costings, traces, trace_ids, strict=True):
        trace.pk = pk
        trace._state.adding = False
        trace._state.db = connection.alias
        row = [pk, *(getattr(trace, name) for name in TRACE_FIELDS)]
        row[1 + TRACE_FIELDS.index("metadata")] = Jsonb(trace.metadata, orjson.dumps)
        trace_rows.append(row)
        for values in _stage_run_rows(item, costing, trace):
            values["diagnostics"] = Jsonb(values["diagnostics"], orjson.dumps)
            values["applied_assets"] = Jsonb(values["applied_assets"], orjson.dumps)
            stage_rows.append([next(run_ids), pk, *(values[name] for name in STAGE_RUN_FIELDS[1:])])
        usage_rows.extend([pk, *(values[name] for name in USAGE_FIELDS[1:])]
                          for values in _usage_rows(item.trace_in, costing, trace))
    _copy(Trace, ("id", *TRACE_FIELDS), trace_rows)
    if stage_rows:
        _copy(StageRun, ("id", *STAGE_RUN_FIELDS), stage_rows)
        payloads = [pair for item in prepared for pair in item.serialized]
        _copy(StagePayload, PAYLOAD_FIELDS, (
            (pk, StagePayload.encode(input_payload.data), StagePayload.encode(output_payload.data))
            for pk, (input_payload, output_payload) in zip(stage_run_ids, payloads, strict=True)
        ))
    if usage_rows:
        _copy(TraceAssetUsage, USAGE_FIELDS, usage_rows)


def _allocate_ids(*wanted: tuple[type[Model], int]) -> list[list[int]]:
    """Primary keys from the tables' own sequences, for rows written by COPY (one round trip)."""
    parts = []
    params: list[Any] = []
    for model, count in wanted:
        parts.append("ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))")
        params += [model._meta.db_table, model._meta.pk.column, count]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return list(cursor.fetchone())


def _copy(model: type[Model], fields: tuple[str, ...], rows) -> None:
    """Binary ``COPY … FROM STDIN``, with the column types from the model."""
    sql, types = _copy_sql(model, fields)
    # Django wraps execute() errors, not COPY's: a clash must still be an IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.copy(sql) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


@functools.cache
def _copy_sql(model: type[Model], fields: tuple[str, ...]) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    sql = (f"COPY {quote(opts.db_table)} ({', '.join(quote(field.column) for field in columns)}) "
           "FROM STDIN (FORMAT BINARY)")
    # Binary COPY needs each column's exact type: varchar(16) → varchar, integer → int4, …
    types = [(field.target_field if field.is_relation else field).db_type(connection).split("(")[0]
             for field in columns]
    return sql, types


# -- other databases -----------------------------------------------------------

def _write_orm(prepared: list[PreparedTrace], costings: list[Costing], traces: list[Trace]) -> None:
    # SQLite returns primary keys from bulk inserts too.
    Trace.objects.bulk_create(traces)
    stage_runs: list[StageRun] = []
    payloads: list[tuple[SerializedPayload, SerializedPayload]] = []
    usages: list[TraceAssetUsage] = []
    for item, costing, trace in zip(prepared, costings, traces, strict=True):
        stage_runs.extend(StageRun(trace=trace, **row) for row in _stage_run_rows(item, costing, trace))
        payloads.extend(item.serialized)
        usages.extend(TraceAssetUsage(trace=trace, **row) for row in _usage_rows(item.trace_in, costing, trace))
    StageRun.objects.bulk_create(stage_runs)
    StagePayload.objects.bulk_create(
        StagePayload(stage_run=run, input_data=StagePayload.encode(input_payload.data),
                     output_data=StagePayload.encode(output_payload.data))
        for run, (input_payload, output_payload) in zip(stage_runs, payloads, strict=True)
    )
    TraceAssetUsage.objects.bulk_create(usages)
