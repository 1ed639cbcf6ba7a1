"""Bulk data generator: N five-stage traces with realistic summaries and payloads.

On PostgreSQL rows go in with COPY (ids assigned here, sequences moved after),
elsewhere with bulk_create. Each trace gets five stage runs with compressed
payloads of ``payload_bytes`` and an asset bill of materials.

    python benchmarks/generate.py --count 100000     # into the DATABASE_URL database (careful!)
"""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime, timedelta

import orjson

STAGES = ("route_plan", "validate", "execute", "compose", "present")
STATUSES = ("success",) * 8 + ("warning", "error")
ROUTES = ("plan",) * 8 + ("direct", "reject")
ASSETS = [("prompt", "route_rules", "route_plan"), ("policy", "budget", "validate"), ("query", "ci_lookup", "execute"),
          ("mapping", "answer_blocks", "compose"), ("screen", "answer_card", "present")]


def _payload(stage: str, rng: random.Random, payload_bytes: int) -> bytes:
    rows = [{"id": f"ci-{rng.randrange(10_000):05d}", "name": f"host-{rng.randrange(10_000)}", "value": rng.random()}
            for _ in range(max(1, payload_bytes // 70))]
    return zlib.compress(orjson.dumps({"stage": stage, "result": {"rows": rows}, "duration_ms": rng.randrange(200)}), 1)


# A valid (decodable) compressed StageInput per stage; the outputs carry the size.
_INPUTS = {stage: zlib.compress(orjson.dumps({"stage": stage, "applied_assets": {}, "params": {"limit": 50},
                                             "prev_output": {}, "trace_id": ""}), 1) for stage in STAGES}


def generate_traces(count: int, *, payload_bytes: int = 1000, seed: int = 1, prefix: str = "gen",
                    batch: int = 2000, start: datetime | None = None,
                    version_ids: dict[tuple[str, str, int], int] | None = None, first: int = 0,
                    progress=None) -> None:
    """``version_ids`` links usage rows to registry versions: ``{(type, name, version): AssetVersion id}``.

    ``first`` skips the numbers below it (resuming an interrupted load: trace ``prefix-{first:08d}`` comes
    next); ``progress(done)`` is called after each committed batch.
    """
    from django.db import connection

    rng = random.Random(seed)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    # A handful of distinct payloads, reused: generation cost stays in the database.
    payloads = {stage: [_payload(stage, rng, payload_bytes) for _ in range(8)] for stage in STAGES}
    writer = _copy_writer if connection.vendor == "postgresql" else _orm_writer
    for offset in range(first, count, batch):
        writer(range(offset, min(count, offset + batch)), rng, payloads, prefix, start, version_ids or {})
        if progress is not None:
            progress(min(count, offset + batch))


def _rows(numbers, rng, payloads, prefix, start, next_ids, version_ids):
    trace_id, run_id, usage_id = next_ids
    traces, runs, blobs, usages = [], [], [], []
    for number in numbers:
        trace_id += 1
        started = start + timedelta(seconds=number * 7)
        status, route = rng.choice(STATUSES), rng.choice(ROUTES)
        duration = rng.randrange(20, 400)
        tenant = f"tenant-{number % 5}"
        traces.append((trace_id, f"{prefix}-{number:08d}", "", tenant, f"generated question {number % 997}",
                       route, status, started, duration, number % 50 == 0, 5, 0, "{}", "", started))
        stage_durations = {}
        for sequence, stage in enumerate(STAGES):
            run_id += 1
            blob = rng.choice(payloads[stage])
            counts = orjson.dumps({"rows": rng.randrange(50)}).decode()
            diagnostics = ('{"status": "ok", "warnings": [], "errors": [], "empty_flags": {"result_empty": false}, '
                           '"counts": ' + counts + "}")
            stage_durations[stage] = rng.randrange(1, 80)
            runs.append((run_id, trace_id, stage, 1, sequence, "ok", started, stage_durations[stage], 0, 0,
                         rng.randrange(10), False, diagnostics, "{}", 900, 1200))
            blobs.append((run_id, _INPUTS[stage], blob))
        for asset_type, name, stage in ASSETS:
            version = 1 + number % 2
            for usage_stage in ("", stage):  # trace-level and stage-level bill of materials
                usage_id += 1
                usages.append((usage_id, trace_id, usage_stage, asset_type, name, version, "published",
                               version_ids.get((asset_type, name, version)), started, tenant,
                               status if usage_stage == "" else "ok",
                               duration if usage_stage == "" else stage_durations.get(stage, 0),
                               number % 17 == 0, number % 23 == 0, rng.randrange(10), rng.randrange(50),
                               number % 50 == 0))  # the trace's test mode
    return (trace_id, run_id, usage_id), traces, runs, blobs, usages


TRACE_COLUMNS = ("id", "trace_id", "parent_trace_id", "tenant_id", "question", "route", "status", "started_at",
                 "duration_ms", "test_mode", "stage_count", "replan_count", "metadata", "content_hash", "created_at")
RUN_COLUMNS = ("id", "trace_id", "stage", "attempt", "sequence", "status", "started_at", "duration_ms",
               "warnings_count", "errors_count", "references_count", "result_empty", "diagnostics", "applied_assets",
               "input_size", "output_size")
PAYLOAD_COLUMNS = ("stage_run_id", "input_data", "output_data")
USAGE_COLUMNS = ("id", "trace_id", "stage", "asset_type", "asset_name", "version", "version_status", "asset_version_id",
                 "started_at", "tenant_id", "status", "duration_ms", "result_empty", "replanned", "references_count",
                 "rows_count", "test_mode")


def _max_ids():
    from django.db.models import Max

    from inspector.models import StageRun, Trace, TraceAssetUsage

    return tuple(model.objects.aggregate(m=Max("id"))["m"] or 0 for model in (Trace, StageRun, TraceAssetUsage))


def _copy_writer(numbers, rng, payloads, prefix, start, version_ids) -> None:
    from django.db import connection, transaction

    _, traces, runs, blobs, usages = _rows(numbers, rng, payloads, prefix, start, _max_ids(), version_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        for table, columns, rows in (("inspector_trace", TRACE_COLUMNS, traces),
                                     ("inspector_stagerun", RUN_COLUMNS, runs),
                                     ("inspector_stagepayload", PAYLOAD_COLUMNS, blobs),
                                     ("inspector_traceassetusage", USAGE_COLUMNS, usages)):
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for table in ("inspector_trace", "inspector_stagerun", "inspector_traceassetusage"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def _orm_writer(numbers, rng, payloads, prefix, start, version_ids) -> None:
    import json

    from django.db import transaction

    from inspector.models import StagePayload, StageRun, Trace, TraceAssetUsage

    _, traces, runs, blobs, usages = _rows(numbers, rng, payloads, prefix, start, _max_ids(), version_ids)
    with transaction.atomic():
        Trace.objects.bulk_create(Trace(**{**dict(zip(TRACE_COLUMNS, row)), "metadata": {}}) for row in traces)
        StageRun.objects.bulk_create(
            StageRun(**{**dict(zip(RUN_COLUMNS, row)), "trace_id": row[1], "diagnostics": json.loads(row[12]),
                        "applied_assets": {}}) for row in runs)
        StagePayload.objects.bulk_create(StagePayload(**dict(zip(PAYLOAD_COLUMNS, row))) for row in blobs)
        TraceAssetUsage.objects.bulk_create(TraceAssetUsage(**dict(zip(USAGE_COLUMNS, row))) for row in usages)


if __name__ == "__main__":
    import time

    import django
    from _django import bench_parser  # also sets sys.path and DJANGO_SETTINGS_MODULE

    parser = bench_parser(__doc__)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--payload-bytes", type=int, default=1000)
    args = parser.parse_args()
    django.setup()
    started = time.perf_counter()
    generate_traces(args.count, payload_bytes=args.payload_bytes)
    print(f"generated {args.count} traces in {time.perf_counter() - started:.1f} s")
