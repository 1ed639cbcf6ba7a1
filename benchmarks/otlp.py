"""OTLP ingest served over HTTP (issue 18): traces exported by the OpenTelemetry SDK's batch processor.

Usage:
    python benchmarks/otlp.py                    # 2,000 five-stage traces (~10 KB each), the Procfile's gunicorn
    python benchmarks/otlp.py --traces 500

Starts the web process as ``served.py`` does (gunicorn, production settings,
a throwaway PostgreSQL database, Redis cache), then records traces in this
process with the OpenTelemetry SDK — a root span and five stage spans each,
~1.6 KB of ``output.value`` a stage — and exports them with
``BatchSpanProcessor`` + ``OTLPSpanExporter`` (protobuf, gzip) to
``/v1/traces``. The clock runs from the first span until every trace is
stored (polling the database); traces/s and spans/s are printed beside the
JSON ingest figure of ``served.py`` for one client.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import (
    DATABASE,
    HOST,
    SETUP,
    free_port,
    manage,
    processes,
    served_environment,
    server_arguments,
    throwaway_database,
    wait_until_ready,
)

STAGES = ("route_plan", "validate", "execute", "compose", "present")


def stored_traces(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM inspector_trace").fetchone()[0]


def export(base: str, token: str, traces: int, padding: int) -> int:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "otlp-bench"}))
    provider.add_span_processor(BatchSpanProcessor(
        # X-Forwarded-Proto as the TLS-terminating proxy of a deployment sets it (served.py's clients do too).
        OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers={"Authorization": f"Token {token}",
                                                                  "X-Forwarded-Proto": "https"},
                         compression=Compression.Gzip, timeout=30),
        max_queue_size=traces * 6 + 1, max_export_batch_size=512, schedule_delay_millis=200))
    tracer = provider.get_tracer("bench")
    text = "x" * padding
    for number in range(traces):
        with tracer.start_as_current_span("question", attributes={"input.value": f"Question {number}?"}):
            for stage in STAGES:
                with tracer.start_as_current_span(stage, attributes={
                        "ops.stage": stage, "input.value": json.dumps({"n": number}),
                        "output.value": json.dumps({"answer": text, "n": number})}):
                    pass
    provider.force_flush(timeout_millis=600_000)
    provider.shutdown()
    return traces * (len(STAGES) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=2_000)
    parser.add_argument("--padding", type=int, default=1_600, help="characters of output.value a stage (~10 KB a trace)")
    server_arguments(parser)
    args = parser.parse_args()
    database_url = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    env = served_environment(args)
    os.environ.update(env)
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = Path(f"/tmp/otlp_bench_{port}.log")
    print(f"gunicorn {args.workers} x {args.worker_class}, {base}, {args.traces:,} traces, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}", flush=True)
    try:
        with throwaway_database():
            manage(env, "migrate", "--noinput")
            token = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
            with processes(env, args, port, log):
                wait_until_ready(base)
                started = time.perf_counter()
                spans = export(base, token, args.traces, args.padding)
                exported = time.perf_counter() - started
                while stored_traces(database_url) < args.traces:
                    if time.perf_counter() - started > exported + 60:
                        raise SystemExit(f"only {stored_traces(database_url):,} traces stored a minute after the "
                                         f"export (see the exporter's log lines above and {log} with --keep-log)")
                    time.sleep(0.2)
                elapsed = time.perf_counter() - started
                stored = stored_traces(database_url)
        print(f"\n| measure | value |\n|---|---|\n| traces stored | {stored:,} of {args.traces:,} |\n"
              f"| spans | {spans:,} |\n| exported (SDK flush done) | {exported:.1f} s |\n"
              f"| all queryable | {elapsed:.1f} s |\n| **traces/s** | **{stored / elapsed:,.0f}** |\n"
              f"| spans/s | {spans / elapsed:,.0f} |")
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        if not args.keep_log:
            log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
