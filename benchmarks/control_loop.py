"""Control loop: decisions/s of the pure decision function and p95 of POST /controlloop/decide.

Usage:
    python benchmarks/control_loop.py                 # SQLite and PostgreSQL for the endpoint
    python benchmarks/control_loop.py --only current  # the DATABASE_URL of the environment
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from _django import bench_parser, benchmark_database, percentile, run_here_or_on_both


def pure_decisions_per_second(count: int) -> float:
    from controlloop.contracts import SEVERITIES, BreakerState, DecisionInput, PastReplan, ReplanTrigger
    from controlloop.decisions import decide, default_policy

    now = datetime(2026, 1, 1, tzinfo=UTC)
    policy = default_policy(min_interval_seconds=1, cooling_period_seconds=5)
    triggers = [ReplanTrigger(trigger_type=t, stage_name="execute", severity=s)
                for t in ("empty_result", "error", "timeout", "slot_missing", "unknown")
                for s in SEVERITIES]
    inputs = [
        DecisionInput(trigger=triggers[i % len(triggers)], policy=policy, now=now,
                      trace_replans=[PastReplan(timestamp=now - timedelta(seconds=10 * j)) for j in range(i % 3)],
                      breaker=BreakerState(outcomes=[bool((i + j) % 3) for j in range(i % 12)]),
                      plan={"intent": "event_history", "params": {"days": 1, "limit": 50, "environment": "prod"}})
        for i in range(200)
    ]
    started = time.perf_counter()
    for i in range(count):
        decide(inputs[i % len(inputs)])
    return count / (time.perf_counter() - started)


def run_current(requests: int, pure: int) -> None:
    with benchmark_database() as vendor:
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient

        from inspector.services import trace_ingest
        from testkit.factories import trace_body

        if vendor == "sqlite":
            print(f"pure decide(): {pure_decisions_per_second(pure):,.0f} decisions/s (target >= 20,000/s)", flush=True)
        client = APIClient()
        client.force_authenticate(get_user_model().objects.create_superuser("bench", "b@example.com", "pw"))
        traces = [trace_ingest(payload=trace_body(trace_id=f"cl-{i}"))[0].trace_id for i in range(50)]
        triggers = ["empty_result execute no rows", '{"type": "time-out", "stage": "execute", "severity": "high"}',
                    {"trigger_type": "error", "stage_name": "compose"}, "policy_blocked validate too many rows"]
        client.post("/controlloop/decide", {"trace_id": traces[0], "trigger": "error"}, format="json")
        timings = []
        for i in range(requests):
            started = time.perf_counter()
            response = client.post("/controlloop/decide", {"trace_id": traces[i % len(traces)],
                                                           "trigger": triggers[i % len(triggers)],
                                                           "plan": {"params": {"days": 1, "limit": 50}}}, format="json")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.content
        print(f"[{vendor:10}] POST /controlloop/decide x{requests}: median {statistics.median(timings):.2f} ms, "
              f"p95 {percentile(timings, 95):.2f} ms (target p95 < 20 ms)", flush=True)


def main() -> None:
    parser = bench_parser(__doc__, sqlite_and_postgresql=True)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--pure", type=int, default=200_000)
    args = parser.parse_args()
    run_here_or_on_both(args.only, __file__, lambda: run_current(args.requests, args.pure),
                        ["--requests", str(args.requests), "--pure", str(args.pure)])


if __name__ == "__main__":
    main()
