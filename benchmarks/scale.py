"""Scale benchmark (issue 9): one million traces in a persistent PostgreSQL database.

    python benchmarks/scale.py --load               # create + migrate ops_1m, load 1,000,000 traces (resumes)
    python benchmarks/scale.py --load 100000        # or fewer
    python benchmarks/scale.py --bench              # timings against the loaded database: a markdown table
    python benchmarks/scale.py --bench --only impact --rounds 1   # one area, quicker
    python benchmarks/scale.py --sizes              # load time and table sizes only
    python benchmarks/scale.py --explain            # EXPLAIN (ANALYZE, BUFFERS) of the slow queries

The database is ``--database-url`` (default ``$SCALE_DATABASE_URL`` or
``postgres://postgres@127.0.0.1:5432/ops_1m``); it is created if missing and
kept between runs, so ``--bench`` can be repeated without reloading.

``--load`` is resumable: traces are written with COPY (``generate.py``) in
committed batches of 2,000 named ``s1m-00000000`` …, and a rerun continues
after the highest stored number. Each trace has five stage runs whose output
payload is ~10 KB of JSON (~3 KB zlib-compressed; ~50 KB JSON a trace, like
the reference pipeline's traces) and ten bill-of-materials rows linked to the
registry (five assets, version 1 for even trace numbers and 2 for odd ones).
Then, once: replan events (request + decision, + execution when approved) on
2% of the traces, golden queries with baselines and completed regression runs
and analyses, and ``VACUUM ANALYZE`` (as autovacuum would eventually do).
Last, the impact roll-up of every closed day (the beat job's work).

``--bench`` times every request through the Django test client (server
time: request in, response out) as a superuser; each measure cycles through
different traces so that most requests miss PostgreSQL's shared buffers.
Timings are pooled over ``--rounds`` rounds (default 3 × 30 requests); the
table shows the pooled median and p95 and the spread of the round medians.
Ingest posts a few hundred traces into the big tables (one client in this
process, then ``--workers`` forked client processes) and deletes them again.
Targets are the earlier issues' (docs/performance.md); where an issue set
none, SPEC §8's "well under 500 ms" is read as p95 < 500 ms.
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from _django import bench_parser, bench_settings, percentile  # also sys.path and DJANGO_SETTINGS_MODULE

DEFAULT_URL = os.environ.get("SCALE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ops_1m")
PREFIX = "s1m"
PAYLOAD_BYTES = 11_000  # per stage output: ~10 KB JSON, ~3 KB compressed
REPLAN_EVERY = 50  # 2% of traces replan
TENANTS = [f"tenant-{i}" for i in range(5)]
USERNAME = "scale-bench"

# Targets from earlier issues (docs/performance.md); SPEC §8 where an issue set none.
SPEC = "p95 < 500 ms (SPEC §8)"


# --------------------------------------------------------------------------- setup


def _configure(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    bench_settings()  # DEBUG off, a bench secret; _django also turns off the HTTPS redirect
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here


def _ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    name = config["NAME"]
    with psycopg.connect(host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432, user=config["USER"],
                         password=config["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}", flush=True)


def _meta_get(key: str, default=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS scale_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        cursor.execute("SELECT value FROM scale_meta WHERE key = %s", [key])
        row = cursor.fetchone()
    if row is None:
        return default
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def _meta_set(key: str, value) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS scale_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        cursor.execute("INSERT INTO scale_meta (key, value) VALUES (%s, %s::jsonb) "
                       "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [key, json.dumps(value)])


def _superuser():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username=USERNAME).first()
    return user or user_model.objects.create_superuser(USERNAME, "scale@example.com", "pw")


def _assets() -> dict[tuple[str, str, int], int]:
    """Five registry assets (the generator's), version 1 published and version 2 a draft."""
    from generate import ASSETS

    from inspector.models import Asset
    from inspector.services import asset_create, asset_version_create, asset_version_publish
    from kernel.tenancy import SHARED_TENANT
    from testkit.factories import VALID_SPECS

    version_ids = {}
    for asset_type, name, _ in ASSETS:
        asset = Asset.objects.filter(tenant_id=SHARED_TENANT, asset_type=asset_type, name=name).first()
        if asset is None:
            asset = asset_create(tenant_id=SHARED_TENANT, asset_type=asset_type, name=name, spec=VALID_SPECS[asset_type])
            asset_version_publish(version=asset.versions.get(version=1))
            asset_version_create(asset=asset, spec=VALID_SPECS[asset_type], note="v2")
        for version in asset.versions.filter(version__in=(1, 2)):
            version_ids[(asset_type, name, version.version)] = version.pk
    return version_ids


def _trace_id(number: int) -> str:
    return f"{PREFIX}-{number:08d}"


def _loaded() -> int:
    """How many generated traces are stored: one past the highest stored number (batches commit in order)."""
    from inspector.models import Trace

    last = (Trace.objects.filter(trace_id__gte=f"{PREFIX}-", trace_id__lt=f"{PREFIX}.")
            .order_by("-trace_id").values_list("trace_id", flat=True).first())
    return int(last.rsplit("-", 1)[1]) + 1 if last else 0


def load(count: int, payload_bytes: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from generate import generate_traces

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    _superuser()
    version_ids = _assets()
    # The generated history ends when the first load started: the newest traces are "recent".
    start_text = _meta_get("start")
    if start_text is None:
        start = (datetime.now(UTC) - timedelta(seconds=7 * count)).replace(microsecond=0)
        _meta_set("start", start.isoformat())
        _meta_set("payload_bytes", payload_bytes)
    else:
        start = datetime.fromisoformat(start_text)
        payload_bytes = _meta_get("payload_bytes", payload_bytes)
    first = _loaded()
    timings = _meta_get("timings", {})
    if first < count:
        print(f"loading traces {first:,} … {count - 1:,} (payload {payload_bytes:,} B JSON a stage output)",
              flush=True)
        t0 = time.perf_counter()
        last_report = [t0, first]

        def progress(done: int) -> None:
            now = time.perf_counter()
            if done == count or now - last_report[0] >= 30:
                rate = (done - last_report[1]) / (now - last_report[0])
                print(f"  {done:>9,} traces  ({rate:,.0f} traces/s lately, {now - t0:,.0f} s)", flush=True)
                last_report[:] = [now, done]

        generate_traces(count, payload_bytes=payload_bytes, prefix=PREFIX, start=start, version_ids=version_ids,
                        first=first, progress=progress)
        elapsed = time.perf_counter() - t0
        timings["traces_s"] = timings.get("traces_s", 0) + elapsed
        timings["traces_loaded"] = count
        print(f"traces: {count - first:,} in {elapsed:,.0f} s ({(count - first) / elapsed:,.0f} traces/s)", flush=True)
        _meta_set("timings", timings)
    if not _meta_get("extras_done", False) or _meta_get("extras_count") != count:
        t0 = time.perf_counter()
        _replan_events(count, start)
        _regression_data(count)
        timings["extras_s"] = time.perf_counter() - t0
        _meta_set("extras_done", True)
        _meta_set("extras_count", count)
        print(f"replan events and regression data: {timings['extras_s']:.0f} s", flush=True)
        t0 = time.perf_counter()
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
        print(f"VACUUM ANALYZE: {timings['vacuum_analyze_s']:.0f} s", flush=True)
        _meta_set("timings", timings)
    # What the beat job does in production: sum closed days for impact reports.
    # COPY bypasses ingest's late-trace marks, so a resumed load re-rolls its days.
    from inspector.services.rollups import days_dirty, usage_rollup

    t0 = time.perf_counter()
    previous = _meta_get("rolled_count", 0)
    if previous and previous != count:
        days_dirty(_loaded_days())
    rolled = usage_rollup()
    # The roll-up tables were empty at the VACUUM ANALYZE above: without fresh statistics the planner
    # expects a handful of rows a version and sorts 74,000 on disk (issue 17: the impact page 221 ms).
    # Autovacuum would analyze them within minutes of a roll-up this size; a benchmark must not wait for it.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inspector_usagerollup; ANALYZE inspector_tracerollup")
    _meta_set("rolled_count", count)
    timings["rollup_s"] = timings.get("rollup_s", 0) + time.perf_counter() - t0
    _meta_set("timings", timings)
    print(f"impact roll-up: {rolled.days} days, {rolled.usage_rows:,} usage rows in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    print(f"load finished in {time.perf_counter() - started:,.0f} s (this run)", flush=True)
    sizes()


def _replan_events(count: int, start: datetime) -> None:
    """Request + decision (+ execution when approved) for every REPLAN_EVERY-th trace."""
    from django.db import connection, transaction

    from controlloop.contracts import DECISIONS, SEVERITIES, TRIGGER_TYPES, VETOES
    from controlloop.models import ReplanEvent, ReplanPolicy

    ReplanEvent.objects.filter(trace_id__startswith=f"{PREFIX}-").delete()
    policy = ReplanPolicy.objects.filter(is_default=True).first()
    rng = random.Random(9)
    numbers = list(range(7, count, REPLAN_EVERY))
    for chunk_start in range(0, len(numbers), 5000):
        chunk = numbers[chunk_start:chunk_start + 5000]
        with transaction.atomic():
            requests, details = [], []
            for number in chunk:
                at = start + timedelta(seconds=number * 7 + rng.randrange(1, 5))
                trigger = rng.choice(TRIGGER_TYPES)
                stage = rng.choice(("validate", "execute", "compose"))
                severity = rng.choice(SEVERITIES)
                before = {"intent": "event_history", "params": {"days": 1, "limit": 50}}
                after = {"intent": "event_history", "params": {"days": 7, "limit": 200}}
                common = {"trace_id": _trace_id(number), "tenant_id": TENANTS[number % 5], "policy": policy,
                              "trigger_type": trigger, "stage_name": stage, "severity": severity,
                              "trigger_reason": f"{trigger} in {stage}", "trigger_raw": f"{trigger} {stage} generated",
                              "attempt": 1, "max_attempts": 2}
                requests.append(ReplanEvent(kind="request", created_at=at, **common))
                approved = rng.random() < 0.7
                details.append((at, common, approved, before, after))
            ReplanEvent.objects.bulk_create(requests, batch_size=2000)
            followups = []
            for request, (at, common, approved, before, after) in zip(requests, details):
                followups.append(ReplanEvent(
                    kind="decision", request=request, created_at=at + timedelta(milliseconds=5),
                    decision=rng.choice(DECISIONS) if approved else "stop_with_guidance", approved=approved,
                    veto="" if approved else rng.choice(VETOES), reason="allowed" if approved else "vetoed",
                    scope="execute", patch_before=before, patch_after=after,
                    json_patch=[{"op": "replace", "path": "/params/days", "value": 7},
                                {"op": "replace", "path": "/params/limit", "value": 200}], **common))
                if approved:
                    followups.append(ReplanEvent(kind="execution", request=request, outcome=rng.choice(
                        ("succeeded", "succeeded", "failed")), created_at=at + timedelta(milliseconds=900), **common))
            ReplanEvent.objects.bulk_create(followups, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inspector_trace SET replan_count = 1 WHERE trace_id IN "
                       "(SELECT DISTINCT trace_id FROM controlloop_replanevent WHERE trace_id LIKE %s) "
                       "AND replan_count = 0", [f"{PREFIX}-%"])
    print(f"  replan events: {ReplanEvent.objects.count():,} on {len(numbers):,} traces", flush=True)


def _regression_data(count: int) -> None:
    """Three golden queries, each with a baseline and 20 completed runs (pair analyses), and a few group analyses."""
    from inspector.models import Trace
    from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun
    from regression.services import analysis_execute

    # Runs protect their baseline: delete them first (a rerun of the load replaces this data).
    RegressionRun.objects.filter(golden_query__name__startswith="scale-").delete()
    Baseline.objects.filter(golden_query__name__startswith="scale-").delete()
    GoldenQuery.objects.filter(name__startswith="scale-").delete()
    RegressionAnalysis.objects.filter(baseline_trace_ids__0__startswith=f"{PREFIX}-").delete()
    rng = random.Random(3)
    for index in range(3):
        numbers = rng.sample(range(count), 21)
        baseline_trace = Trace.objects.get(trace_id=_trace_id(numbers[0]))
        query = GoldenQuery.objects.create(name=f"scale-{index}", question=baseline_trace.question,
                                           tenant_id=baseline_trace.tenant_id)
        baseline = Baseline.objects.create(golden_query=query, trace=baseline_trace, note="scale benchmark")
        for number in numbers[1:]:
            analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[baseline_trace.trace_id],
                                                         candidate_trace_ids=[_trace_id(number)])
            analysis_execute(analysis_id=analysis.pk)
            RegressionRun.objects.create(golden_query=query, baseline=baseline, status="completed",
                                         candidate_trace=Trace.objects.get(trace_id=_trace_id(number)), analysis=analysis,
                                         trigger=rng.choice(("manual", "asset_publish", "schedule")))
    for _ in range(5):
        numbers = rng.sample(range(count), 40)
        analysis = RegressionAnalysis.objects.create(kind="group",
                                                     baseline_trace_ids=[_trace_id(n) for n in numbers[:20]],
                                                     candidate_trace_ids=[_trace_id(n) for n in numbers[20:]])
        analysis_execute(analysis_id=analysis.pk)
    print(f"  regression: {RegressionAnalysis.objects.count()} analyses, {RegressionRun.objects.count()} runs",
          flush=True)


def _loaded_days():
    from django.db.models.functions import TruncDate

    from inspector.models import Trace

    return Trace.objects.annotate(day=TruncDate("started_at")).values_list("day", flat=True).distinct()


def sizes() -> None:
    from django.db import connection

    timings = _meta_get("timings", {})
    if timings:
        print(f"load: traces {timings.get('traces_s', 0):,.0f} s for {timings.get('traces_loaded', 0):,} traces; "
              f"replans + regression {timings.get('extras_s', 0):,.0f} s; "
              f"VACUUM ANALYZE {timings.get('vacuum_analyze_s', 0):,.0f} s; "
              f"impact roll-up {timings.get('rollup_s', 0):,.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, c.reltuples::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid),
                   pg_total_relation_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname = 'public'
            ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 10""")
        rows = cursor.fetchall()
        cursor.execute("SELECT pg_database_size(current_database())")
        database = cursor.fetchone()[0]
    print("\n| table | rows (estimate) | table + TOAST | indexes | total |\n|---|---|---|---|---|")
    for name, tuples, table, indexes, total in rows:
        print(f"| {name} | {tuples:,} | {_size(table)} | {_size(indexes)} | {_size(total)} |")
    print(f"| **database** | | | | **{_size(database)}** |\n", flush=True)


def _size(value: int) -> str:
    return f"{value / 2**30:.2f} GB" if value >= 2**30 else f"{value / 2**20:.0f} MB"


# --------------------------------------------------------------------------- bench


class Results:
    """Timings pooled over rounds; the table shows pooled median and p95 and the spread of per-round medians."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict] = {}

    def _row(self, area: str, measure: str, target: str, limit: float | None) -> dict:
        return self.rows.setdefault((area, measure), {"area": area, "measure": measure, "target": target,
                                                      "limit": limit, "timings": [], "medians": [], "rates": [],
                                                      "queries": None})

    def timings(self, area: str, measure: str, target: str, limit: float | None, timings: list[float],
                queries: int | None = None) -> None:
        row = self._row(area, measure, target, limit)
        row["timings"] += timings
        row["medians"].append(statistics.median(timings))
        row["queries"] = queries
        self._print(row, f"median {statistics.median(timings):.1f} ms, p95 {percentile(timings, 95):.1f} ms")

    def rate(self, area: str, measure: str, target: str, minimum: float, rate: float, latencies: list[float]) -> None:
        row = self._row(area, measure, target, minimum)
        row["rates"].append(rate)
        row["timings"] += latencies
        self._print(row, f"{rate:.0f} traces/s, per request median {statistics.median(latencies):.1f} ms")

    @staticmethod
    def _print(row: dict, text: str) -> None:
        print(f"  {row['area']:<13} {row['measure'][:70]:<70} {text}", flush=True)

    @staticmethod
    def _cells(row: dict) -> tuple[str, str]:
        timings, limit = row["timings"], row["limit"]
        if row["rates"]:
            rate = statistics.median(row["rates"])
            spread = f" (rounds {min(row['rates']):.0f}–{max(row['rates']):.0f})" if len(row["rates"]) > 1 else ""
            text = (f"**{rate:.0f} traces/s**{spread}; per request median {statistics.median(timings):.1f} ms, "
                    f"p95 {percentile(timings, 95):.1f} ms")
            return text, "yes" if rate >= limit else "**no**"
        p95 = percentile(timings, 95)
        text = f"median {statistics.median(timings):.1f} ms, **p95 {p95:.1f} ms**"
        if len(row["medians"]) > 1:
            text += f" (round medians {min(row['medians']):.1f}–{max(row['medians']):.1f})"
        if row["queries"] is not None:
            text += f", {row['queries']} quer{'y' if row['queries'] == 1 else 'ies'}"
        return text, "—" if limit is None else ("yes" if p95 < limit else "**no**")

    def table(self) -> str:
        lines = ["| area | measure | target | measured | met? |", "|---|---|---|---|---|"]
        for row in self.rows.values():
            measured, met = self._cells(row)
            lines.append(f"| {row['area']} | {row['measure']} | {row['target']} | {measured} | {met} |")
        return "\n".join(lines)


def _timed_get(client, urls: list[str], repeat: int, expect: int = 200) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(urls[-1])  # warm-up (templates, permission cache); not counted
    assert response.status_code == expect, (urls[-1], response.status_code, response.content[:300])
    timings = []
    for i in range(repeat):
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == expect, (url, response.status_code, response.content[:300])
    with CaptureQueriesContext(connection) as captured:
        client.get(urls[0])
    return timings, len(captured.captured_queries)


def _cursor(position: str) -> str:
    """A DRF cursor (``p`` = the ordering's first field of the last row seen)."""
    return base64.b64encode(urlencode({"p": position}).encode("ascii")).decode("ascii")


def _areas(only: list[str] | None):
    wanted = {name.lower() for name in only or []}
    return lambda area: not wanted or area.split()[0].lower() in wanted


def bench(rounds: int, repeat: int, ingest_count: int, workers: int, only: list[str] | None) -> Results:
    from django.test import Client
    from rest_framework.test import APIClient

    from controlloop.models import ReplanEvent
    from inspector.models import Asset, Trace
    from kernel.tenancy import SHARED_TENANT

    user = _superuser()
    client = Client()
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    results = Results()
    count = _loaded()
    total = Trace.objects.count()
    print(f"database: {count:,} generated traces ({total:,} in all); {rounds} round(s) of {repeat} requests a measure",
          flush=True)
    included = _areas(only)
    lookup = Asset.objects.get(tenant_id=SHARED_TENANT, asset_type="query", name="ci_lookup")
    deep = Trace.objects.order_by("-started_at", "-id").values_list("started_at", flat=True)[count // 2]
    history_end = datetime.fromisoformat(_meta_get("start")) + timedelta(seconds=7 * count)
    last_week = urlencode({"from": (history_end - timedelta(days=7)).isoformat(), "to": history_end.isoformat()})
    newest = ReplanEvent.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    event_week = urlencode({"from": (newest - timedelta(days=7)).isoformat(), "to": newest.isoformat()})
    replanned_all = list(range(7, count, REPLAN_EVERY))

    for round_number in range(rounds):
        print(f"round {round_number + 1}/{rounds}", flush=True)
        # Different traces every round: most requests miss PostgreSQL's shared buffers.
        rng = random.Random(1000 + round_number)
        sample = [_trace_id(n) for n in rng.sample(range(count), max(repeat, 20))]
        pks = dict(Trace.objects.filter(trace_id__in=sample).values_list("trace_id", "pk"))
        pairs = list(zip(sample, sample[1:] + sample[:1]))
        replanned = [_trace_id(replanned_all[rng.randrange(len(replanned_all))]) for _ in range(repeat)]

        def run(area: str, measure: str, target: str, limit: float | None, urls: list[str], on=client) -> None:
            if included(area):
                timings, queries = _timed_get(on, urls, repeat)
                results.timings(area, measure, target, limit, timings, queries)

        # Trace list (API): cursor paging, 50 a page.
        run("Trace list", "API first page `/inspector/traces` (50 a page)", SPEC, 500, ["/inspector/traces"], api)
        run("Trace list", "API `?status=error`", SPEC, 500, ["/inspector/traces?status=error"], api)
        run("Trace list", "API `?tenant=tenant-3`", SPEC, 500, ["/inspector/traces?tenant=tenant-3"], api)
        run("Trace list", "API `?tenant=tenant-3&status=warning&route=direct`", SPEC, 500,
            ["/inspector/traces?tenant=tenant-3&status=warning&route=direct"], api)
        run("Trace list", f"API deep cursor page (position of trace #{count // 2:,})", SPEC, 500,
            [f"/inspector/traces?cursor={_cursor(str(deep))}"], api)
        run("Trace list", "API `?from=&to=` (last 7 days)", SPEC, 500, [f"/inspector/traces?{last_week}"], api)
        run("Trace list", "API `?has_replan=true`", SPEC, 500, ["/inspector/traces?has_replan=true"], api)
        run("Trace list", "API `?asset=query:ci_lookup@2`", SPEC, 500, ["/inspector/traces?asset=query:ci_lookup@2"],
            api)
        run("Trace list", "API `?q=generated question 42` (text in the question)", SPEC, 500,
            ["/inspector/traces?q=generated%20question%2042"], api)
        run("Trace list", "API `?q=no such words` (text search, no match)", SPEC, 500,
            ["/inspector/traces?q=no%20such%20words"], api)
        run("Trace list", "API `?q={trace id}` (exact id)", SPEC, 500, [f"/inspector/traces?q={t}" for t in sample],
            api)

        # Admin trace changelist.
        run("Admin list", "trace changelist, first page", "p95 < 200 ms", 200, ["/admin/inspector/trace/"])
        run("Admin list", "trace changelist `?status__exact=error`", "p95 < 200 ms", 200,
            ["/admin/inspector/trace/?status__exact=error"])
        run("Admin list", "trace changelist `?tenant_id=tenant-3`", "p95 < 200 ms", 200,
            ["/admin/inspector/trace/?tenant_id=tenant-3"])
        run("Admin list", "trace changelist, search `?q={trace id}`", "p95 < 200 ms", 200,
            [f"/admin/inspector/trace/?q={t}" for t in sample])
        run("Admin list", "trace changelist, page 100", "p95 < 200 ms", 200, ["/admin/inspector/trace/?p=100"])
        from inspector.admin_paging import COUNT_CAP

        # The changelist offers the first COUNT_CAP rows (inspector/admin_paging.py).
        last_page = min(total, COUNT_CAP) // 50
        run("Admin list", f"trace changelist, last page (`?p={last_page}`)", "p95 < 200 ms", 200,
            [f"/admin/inspector/trace/?p={last_page}"])

        # Trace detail, stage payloads, diff.
        run("Trace detail", "API `/inspector/traces/{id}` (a different trace each request)", SPEC, 500,
            [f"/inspector/traces/{t}" for t in sample], api)
        run("Trace detail", "admin trace page (a different trace each request)", "p95 < 150 ms", 150,
            [f"/admin/inspector/trace/{pks[t]}/change/" for t in sample])
        run("Trace detail", "stage payload `/inspector/traces/{id}/stages/execute`", SPEC, 500,
            [f"/inspector/traces/{t}/stages/execute" for t in sample], api)
        run("Diff", "API `/inspector/traces/{id}/diff?baseline={id}`", SPEC, 500,
            [f"/inspector/traces/{a}/diff?baseline={b}" for a, b in pairs], api)
        run("Diff", "admin compare page `…/trace/{pk}/compare/?baseline={id}`", SPEC, 500,
            [f"/admin/inspector/trace/{pks[a]}/compare/?baseline={b}" for a, b in pairs])

        # Regression analyses, executed in-process (what the Celery task runs).
        if included("Analysis"):
            _bench_analyses(results, sample, count, repeat, api, rng)

        # Asset impact (query:ci_lookup: every trace applies it; 500k traces on each of its two versions).
        impact = f"/asset-registry/assets/{lookup.pk}/impact"
        run("Impact", "`GET /asset-registry/assets/{id}/impact?base=1&target=2` (500k traces a version)",
            "p95 < 300 ms", 300, [f"{impact}?base=1&target=2"], api)
        run("Impact", "`GET …/impact` (default versions)", "p95 < 300 ms", 300, [impact], api)
        run("Impact", "`GET …/impact?base=1&target=2&from=&to=` (last 7 days)", "p95 < 300 ms", 300,
            [f"{impact}?base=1&target=2&{last_week}"], api)
        run("Impact", "admin impact screen `/admin/inspector/asset/{id}/impact/?base=1&target=2`", "p95 < 300 ms",
            300, [f"/admin/inspector/asset/{lookup.pk}/impact/?base=1&target=2"])

        # Replan timeline and events (54k events on 20k traces).
        timeline = "/admin/controlloop/replanevent/timeline/"
        run("Timeline", "admin replan timeline (default: last 7 days, newest 500)", SPEC, 500, [timeline])
        run("Timeline", "admin replan timeline, 7 days up to the newest event", SPEC, 500, [f"{timeline}?{event_week}"])
        run("Timeline", "admin replan timeline `?trace=`", SPEC, 500, [f"{timeline}?trace={t}" for t in replanned])
        run("Timeline", "`GET /controlloop/events` (first page, oldest first)", SPEC, 500, ["/controlloop/events"],
            api)
        run("Timeline", "`GET /controlloop/events?trigger_type=timeout&severity=critical`", SPEC, 500,
            ["/controlloop/events?trigger_type=timeout&severity=critical"], api)
        run("Timeline", "`GET /controlloop/events?trace=`", SPEC, 500,
            [f"/controlloop/events?trace={t}" for t in replanned], api)
        run("Timeline", "`GET /controlloop/events?from=&to=` (7 days)", SPEC, 500, [f"/controlloop/events?{event_week}"],
            api)
        run("Timeline", "admin replan event changelist", SPEC, 500, ["/admin/controlloop/replanevent/"])

        if included("Ingest"):
            _bench_ingest(results, ingest_count, workers, user)
    return results


def _bench_analyses(results: Results, sample: list[str], count: int, repeat: int, api, rng: random.Random) -> None:
    import importlib.util

    from inspector.models import Trace
    from inspector.services import trace_ingest
    from regression.models import RegressionAnalysis
    from regression.services import analysis_execute

    # benchmarks/regression.py's pair (5 stages of ~1 MB outputs, 1% of rows changed); "regression" is the app.
    spec = importlib.util.spec_from_file_location("bench_regression", os.path.join(os.path.dirname(__file__),
                                                                                  "regression.py"))
    bench_regression = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_regression)
    created = []

    def execute(kind: str, baseline: list[str], candidate: list[str]) -> float:
        t0 = time.perf_counter()
        analysis = RegressionAnalysis.objects.create(kind=kind, baseline_trace_ids=baseline,
                                                     candidate_trace_ids=candidate)
        result = analysis_execute(analysis_id=analysis.pk)
        elapsed = (time.perf_counter() - t0) * 1000
        assert result is not None and result.status == "completed", result and result.error_message
        created.append(analysis.pk)
        return elapsed

    big = ("scale-big-base", "scale-big-cand")
    try:
        Trace.objects.filter(trace_id__in=big).delete()
        trace_ingest(payload=bench_regression._big_trace(big[0], changed=False))
        trace_ingest(payload=bench_regression._big_trace(big[1], changed=True))
        execute("pair", [big[0]], [big[1]])  # warm-up
        timings = [execute("pair", [big[0]], [big[1]]) for _ in range(max(5, repeat // 4))]
        results.timings("Analysis", "pair, 5 stages of ~1 MB outputs, 1% of rows changed (`regression.py`'s pair), "
                        "executed", "< 300 ms", 300, timings)
        timings = [execute("pair", [sample[i]], [sample[(i + 1) % len(sample)]]) for i in range(repeat)]
        results.timings("Analysis", "pair of two random generated traces (~10 KB outputs, every row different), "
                        "executed", "< 300 ms", 300, timings)
        timings = []
        for _ in range(repeat):
            numbers = rng.sample(range(count), 40)
            timings.append(execute("group", [_trace_id(n) for n in numbers[:20]],
                                   [_trace_id(n) for n in numbers[20:]]))
        results.timings("Analysis", "20-vs-20 group of random generated traces, executed", "< 2 s", 2000, timings)
        timings, queries = _timed_get(api, [f"/inspector/regression/{pk}" for pk in created[-repeat:]], repeat)
        results.timings("Analysis", "`GET /inspector/regression/{id}` (a stored group analysis)", SPEC, 500, timings,
                        queries)
        timings = []
        for i in range(repeat):
            body = {"baseline_trace_ids": [sample[i]], "candidate_trace_ids": [sample[(i + 2) % len(sample)]]}
            t0 = time.perf_counter()
            response = api.post("/inspector/regression/analyze", body, format="json")
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 202, response.content[:300]
            created.append(response.json()["analysis_id"])
        results.timings("Analysis", "`POST /inspector/regression/analyze` (pair; Celery eager, so it includes "
                        "the analysis)", SPEC, 500, timings)
    finally:
        RegressionAnalysis.objects.filter(pk__in=created).delete()
        Trace.objects.filter(trace_id__in=big).delete()


def _post_traces(job: tuple[int, list[dict]]) -> tuple[list[float], float, float]:
    """Post bodies one by one through the DRF test client; ``(latencies, wall start, wall end)``."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.test import APIClient

    user_pk, bodies = job
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=user_pk))
    latencies = []
    started = time.time()
    for body in bodies:
        t0 = time.perf_counter()
        response = client.post("/inspector/traces", body, format="json")
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 201, response.content[:300]
    ended = time.time()
    connection.close()
    return latencies, started, ended


def _bench_ingest(results: Results, count: int, workers: int, user) -> None:
    """One client in this process; ``workers`` clients as forked processes (like gunicorn workers: no shared GIL)."""
    import multiprocessing

    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings

    from inspector.models import Trace
    from testkit.factories import trace_body

    run_id = datetime.now(UTC).strftime("%H%M%S%f")
    variants = [(n, True) for n in sorted({1, workers})]
    if hasattr(settings, "OPS_INGEST_SYNCHRONOUS_COMMIT"):  # the commit need not wait for the WAL flush
        variants += [(n, False) for n in sorted({1, workers})]
    try:
        _post_traces((user.pk, [trace_body(trace_id=f"scale-ingest-{run_id}-warm", padding=10_000)]))
        for n_workers, synchronous in variants:
            bodies = [trace_body(trace_id=f"scale-ingest-{run_id}-{n_workers}{synchronous:d}-{i:05d}",
                                 padding=10_000, tenant_id=TENANTS[i % 5]) for i in range(count)]
            size_kb = len(json.dumps(bodies[0])) / 1024
            jobs = [(user.pk, bodies[i::n_workers]) for i in range(n_workers)]
            with override_settings(OPS_INGEST_SYNCHRONOUS_COMMIT=synchronous):
                if n_workers == 1:
                    parts = [_post_traces(jobs[0])]
                else:
                    connection.close()  # children must not share the parent's connection
                    with multiprocessing.get_context("fork").Pool(n_workers) as pool:
                        parts = pool.map(_post_traces, jobs)
            elapsed = max(p[2] for p in parts) - min(p[1] for p in parts)
            latencies = [ms for part in parts for ms in part[0]]
            label = "1 client" if n_workers == 1 else f"{n_workers} clients (processes)"
            if not synchronous:
                label += ", `OPS_INGEST_SYNCHRONOUS_COMMIT=false`"
            results.rate("Ingest", f"`POST /inspector/traces`, {count} traces of ~{size_kb:.0f} KB, {label}",
                         "≥ 200 traces/s", 200, count / elapsed, latencies)
    finally:
        Trace.objects.filter(trace_id__startswith=f"scale-ingest-{run_id}-").delete()


# --------------------------------------------------------------------------- explain


EXPLAIN = {
    "admin changelist: tenant filter choices (AllValuesFieldListFilter)":
        "SELECT DISTINCT tenant_id FROM inspector_trace ORDER BY 1",
    "the same as a loose index scan over trace_tenant_started_idx": """
        WITH RECURSIVE t AS (
          (SELECT tenant_id FROM inspector_trace ORDER BY tenant_id LIMIT 1)
          UNION ALL
          SELECT (SELECT i.tenant_id FROM inspector_trace i WHERE i.tenant_id > t.tenant_id
                  ORDER BY i.tenant_id LIMIT 1) FROM t WHERE t.tenant_id IS NOT NULL)
        SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL""",
    "admin search `=trace_id` + question (iexact + icontains)": """
        SELECT id FROM inspector_trace WHERE UPPER(trace_id::text) = UPPER('s1m-00012345')
            OR UPPER(question::text) LIKE UPPER('%s1m-00012345%') ORDER BY started_at DESC, id DESC LIMIT 10001""",
    "API ?q= (exact id or text in the question)": """
        SELECT id FROM inspector_trace WHERE trace_id = 's1m-00012345'
            OR UPPER(question::text) LIKE UPPER('%s1m-00012345%') ORDER BY started_at DESC, id DESC LIMIT 51""",
    "admin last page (OFFSET)": """
        SELECT id FROM inspector_trace ORDER BY started_at DESC, id DESC LIMIT 50 OFFSET 999950""",
    "impact: one version's trace-level aggregates": """
        SELECT COUNT(*), MIN(started_at), MAX(started_at), COUNT(asset_version_id) FILTER (WHERE status = 'error'),
               AVG(references_count), PERCENTILE_CONT(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY duration_ms)
        FROM inspector_traceassetusage
        WHERE asset_version_id = (SELECT v.id FROM inspector_assetversion v JOIN inspector_asset a ON a.id = v.asset_id
                                  WHERE a.name = 'ci_lookup' AND v.version = 2) AND stage = ''""",
    "impact: one version's per-stage percentiles (stage IN …)": """
        SELECT stage, PERCENTILE_CONT(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY duration_ms), COUNT(*)
        FROM inspector_traceassetusage
        WHERE asset_version_id = (SELECT v.id FROM inspector_assetversion v JOIN inspector_asset a ON a.id = v.asset_id
                                  WHERE a.name = 'ci_lookup' AND v.version = 2)
          AND stage IN ('route_plan', 'validate', 'execute', 'compose', 'present') GROUP BY stage""",
    "impact: share of all traces": "SELECT COUNT(*) FROM inspector_trace",
}


def explain() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name, sql in EXPLAIN.items():
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            print(f"-- {name}\n" + "\n".join(row[0] for row in cursor.fetchall()) + "\n", flush=True)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--load", type=int, nargs="?", const=1_000_000, metavar="N",
                        help="load up to N generated traces (default 1,000,000); resumes")
    parser.add_argument("--payload-bytes", type=int, default=PAYLOAD_BYTES,
                        help="JSON bytes of each stage output (first load only)")
    parser.add_argument("--bench", action="store_true")
    parser.add_argument("--only", nargs="*", help="bench only these areas (first word: trace, admin, diff, "
                                                  "analysis, impact, timeline, ingest)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measure (pooled in the table)")
    parser.add_argument("--repeat", type=int, default=30, help="requests a measure and round")
    parser.add_argument("--ingest-count", type=int, default=300, help="traces posted a round and client count")
    parser.add_argument("--workers", type=int, default=2, help="also ingest with this many client processes")
    parser.add_argument("--sizes", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if not (args.load or args.bench or args.sizes or args.explain):
        parser.error("nothing to do: --load, --bench, --sizes or --explain")
    _configure(args.database_url)
    _ensure_database(args.database_url)
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    if args.load:
        load(args.load, args.payload_bytes)
    if args.bench and not args.load:
        from django.core.management import call_command

        call_command("migrate", verbosity=1, interactive=False)  # the code may have moved on since the load
    if args.bench or args.sizes:
        sizes()
    if args.bench:
        setup_test_environment()  # the test client's template and query instrumentation
        started = time.perf_counter()
        results = bench(args.rounds, args.repeat, args.ingest_count, args.workers, args.only)
        print(f"\nbench: {time.perf_counter() - started:.0f} s; pooled over {args.rounds} round(s) of "
              f"{args.repeat} requests\n\n" + results.table(), flush=True)
    if args.explain:
        explain()


if __name__ == "__main__":
    sys.exit(main())
