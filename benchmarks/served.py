"""The product as deployed, measured over HTTP: gunicorn, production settings, PostgreSQL, Redis.

Usage:
    python benchmarks/served.py                        # 2 gthread workers x 4 threads (the Procfile's), 500 requests
    python benchmarks/served.py --conn-max-age 0       # a new database connection a request (DB_CONN_MAX_AGE)
    python benchmarks/served.py --worker-class sync --workers 3 --requests 300
    python benchmarks/served.py --in-process           # the same calls through Django's test client

The other benchmarks call views in-process (Django test client). This one starts
the web process the way docs/deploy.md runs it — ``gunicorn opsproject.wsgi``,
``DEBUG=false``, a secret key, ``ALLOWED_HOSTS``, a PostgreSQL ``DATABASE_URL``
(a throwaway database, created, migrated and dropped here), the Redis cache the
rate limits count in, the production rate limits, ``collectstatic`` and
``seed_assets`` (the release step), a Celery worker on a Redis broker — and
drives it with real HTTP clients (``requests.Session``, keep-alive), 1 and 4 at
a time. The clients send ``X-Forwarded-Proto: https`` as the TLS-terminating
proxy of a deployment would (``SECURE_PROXY_SSL_HEADER_ENABLED=true``); the
HTTPS redirect, HSTS and secure cookies stay on.

Rate limits are production's: ingest 12,000/minute a user (200/s, above what
this machine serves), pipeline 120/minute a user, so ``/ops/ask`` is measured
over at most 100 questions in one minute window.
Clients, gunicorn, PostgreSQL and Redis share the machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _profile import py_spy, summary  # noqa: E402  (benchmarks/ is the script's own directory)

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "served_bench"
HOST = "127.0.0.1"
# Redis databases of their own, so CI and other runs sharing the server are not touched.
CACHE_URL = "redis://127.0.0.1:6379/5"
BROKER_URL = "redis://127.0.0.1:6379/6"
ASK_LIMIT = 100  # under the pipeline limit of 120/minute a user
QUESTIONS = ["Which servers run checkout-api?", "Is pg-orders healthy?", "Who owns checkout-api?",
             "What depends on pg-orders?", "List the services in the payments team"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def served_environment(args: argparse.Namespace, database_url: str = f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
                       cache_url: str = CACHE_URL, broker_url: str = BROKER_URL) -> dict[str, str]:
    """Production settings (docs/deploy.md) for this machine's loopback services.

    ``served_admin.py`` passes its own database (an already loaded one) and Redis databases."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "DB_", "SECURE_", "STATICFILES"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "opsproject.settings",
        "DEBUG": "false",
        "SECRET_KEY": "served-bench-" + os.urandom(24).hex(),
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "CELERY_BROKER_URL": broker_url,
        "SECURE_PROXY_SSL_HEADER_ENABLED": "true",
        "PYTHONPATH": str(ROOT),
    })
    if args.conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    return env


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(statement)


def flush_redis() -> None:
    """Empty this runner's Redis databases: a previous run's rate-limit counters (the same user id in a
    fresh database) would throttle this one, and its unsent tasks name a dropped database."""
    import redis

    for url in (CACHE_URL, BROKER_URL):
        redis.Redis.from_url(url).flushdb()


@contextlib.contextmanager
def throwaway_database() -> Iterator[None]:
    """This runner's database created empty and its Redis databases flushed; both dropped again on the way out."""
    admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {DATABASE}")
    flush_redis()
    try:
        yield
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        flush_redis()


def manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *command], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


SETUP = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pw")
print(Token.objects.create(user=user).key)
"""

IMPACT_ASSET = """
from inspector.models import Asset
from inspector.services import asset_version_create
asset = Asset.objects.get(asset_type="prompt", name="route_rules")
if not asset.versions.filter(version=2).exists():
    asset_version_create(asset=asset, spec=asset.versions.get(version=1).spec, note="served benchmark")
print(asset.pk)
"""


@contextlib.contextmanager
def processes(env: dict[str, str], args: argparse.Namespace, port: int, log: Path) -> Iterator[int]:
    """gunicorn (as the Procfile's web process) and one Celery worker; both stopped on the way out.

    Yields the gunicorn master's pid (``--profile`` records it and its workers)."""
    out = log.open("w")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "opsproject.wsgi:application", "--bind", f"{HOST}:{port}",
         "--workers", str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads),
         "--log-level", "warning", "--access-logfile", str(log.with_suffix(".access"))],
        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opsproject", "worker", "--loglevel", "WARNING", "--concurrency", "1"],
        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield web.pid
    finally:
        for proc in (web, worker):
            proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        out.close()
        log.with_suffix(".access").unlink(missing_ok=True)


def wait_until_ready(base: str, deadline_s: float = 60) -> None:
    import requests

    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/readyz", timeout=5, headers={"X-Forwarded-Proto": "https"}).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{base}/readyz did not answer 200 within {deadline_s:.0f} s")


class Client:
    """One keep-alive HTTP connection with the token, as a deployed API client holds it."""

    def __init__(self, base: str, token: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Token {token}", "X-Forwarded-Proto": "https",
                                     "Content-Type": "application/json"})

    def timed(self, method: str, path: str, body: bytes | None = None, expect: int = 200):
        started = time.perf_counter()
        response = self.session.request(method, self.base + path, data=body, timeout=120)
        ms = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return ms, response


class InProcessClient:
    """The same calls through Django's test client in this process (``--in-process``): the figures of
    the other benchmarks, on the same database, settings, Redis and worker, under the same load."""

    def __init__(self, base: str, token: str) -> None:
        from django.test import Client as DjangoClient

        self.client = DjangoClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_X_FORWARDED_PROTO="https",
                                   HTTP_HOST=HOST)

    def timed(self, method: str, path: str, body: bytes | None = None, expect: int = 200):
        started = time.perf_counter()
        response = self.client.generic(method, path, body or b"", content_type="application/json")
        ms = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.content[:300]!r}")
        return ms, response


def clients_run(clients: list[Client], work: list, call: Callable[[Client, object], float]) -> tuple[float, list]:
    """Split ``work`` over ``clients`` (one thread each); wall seconds and every call's ms."""
    chunks = [work[i::len(clients)] for i in range(len(clients))]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        parts = pool.map(lambda pair: [call(pair[0], item) for item in pair[1]], zip(clients, chunks, strict=True))
        latencies = [ms for part in parts for ms in part]
    return time.perf_counter() - started, latencies


def row(rows: list, name: str, latencies: list[float], rate: str = "") -> None:
    rows.append((name, len(latencies), rate, statistics.median(latencies), percentile(latencies, 95)))
    print(f"  {name:44} n={len(latencies):4}  {rate:>16}  p50 {rows[-1][3]:7.1f} ms  p95 {rows[-1][4]:7.1f} ms",
          flush=True)


def measure(base: str, token: str, args: argparse.Namespace, impact_asset: str) -> list:
    import django

    django.setup()  # testkit's body builder imports the models; the bodies need no database
    from testkit.factories import trace_body

    rows: list = []
    n = args.requests
    stamp = {"started_at": datetime.now(UTC).isoformat()}
    make = InProcessClient if args.in_process else Client
    one = make(base, token)
    four = [make(base, token) for _ in range(4)]

    def ingest(client: Client, body: bytes) -> float:
        return client.timed("POST", "/inspector/traces", body, expect=201)[0]

    one.timed("POST", "/inspector/traces", json.dumps(trace_body(trace_id="warm-up", padding=args.payload_bytes,
                                                                  **stamp)).encode(), expect=201)
    size_kb = len(json.dumps(trace_body(trace_id="x", padding=args.payload_bytes))) / 1024
    for n_clients, clients in ((1, [one]), (4, four)):
        bodies = [json.dumps(trace_body(trace_id=f"s{n_clients}-{i:06d}", padding=args.payload_bytes,
                                        **stamp)).encode() for i in range(n)]
        elapsed, ms = clients_run(clients, bodies, ingest)
        row(rows, f"ingest one trace (~{size_kb:.0f} KB), {n_clients} client(s)", ms, f"{n / elapsed:.0f} traces/s")
    batches = [json.dumps([trace_body(trace_id=f"b-{b}-{i:03d}", padding=args.payload_bytes, **stamp)
                           for i in range(100)]).encode() for b in range(max(2, n // 100))]
    elapsed, ms = clients_run([one], batches, ingest)
    row(rows, "ingest batches of 100, 1 client", ms, f"{100 * len(batches) / elapsed:.0f} traces/s")

    def get(client: Client, path: str) -> float:
        return client.timed("GET", path)[0]

    ids = [f"s1-{i:06d}" for i in range(n)]
    for path in (f"/inspector/traces/{ids[0]}", "/inspector/traces?limit=50"):
        get(one, path)  # warm-up: each gunicorn worker's first request pays its imports
    row(rows, "trace detail GET", clients_run([one], [f"/inspector/traces/{i}" for i in ids], get)[1])
    stages = ("route_plan", "validate", "execute", "compose", "present")

    def whole_trace(client: Client, trace_id: str) -> float:
        return get(client, f"/inspector/traces/{trace_id}") + sum(
            get(client, f"/inspector/traces/{trace_id}/stages/{stage}") for stage in stages)

    row(rows, "trace + its 5 stage payloads (6 GETs)", clients_run([one], ids[: max(20, n // 5)], whole_trace)[1])
    row(rows, "whole trace in one call (?include=payloads)",
        clients_run([one], [f"/inspector/traces/{i}?include=payloads" for i in ids], get)[1])
    row(rows, "list of the 50 most recent traces", clients_run([one], ["/inspector/traces?limit=50"] * n, get)[1])
    searches = [f"/inspector/traces?limit=50&q={word}" for word in ("checkout", "servers", "s1-000007", "nothing")]
    row(rows, "trace search (?q=…)", clients_run([one], searches * max(1, n // 20), get)[1])

    def ask(client: Client, question: str) -> float:
        return client.timed("POST", "/ops/ask", json.dumps({"question": question}).encode(), expect=201)[0]

    asks = [QUESTIONS[i % len(QUESTIONS)] for i in range(min(ASK_LIMIT, n))]
    row(rows, f"POST /ops/ask ({len(asks)} questions, 1 client)", clients_run([one], asks, ask)[1])

    def analysis(client: Client, pair: tuple[str, str]) -> float:
        started = time.perf_counter()
        _, response = client.timed("POST", "/inspector/regression/analyze", json.dumps(
            {"baseline_trace_id": pair[0], "candidate_trace_id": pair[1]}).encode(), expect=202)
        analysis_id = response.json()["analysis_id"]
        while True:
            status = client.timed("GET", f"/inspector/regression/{analysis_id}")[1].json()["status"]
            if status in ("completed", "failed"):
                if status == "failed":
                    raise SystemExit(f"analysis {analysis_id} {status}")
                return (time.perf_counter() - started) * 1000
            time.sleep(0.02)

    row(rows, "analysis (POST analyze + poll until done)",
        clients_run([one], [(ids[i], ids[i + 1]) for i in range(0, min(20, n - 1), 2)], analysis)[1])
    impact = f"/asset-registry/assets/{impact_asset}/impact?base=1&target=2"
    get(one, impact)
    traces = 2 * n + 100 * len(batches) + len(asks)
    row(rows, f"impact report GET (~{traces:,} traces)", clients_run([one], [impact] * 20, get)[1])
    return rows


def server_arguments(parser: argparse.ArgumentParser) -> None:
    """How the web process runs: the Procfile's defaults (also served_admin.py's)."""
    import importlib.util

    if importlib.util.find_spec("gunicorn") is None:
        raise SystemExit("gunicorn is not installed: pip install -e '.[dev,prod]' (make install leaves it out)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")),
                        help="gunicorn workers (the Procfile's default: WEB_CONCURRENCY or 2)")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="gthread")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")),
                        help="threads per gthread worker (the Procfile's default: WEB_THREADS or 4)")
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="DB_CONN_MAX_AGE seconds (0: a connection a request; unset: the production default)")
    parser.add_argument("--keep-log", action="store_true", help="keep the gunicorn/celery log in /tmp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="requests per measured operation (fewer for slow ones)")
    server_arguments(parser)
    parser.add_argument("--payload-bytes", type=int, default=1_500,
                        help="padding added to each stage's result (1,500: a ~10 KB trace, the issue's size)")
    parser.add_argument("--in-process", action="store_true",
                        help="the same calls through Django's test client in this process, for comparison")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record the gunicorn workers with py-spy into this file (raw stacks) and print "
                             "where their CPU time went (profiling slows the served figures)")
    args = parser.parse_args()

    env = served_environment(args)
    os.environ.update(env)
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = Path(f"/tmp/served_bench_{port}.log")
    print(f"{'in-process (Django test client), ' if args.in_process else ''}gunicorn {args.workers} x {args.worker_class}"
          f"{f' ({args.threads} threads)' if args.worker_class == 'gthread' else ''}, "
          f"DB_CONN_MAX_AGE={'default' if args.conn_max_age is None else args.conn_max_age}, {base}, "
          f"database {DATABASE}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    try:
        with throwaway_database():
            # The release step of the Procfile.
            manage(env, "migrate", "--noinput")
            manage(env, "collectstatic", "--noinput")
            manage(env, "seed_assets")
            token = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
            impact_asset = manage(env, "shell", "-c", IMPACT_ASSET).strip().splitlines()[-1]
            with processes(env, args, port, log) as web_pid:
                wait_until_ready(base)
                profiling = py_spy(web_pid, args.profile) if args.profile else contextlib.nullcontext()
                with profiling:
                    rows = measure(base, token, args, impact_asset)
        print("\n| operation | n | throughput | p50 ms | p95 ms |\n|---|---|---|---|---|")
        for name, count, rate, p50, p95 in rows:
            print(f"| {name} | {count} | {rate} | {p50:.1f} | {p95:.1f} |")
        print(f"load after: {os.getloadavg()[0]:.2f}")
        if args.profile:
            print("\ngunicorn workers' CPU samples (py-spy):\n" + summary(args.profile))
    finally:
        if not args.keep_log:
            log.unlink(missing_ok=True)
        else:
            print(f"log: {log}")


if __name__ == "__main__":
    main()
