"""Full ``POST /ops/ask`` runs over 200 varied questions.

Usage:
    python benchmarks/pipeline.py                 # SQLite and PostgreSQL
    python benchmarks/pipeline.py --only current  # the DATABASE_URL of the environment
Prints median and p95 of the request, and the executor's own overhead beside
the stage handlers' time (from each trace's metadata.executor).
"""

from __future__ import annotations

import statistics
import time

from _django import bench_parser, benchmark_database, percentile, run_here_or_on_both


def run_current(count: int) -> None:
    with benchmark_database() as vendor:
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient

        from inspector.models import Trace
        from reference.assets import reference_assets_install
        from reference.demo import QUESTIONS

        reference_assets_install()
        client = APIClient()
        client.force_authenticate(get_user_model().objects.create_superuser("bench", "b@example.com", "pw"))
        client.post("/ops/ask", {"question": "warm up"}, format="json")
        latencies = []
        for index in range(count):
            question = QUESTIONS[index % len(QUESTIONS)]
            started = time.perf_counter()
            response = client.post("/ops/ask", {"question": question}, format="json")
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise SystemExit(f"/ops/ask failed: {response.status_code} {response.content[:300]!r}")
        executor = [t.metadata["executor"] for t in Trace.objects.exclude(question="warm up").only("metadata")]
        handler = [e["handler_ms"] for e in executor]
        overhead = [e["overhead_ms"] for e in executor]
        pipeline = [e["total_ms"] for e in executor]
        print(
            f"[{vendor:10}] /ops/ask x{count}: median {statistics.median(latencies):.1f} ms, "
            f"p95 {percentile(latencies, 95):.1f} ms (target p95 < 100 ms)\n"
            f"             pipeline {statistics.median(pipeline):.1f} ms median = handlers "
            f"{statistics.median(handler):.1f} ms + executor overhead {statistics.median(overhead):.2f} ms "
            f"(p95 {percentile(overhead, 95):.2f} ms); the rest is storing the trace and the HTTP layer",
            flush=True,
        )


def main() -> None:
    parser = bench_parser(__doc__, sqlite_and_postgresql=True)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    run_here_or_on_both(args.only, __file__, lambda: run_current(args.count), ["--count", str(args.count)])


if __name__ == "__main__":
    main()
