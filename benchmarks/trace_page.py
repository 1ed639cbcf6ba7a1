"""Trace page and trace list server time and query counts at 10k and 100k traces (PostgreSQL).

Usage:
    python benchmarks/trace_page.py                 # 10k then 100k traces on PostgreSQL (throwaway test DB)
    python benchmarks/trace_page.py --sizes 1000    # quicker
Measures the admin trace page (a typical trace, and one with 5 stages of 1 MB
each), the admin trace list and the API trace list, through the Django test
client (server time: request in, response out, no browser).
"""

from __future__ import annotations

import statistics

from _django import POSTGRESQL_URL, bench_parser, bench_settings, benchmark_database, percentile, timed
from generate import generate_traces


def measure(client, url: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get_page() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    client.get(url)  # warm caches and the permission cache
    timings = timed(get_page, repeat)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return statistics.median(timings), percentile(timings, 95), len(captured.captured_queries)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    bench_settings(POSTGRESQL_URL)
    with benchmark_database() as vendor:
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from inspector.models import Trace
        from inspector.services import trace_ingest
        from testkit.factories import trace_body

        user = get_user_model().objects.create_superuser("bench", "b@example.com", "pw")
        client = Client()
        client.force_login(user)
        big, _ = trace_ingest(payload=trace_body(trace_id="big-5x1mb", padding=1024 * 1024))
        two, _ = trace_ingest(payload=trace_body(trace_id="two-stages", stages=("route_plan", "present")))
        stored = 2
        print(f"database: {vendor}")
        print(f"{'traces':>8}  {'page':<34} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for size in args.sizes:
            generate_traces(size - stored, prefix=f"gen{size}", start=None)
            stored = size
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE") if vendor == "postgresql" else None
            typical = Trace.objects.filter(trace_id__startswith=f"gen{size}").order_by("id").first()
            pages = {
                "admin trace page (5 stages)": f"/admin/inspector/trace/{typical.pk}/change/",
                "admin trace page (2 stages)": f"/admin/inspector/trace/{two.pk}/change/",
                "admin trace page (5 x 1 MB stages)": f"/admin/inspector/trace/{big.pk}/change/",
                "admin trace list": "/admin/inspector/trace/",
                "admin trace list, status=error": "/admin/inspector/trace/?status__exact=error",
                "API trace list (limit 50)": "/inspector/traces?limit=50",
                "API trace list, tenant+status": "/inspector/traces?tenant=tenant-3&status=warning",
                "API trace detail (5 x 1 MB)": f"/inspector/traces/{big.trace_id}",
            }
            for name, url in pages.items():
                median, p95, queries = measure(client, url, args.repeat)
                print(f"{Trace.objects.count():>8}  {name:<34} {median:>10.1f} {p95:>8.1f} {queries:>8}", flush=True)


if __name__ == "__main__":
    main()
