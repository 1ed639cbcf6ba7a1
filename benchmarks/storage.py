"""Bytes of database per trace: where a ~10 KB five-stage trace's bytes go, table by table and index by index.

    python benchmarks/storage.py                      # 20,000 traces into a fresh database storage_bench, then sizes
    python benchmarks/storage.py --count 1000000      # at 1M traces (~20 min of ingest on 2 cores)
    python benchmarks/storage.py --count 20000 --copies 50   # 1M traces: 20,000 ingested, then copied 49 times in SQL
    python benchmarks/storage.py --sizes-only         # the sizes of the database as it is
    python benchmarks/storage.py --keep               # keep the database afterwards (dropped by default)

Traces go in through the product's own ingest service (``trace_ingest_batch``, batches of 100,
the writer ``POST /inspector/traces`` uses), so every row, column and index a real trace costs is
counted — unlike ``generate.py``, which writes its own rows. Each body is ~10 KB of JSON with
realistic, varied content (rows of ids, names, states and numbers that compress about as much as
a real pipeline's), five stages, and the asset bill of materials of the reference pipeline (a
trace-level entry and a stage-level entry for each of five registered assets).

Ingest through the service runs at a few hundred traces a second on two cores, so a million
would take about an hour; ``--copies K`` ingests ``--count`` traces and then copies them K-1
times inside PostgreSQL (``INSERT … SELECT`` per table: new ids, trace ids and questions, started a
day earlier per copy; every index is maintained as on ingest), so the rows are exactly the
writer's and only their number grows.

After the load: ``VACUUM ANALYZE`` (what autovacuum does eventually; without it the visibility map
and free-space figures are not settled), then for every table its heap, TOAST and each index in
bytes per trace, and the whole database's growth per trace against the empty, migrated database.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

from _django import bench_settings

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/storage_bench"
BATCH = 100
STAGES = ("route_plan", "validate", "execute", "compose", "present")
HOSTS = [f"{kind}-{n:03d}" for kind in ("web", "db", "cache", "queue", "api") for n in range(40)]
OWNERS = ["payments", "checkout", "search", "platform", "data", "identity"]
STATES = ["running", "degraded", "stopped", "maintenance"]


def _rows(rng: random.Random, count: int) -> list[dict]:
    return [{"id": f"ci-{rng.randrange(100_000):06d}", "name": rng.choice(HOSTS), "owner": rng.choice(OWNERS),
             "state": rng.choice(STATES), "cpu": round(rng.random() * 100, 1), "version": f"1.{rng.randrange(40)}.0"}
            for _ in range(count)]


def _stage(stage: str, rng: random.Random) -> dict:
    """One stage of ~2 KB of JSON: inputs, a result that depends on the stage, diagnostics, references."""
    rows = _rows(rng, 24)
    results = {
        "route_plan": {"kind": "plan", "plan": {"intent": "lookup", "entities": [r["name"] for r in rows[:6]],
                                                "steps": [{"tool": "sql", "query": "ci_lookup", "filters": rows[:3]}]}},
        "validate": {"validation_passed": True, "violations": [], "checked": rows[:8]},
        "execute": {"tool_results": [{"rows": rows}], "row_count": len(rows)},
        "compose": {"blocks": [{"type": "table", "columns": list(rows[0]), "rows": rows[:9]}]},
        "present": {"ui_model": {"title": "Answer", "cards": rows[:9]}, "final_blocks": [{"type": "table"}]},
    }
    return {
        "stage": stage, "attempt": 1,
        "input": {"stage": stage, "applied_assets": {}, "params": {"limit": 50}, "prev_output": {},
                  "trace_id": ""},
        "output": {"stage": stage, "result": results[stage],
                   "diagnostics": {"status": "ok", "warnings": [], "errors": [],
                                   "empty_flags": {"result_empty": False}, "counts": {"rows": len(rows)}},
                   "references": [{"type": "db_row", "source": "inventory", "entity_id": r["id"],
                                   "entity_name": r["name"]} for r in rows[:2]],
                   "duration_ms": rng.randrange(5, 400)},
    }


# The reference pipeline's assets (seed_assets registers them), one applied at each stage.
APPLIED = {"prompt": ("route_rules", "route_plan"), "policy": ("budget", "validate"),
           "source": ("inventory", "execute"), "mapping": ("answer_blocks", "compose"),
           "screen": ("answer_card", "present")}


def trace_body(number: int, rng: random.Random, stage_pool: dict[str, list[dict]], started) -> dict:
    stages = []
    for stage in STAGES:
        body = dict(rng.choice(stage_pool[stage]))
        asset_type = next(kind for kind, (_, where) in APPLIED.items() if where == stage)
        body["input"] = {**body["input"], "applied_assets": {asset_type: f"{APPLIED[asset_type][0]}@1"}}
        stages.append(body)
    return {
        "trace_id": f"st-{number:08d}", "tenant_id": f"tenant-{number % 5}",
        "question": f"Which hosts of {rng.choice(OWNERS)} are {rng.choice(STATES)}? (#{number})",
        "started_at": started.isoformat(),
        "applied_assets": {kind: {"name": name, "version": 1, "status": "published"}
                           for kind, (name, _) in APPLIED.items()},
        "stages": stages, "metadata": {"client": "storage-bench", "user": f"u{rng.randrange(500)}"},
    }


def load(count: int) -> float:
    """Ingest ``count`` traces through the service; the mean JSON body size in bytes."""
    from datetime import UTC, datetime, timedelta

    from inspector.services.traces import trace_ingest_batch

    rng = random.Random(17)
    pool = {stage: [_stage(stage, rng) for _ in range(64)] for stage in STAGES}
    # All started today: a closed day would be rolled up again after every batch (the impact roll-up),
    # which costs time and no bytes.
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    step = min(2.0, (now - midnight).total_seconds() / (count + 1))
    start = now - timedelta(seconds=step * count)
    body_bytes = 0
    began = time.monotonic()
    for offset in range(0, count, BATCH):
        bodies = [trace_body(n, rng, pool, start + timedelta(seconds=step * n))
                  for n in range(offset, min(count, offset + BATCH))]
        body_bytes += sum(len(json.dumps(body)) for body in bodies[:5]) * len(bodies) // 5
        result = trace_ingest_batch(payloads=bodies)
        if result.created != len(bodies):
            raise SystemExit(f"batch at {offset}: {result.created} of {len(bodies)} created")
        done = offset + len(bodies)
        if done % 20_000 == 0 or done == count:
            elapsed = time.monotonic() - began
            print(f"  {done:,} traces, {elapsed:,.0f} s ({done / elapsed:,.0f}/s)", flush=True)
    return body_bytes / count


COPIED_TABLES = (  # (model, the id column's offset key, {column: SQL of the copy's value})
    ("Trace", "trace", {"trace_id": "trace_id || '-c' || %(k)s", "question": "question || ' c' || %(k)s",
                        "started_at": "started_at - make_interval(days => %(k)s)"}),
    ("StageRun", "run", {"trace_id": "trace_id + %(k)s * %(trace)s",
                         "started_at": "started_at - make_interval(days => %(k)s)"}),
    ("StagePayload", None, {"stage_run_id": "stage_run_id + %(k)s * %(run)s"}),
    ("TraceAssetUsage", "usage", {"trace_id": "trace_id + %(k)s * %(trace)s",
                                  "started_at": "started_at - make_interval(days => %(k)s)"}),
)


def copy_traces(copies: int) -> None:
    """Copy every stored trace (with its stage runs, payloads and usage rows) ``copies - 1`` times."""
    from django.apps import apps
    from django.db import connection, transaction

    models = {name: apps.get_model("inspector", name) for name, _, _ in COPIED_TABLES}
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM inspector_trace")
        trace_max = cursor.fetchone()[0]
        cursor.execute("SELECT max(id) FROM inspector_stagerun")
        run_max = cursor.fetchone()[0]
        cursor.execute("SELECT max(id) FROM inspector_traceassetusage")
        usage_max = cursor.fetchone()[0]
    offsets = {"trace": trace_max, "run": run_max, "usage": usage_max}
    began = time.monotonic()
    for k in range(1, copies):
        with transaction.atomic(), connection.cursor() as cursor:
            for name, id_key, replaced in COPIED_TABLES:
                model = models[name]
                columns = [field.column for field in model._meta.concrete_fields]
                values = [replaced.get(column, column) for column in columns]
                if id_key:
                    values[columns.index("id")] = f"id + %(k)s * %({id_key})s"
                cursor.execute(f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
                               f"SELECT {', '.join(values)} FROM {model._meta.db_table} "
                               f"WHERE {'stage_run_id' if not id_key else 'id'} <= %(limit)s",
                               {"k": k, **offsets, "limit": offsets[id_key or "run"]})
        print(f"  copy {k} of {copies - 1}, {time.monotonic() - began:,.0f} s", flush=True)
    with connection.cursor() as cursor:
        for table in ("inspector_trace", "inspector_stagerun", "inspector_traceassetusage"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def relation_sizes() -> list[tuple[str, str, int]]:
    """(table, part, bytes) for the app's tables: heap, TOAST (with its index) and each index."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, 'heap', pg_relation_size(c.oid) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'
            UNION ALL
            SELECT c.relname, 'TOAST', pg_total_relation_size(c.reltoastrelid) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.reltoastrelid <> 0
            UNION ALL
            SELECT t.relname, i.relname, pg_relation_size(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'""")
        return cursor.fetchall()


def database_size() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def report(empty: dict[tuple[str, str], int], empty_db: int, body: float | None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inspector_trace")
        traces = cursor.fetchone()[0] or 1
    sizes = relation_sizes()
    grown = [(table, part, size - empty.get((table, part), 0)) for table, part, size in sizes]
    grown = [row for row in grown if row[2] > 64 * 1024]
    grown.sort(key=lambda row: -row[2])
    total = sum(size for _, _, size in grown)
    print(f"\n{traces:,} traces" + (f", mean JSON body {body / 1024:.1f} KiB" if body else ""))
    print("\n| table | part | bytes per trace | share |\n|---|---|---|---|")
    for table, part, size in grown:
        print(f"| {table} | {part} | {size / traces:,.0f} | {100 * size / total:.1f} % |")
    print(f"| **all relations** | | **{total / traces:,.0f} B = {total / traces / 1024:.2f} KiB** | |")
    growth = database_size() - empty_db
    print(f"\ndatabase growth: {growth / 2**20:,.0f} MiB, {growth / traces / 1024:.2f} KiB per trace", flush=True)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--database-url", default=os.environ.get("STORAGE_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--copies", type=int, default=1,
                        help="copy the ingested traces inside PostgreSQL until there are COPIES times as many")
    parser.add_argument("--sizes-only", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database (dropped by default)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    bench_settings()
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

    import dj_database_url
    import django
    import psycopg

    name = dj_database_url.parse(args.database_url)["NAME"]
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    if not args.sizes_only:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        if args.sizes_only:
            report({}, 0, None)
            return
        call_command("migrate", verbosity=0)
        call_command("seed_assets", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        empty = {(table, part): size for table, part, size in relation_sizes()}
        empty_db = database_size()
        print(f"ingesting {args.count:,} traces into {name} (load {os.getloadavg()[0]:.2f})", flush=True)
        body = load(args.count)
        if args.copies > 1:
            copy_traces(args.copies)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        report(empty, empty_db, body)
    finally:
        connection.close()
        if not args.keep and not args.sizes_only:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
