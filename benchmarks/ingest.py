"""Ingest throughput: N five-stage traces with ~10 KB stage payloads through the API test client.

Usage:
    python benchmarks/ingest.py                 # SQLite (temp file) and PostgreSQL (127.0.0.1, db "test")
    python benchmarks/ingest.py --only current  # just the DATABASE_URL of the environment
    python benchmarks/ingest.py --count 200
    python benchmarks/ingest.py --batch 100     # JSON arrays of 100 traces a request (batch ingest)
    python benchmarks/ingest.py --live          # traces started now, not on a fixed past day
    python benchmarks/ingest.py --usage         # compose reports tokens without cost: priced at ingest
Prints traces/s and per-request latency for each database, with one client and
with ``--workers`` concurrent clients (threads, each with its own connection).
The default bodies start on a fixed day (2026-11-20): once that day is older
than the roll-up lag, each write also marks the day for a new roll-up (one
more UPDATE a request), as a late-arriving trace does. ``--live`` measures
traces of today, which is what a live sender posts.
Bodies are encoded to JSON bytes before timing starts: the figures are the
server's work (middleware, auth, parsing, validation, storage), not the test
client's encoding, which a real sender does on its own machine.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from _django import bench_parser, benchmark_database, run_here_or_on_both, summary


def _ingest_all(bodies: list[bytes], user) -> list[float]:
    """Post each body (one trace, or a JSON array of traces); per-request latencies in ms."""
    from django.db import connection
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    latencies = []
    try:
        for body in bodies:
            t0 = time.perf_counter()
            response = client.post("/inspector/traces", body, content_type="application/json")
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 201:  # every trace is new
                raise SystemExit(f"ingest failed: {response.status_code} {response.content[:300]!r}")
    finally:
        connection.close()
    return latencies


def _with_usage(body: dict) -> dict:
    """The compose stage reports a model call's tokens and no cost, as most SDKs do: ingest prices it."""
    for stage in body["stages"]:
        if stage["stage"] == "compose":
            stage["output"]["result"]["usage"] = {"model": "gpt-4o", "input_tokens": 1200, "output_tokens": 300}
    return body


def run_current(count: int, payload_bytes: int, workers: int, batch: int, live: bool, usage: bool) -> None:
    with benchmark_database() as vendor:
        from django.contrib.auth import get_user_model

        from inspector.models import StageRun, Trace
        from inspector.services import asset_create, asset_version_publish
        from testkit.factories import trace_body

        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
        stamp = {"started_at": datetime.now(UTC).isoformat()} if live else {}
        shape_body = _with_usage if usage else (lambda body: body)
        if usage:
            table = asset_create(tenant_id="default", asset_type="price_table", name="model_prices", spec={
                "models": {"gpt-4o": {"input_per_million": 2.5, "output_per_million": 10.0}}})
            asset_version_publish(version=table.versions.get(version=1))
        _ingest_all([json.dumps(shape_body(trace_body(trace_id="warm-up", padding=payload_bytes, **stamp))).encode()],
                    user)
        traces = [shape_body(trace_body(trace_id=f"bench-{i:06d}", padding=payload_bytes, **stamp))
                  for i in range(count)]
        size_kb = len(json.dumps(traces[0])) / 1024
        if batch > 1:
            bodies = [json.dumps(traces[i:i + batch]).encode() for i in range(0, count, batch)]
        else:
            bodies = [json.dumps(body).encode() for body in traces]
        shape = f"batches of {batch}" if batch > 1 else "one a request"
        shape += ", started now" if live else ""
        shape += ", priced usage" if usage else ""
        for n_workers in sorted({1, workers}):
            Trace.objects.exclude(trace_id="warm-up").delete()
            chunks = [bodies[i::n_workers] for i in range(n_workers)]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                latencies = [ms for part in pool.map(lambda chunk: _ingest_all(chunk, user), chunks) for ms in part]
            elapsed = time.perf_counter() - started
            assert Trace.objects.count() == count + 1 and StageRun.objects.count() == 5 * (count + 1)
            print(
                f"[{vendor:10}] {count} traces (5 stages, ~{size_kb:.0f} KB each, {shape}), {n_workers} client(s): "
                f"{elapsed:.2f} s → {count / elapsed:.0f} traces/s; per request {summary(latencies)}",
                flush=True,
            )


def main() -> None:
    parser = bench_parser(__doc__, sqlite_and_postgresql=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--payload-bytes", type=int, default=10_000, help="padding added to each stage's result")
    parser.add_argument("--workers", type=int, default=2, help="also measure with this many concurrent clients")
    parser.add_argument("--batch", type=int, default=1, help="traces per request (a JSON array when > 1)")
    parser.add_argument("--live", action="store_true", help="traces start now (not on a fixed past day)")
    parser.add_argument("--usage", action="store_true", help="compose reports tokens without cost (priced at ingest)")
    args = parser.parse_args()
    common = ["--count", str(args.count), "--payload-bytes", str(args.payload_bytes), "--batch", str(args.batch),
              *(["--live"] if args.live else []), *(["--usage"] if args.usage else [])]
    # SQLite's test database is in memory and takes one writer at a time.
    run_here_or_on_both(args.only, __file__,
                        lambda: run_current(args.count, args.payload_bytes, args.workers, args.batch, args.live,
                                            args.usage),
                        [*common, "--workers", str(args.workers)], [*common, "--workers", "1"])


if __name__ == "__main__":
    main()
