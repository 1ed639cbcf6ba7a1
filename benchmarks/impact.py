"""Asset impact at 100k traces (PostgreSQL): the report of an asset used by every trace.

    python benchmarks/impact.py                   # 100,000 traces
    python benchmarks/impact.py --traces 10000
Generates traces with COPY (half on version 1, half on version 2 of query
ci_lookup, all linked to the registry), then times the whole impact report
(service) and GET /asset-registry/assets/{id}/impact. Target p95 < 300 ms.
"""

from __future__ import annotations

import statistics
import time

from _django import POSTGRESQL_URL, bench_parser, bench_settings, benchmark_database, percentile, timed
from generate import ASSETS, generate_traces


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    bench_settings(POSTGRESQL_URL)
    with benchmark_database() as vendor:
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from impact.report import asset_impact
        from inspector.models import Asset
        from inspector.services import asset_create, asset_version_create, asset_version_publish
        from kernel.tenancy import SHARED_TENANT
        from testkit.factories import VALID_SPECS

        version_ids = {}
        for asset_type, name, _ in ASSETS:
            asset = asset_create(tenant_id=SHARED_TENANT, asset_type=asset_type, name=name, spec=VALID_SPECS[asset_type])
            asset_version_publish(version=asset.versions.get(version=1))
            second = asset_version_create(asset=asset, spec=VALID_SPECS[asset_type], note="v2")
            version_ids[(asset_type, name, 1)] = asset.versions.get(version=1).pk
            version_ids[(asset_type, name, 2)] = second.pk
        started = time.perf_counter()
        generate_traces(args.traces, prefix="imp", version_ids=version_ids)
        if vendor == "postgresql":
            # As autovacuum would: statistics for the planner, visibility map for index-only scans.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(f"database: {vendor}; generated {args.traces:,} traces in {time.perf_counter() - started:.0f} s", flush=True)
        lookup = Asset.objects.get(name="ci_lookup")
        report = asset_impact(asset=lookup, base="1", target="2")
        print(f"  v1 {report['metrics']['base']['traces']:,} traces, v2 {report['metrics']['target']['traces']:,} "
              f"traces; risk {report['risk']['level']}", flush=True)
        timings = timed(lambda: asset_impact(asset=lookup, base="1", target="2"), args.repeat)
        print(f"  impact report (service): median {statistics.median(timings):.0f} ms, "
              f"p95 {percentile(timings, 95):.0f} ms (target p95 < 300 ms)", flush=True)
        client = Client()
        client.force_login(get_user_model().objects.create_superuser("bench", "b@example.com", "pw"))
        url = f"/asset-registry/assets/{lookup.pk}/impact?base=1&target=2"
        client.get(url)

        def get_impact() -> None:
            assert client.get(url).status_code == 200

        timings = timed(get_impact, args.repeat)
        print(f"  GET …/impact: median {statistics.median(timings):.0f} ms, p95 {percentile(timings, 95):.0f} ms",
              flush=True)


if __name__ == "__main__":
    main()
