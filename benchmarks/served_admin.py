"""Every admin screen served over HTTP against an already loaded database: gunicorn, production settings.

Usage:
    python benchmarks/scale.py --load                     # once: ops_1m with 1,000,000 traces
    python benchmarks/served_admin.py                     # every admin screen, 30 requests each, on ops_1m
    python benchmarks/served_admin.py --database-url postgres://postgres@127.0.0.1:5432/ops_adminbench --requests 10
    python benchmarks/served_admin.py --only trace        # screens whose name contains a word

Issue 17: "every admin screen's server time p95 < 150 ms at 1M traces, measured
served". The product runs as ``served.py`` starts it (gunicorn, ``DEBUG=false``,
Redis cache, a Celery worker; docs/deploy.md), but on the database given here,
which is kept: this runner never creates, drops or migrates it (``--migrate``
runs ``migrate`` first when asked). It adds (or resets the password of) its own
superuser ``served-admin``, then logs into the admin as a browser does (GET the
login page, its CSRF token, POST the credentials; ``X-Forwarded-Proto: https``
as the TLS proxy sends, so secure cookies and the HTTPS redirect stay on) and
times ``--requests`` GETs a screen on one keep-alive connection.

Screens are found in the running app, so a new admin is measured without an
edit here: the index, each app's index, and every ``ModelAdmin`` in
``admin.site._registry`` — its changelist and the change page of a different
sampled object each request (when the table has rows). On top: the trace
changelist with the filters people use (status, tenant, date, asset version,
exact trace id, a word of the question, a deep page and the last page offered)
and the custom views (trace compare, test overrides, asset impact, replan
timeline, trace by id). Custom URL names that no screen here covers are listed
after the table. A screen answering anything but its expected status (200, a
redirect for "by id") is a failure in the table, never skipped.

Times are the client's (request out, response in) over loopback: the server
time plus a fraction of a millisecond. Client, gunicorn, PostgreSQL and Redis
share the machine's cores; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from served import HOST, free_port, manage, percentile, processes, served_environment, server_arguments, wait_until_ready

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ops_1m"
# Redis databases of their own: served.py uses 5 and 6, CI and the demo the low numbers.
CACHE_URL = "redis://127.0.0.1:6379/7"
BROKER_URL = "redis://127.0.0.1:6379/8"
TARGET_MS = 150
USERNAME = "served-admin"

SUPERUSER = """
from django.contrib.auth import get_user_model
user, _ = get_user_model().objects.get_or_create(username={username!r}, defaults={{"email": "served-admin@example.com"}})
user.is_staff = user.is_superuser = user.is_active = True
user.set_password({password!r})
user.save()
"""

# Runs in ``manage.py shell`` on the served database: the registered admins, their URLs and sample objects.
DISCOVER = """
import json, random
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import Max, Min
from django.urls import reverse
from inspector.admin_paging import COUNT_CAP
from inspector.models import AssetVersion, Trace
from regression.models import OverrideTest

wanted = {wanted}
rng = random.Random(17)
INTEGER_KEYS = ("AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField")
STANDARD = ("_changelist", "_add", "_history", "_delete", "_change")


def sample_pks(model):
    # Index probes from random points of the key range, not ORDER BY random() over millions of rows.
    rows = model._default_manager.all()
    if model._meta.pk.get_internal_type() not in INTEGER_KEYS:
        return list(rows.order_by("pk").values_list("pk", flat=True)[:wanted])
    bounds = rows.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return []
    found = []
    for _ in range(wanted * 4):
        pk = rows.filter(pk__gte=rng.randint(bounds["lo"], bounds["hi"])).order_by("pk").values_list(
            "pk", flat=True).first()
        if pk is not None and pk not in found:
            found.append(pk)
        if len(found) == wanted:
            break
    return found


models = []
for model, model_admin in admin.site._registry.items():
    opts = model._meta
    info = (opts.app_label, opts.model_name)
    custom = [p.name for p in model_admin.get_urls() if p.name and not p.name.endswith(STANDARD)]
    models.append({{
        "label": f"{{opts.app_label}}.{{opts.model_name}}",
        "app": opts.app_label,
        "changelist": reverse("admin:%s_%s_changelist" % info),
        "change": [reverse("admin:%s_%s_change" % info, args=[quote(pk)]) for pk in sample_pks(model)],
        "custom_names": custom,
    }})
trace_pks = sample_pks(Trace)
traces = list(Trace.objects.filter(pk__in=trace_pks).values("pk", "trace_id", "tenant_id", "status"))
rng.shuffle(traces)
versions = list(AssetVersion.objects.values_list("asset_id", "version", "pk"))
by_asset = {{}}
for asset_id, version, _ in versions:
    by_asset.setdefault(asset_id, set()).add(version)
overrides = list(OverrideTest.objects.order_by("-pk").values_list("trace_id", "pk")[:wanted])
print(json.dumps({{
    "models": models,
    "traces": traces,
    "statuses": sorted({{value for value, _ in Trace._meta.get_field("status").choices or []}}
                       | {{t["status"] for t in traces}}),
    "count_cap": COUNT_CAP,
    "asset_versions": [pk for _, _, pk in versions],
    "impact_assets": [asset for asset, numbers in by_asset.items() if {{1, 2}} <= numbers],
    "override_tests": overrides,
}}))
"""


@dataclass
class Screen:
    name: str
    pattern: str
    urls: list[str]
    expect: int = 200
    latencies: list[float] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    failures: dict[int, int] = field(default_factory=dict)
    note: str = ""


class AdminSession:
    """A logged-in admin user on one keep-alive connection, as a browser behind the TLS proxy holds it."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        # Origin as the browser sends it: Django's CSRF check compares it with https://<Host>.
        self.session.headers.update({"X-Forwarded-Proto": "https", "Origin": f"https://{base.split('://', 1)[1]}"})

    def _keep_secure_cookies(self) -> None:
        # The session and CSRF cookies are Secure; the client speaks plain HTTP to gunicorn behind the
        # (absent) proxy, so requests would withhold them. A browser talking HTTPS to the proxy sends them.
        for cookie in self.session.cookies:
            cookie.secure = False

    def get(self, path: str):
        response = self.session.get(self.base + path, allow_redirects=False, timeout=120)
        self._keep_secure_cookies()
        return response

    def log_in(self, username: str, password: str) -> None:
        login = self.get("/admin/login/")
        if login.status_code != 200 or "csrftoken" not in self.session.cookies:
            raise SystemExit(f"GET /admin/login/: {login.status_code}, cookies {list(self.session.cookies.keys())}")
        response = self.session.post(
            self.base + "/admin/login/?next=/admin/", allow_redirects=False, timeout=60,
            data={"csrfmiddlewaretoken": self.session.cookies["csrftoken"], "username": username,
                  "password": password, "next": "/admin/"},
            headers={"Referer": f"https://{self.base.split('://', 1)[1]}/admin/login/"})
        self._keep_secure_cookies()
        if response.status_code != 302 or "sessionid" not in self.session.cookies:
            raise SystemExit(f"admin login failed: {response.status_code} {response.text[:300]}")

    def timed(self, path: str) -> tuple[float, int]:
        started = time.perf_counter()
        response = self.get(path)
        return (time.perf_counter() - started) * 1000, response.status_code


def cycled(urls: list[str], n: int) -> list[str]:
    """``n`` URLs from ``urls`` in turn: different objects while there are, repeats after."""
    return [urls[i % len(urls)] for i in range(n)] if urls else []


def screens_for(found: dict, n: int) -> tuple[list[Screen], list[str]]:
    """Every screen to time, and the custom admin URL names none of them covers."""
    screens = [Screen("admin index", "/admin/", ["/admin/"] * n)]
    for app in sorted({model["app"] for model in found["models"]}):
        screens.append(Screen(f"{app} app index", f"/admin/{app}/", [f"/admin/{app}/"] * n))
    special = {"inspector.trace": "trace page", "regression.regressionanalysis": "analysis detail",
               "regression.goldensuite": "suite page", "regression.suiterun": "suite run page",
               "inspector.asset": "asset page"}
    for model in sorted(found["models"], key=lambda m: m["label"]):
        label, changelist = model["label"], model["changelist"]
        screens.append(Screen(f"{label} changelist", changelist, [changelist] * n))
        name = f"{label} change" + (f" ({special[label]})" if label in special else "")
        if model["change"]:
            screens.append(Screen(name, f"{changelist}<pk>/change/", cycled(model["change"], n)))
        else:
            screens.append(Screen(name, f"{changelist}<pk>/change/", [], note="no rows: not measured"))

    traces, trace_list = found["traces"], "/admin/inspector/trace/"
    last_page = (found["count_cap"] - 1) // 50  # the changelist offers COUNT_CAP rows, 50 a page, ?p= from 0
    tenants = sorted({t["tenant_id"] for t in traces}) or ["tenant-0"]
    filters = [
        ("trace changelist ?status__exact=", "?status__exact=<status>",
         [f"?status__exact={s}" for s in found["statuses"]]),
        ("trace changelist ?tenant_id__exact=", "?tenant_id__exact=<tenant>",
         [f"?tenant_id__exact={t}" for t in tenants]),
        ("trace changelist ?started_at (past 7 days)", "?started_at__gte=<7 days ago>",
         [f"?started_at__gte={time.strftime('%Y-%m-%d', time.gmtime(time.time() - 7 * 86400))}"]),
        ("trace changelist ?asset_version=", "?asset_version=<version pk>",
         [f"?asset_version={pk}" for pk in found["asset_versions"]]),
        ("trace changelist search exact trace id", "?q=<trace_id>", [f"?q={t['trace_id']}" for t in traces]),
        ("trace changelist search a question word", "?q=<word>", ["?q=servers", "?q=checkout", "?q=owner"]),
        ("trace changelist page 100", "?p=100", ["?p=100"]),
        (f"trace changelist last page offered (p={last_page})", f"?p={last_page}", [f"?p={last_page}"]),
    ]
    for name, pattern, queries in filters:
        screens.append(Screen(name, trace_list + pattern, cycled([trace_list + q for q in queries], n)))

    pairs = list(zip(traces, traces[1:] + traces[:1], strict=True))
    screens += [
        Screen("trace compare", f"{trace_list}<pk>/compare/?baseline=<trace_id>",
               cycled([f"{trace_list}{a['pk']}/compare/?baseline={b['trace_id']}" for a, b in pairs], n)),
        Screen("trace test overrides", f"{trace_list}<pk>/test-overrides/",
               cycled([f"{trace_list}{t['pk']}/test-overrides/" for t in traces], n)),
        Screen("trace by id (redirect)", f"{trace_list}by-id/<trace_id>/",
               cycled([f"{trace_list}by-id/{t['trace_id']}/" for t in traces], n), expect=302),
        Screen("asset impact v1 -> v2", "/admin/inspector/asset/<pk>/impact/?base=1&target=2",
               cycled([f"/admin/inspector/asset/{pk}/impact/?base=1&target=2" for pk in found["impact_assets"]], n),
               note="" if found["impact_assets"] else "no asset with versions 1 and 2: not measured"),
        Screen("replan timeline", "/admin/controlloop/replanevent/timeline/",
               ["/admin/controlloop/replanevent/timeline/"] * n),
        Screen("replan timeline ?trace=", "/admin/controlloop/replanevent/timeline/?trace=<trace_id>",
               cycled([f"/admin/controlloop/replanevent/timeline/?trace={t['trace_id']}" for t in traces], n)),
        Screen("override test result", f"{trace_list}<pk>/test-overrides/<test_id>/",
               cycled([f"{trace_list}{trace}/test-overrides/{test}/" for trace, test in found["override_tests"]], n),
               note="" if found["override_tests"] else "no override tests: not measured"),
    ]
    covered = {"inspector_trace_compare", "inspector_trace_overrides", "inspector_trace_by_id",
               "inspector_asset_impact", "controlloop_timeline", "inspector_trace_override_result"}
    # POST-only actions (preview, record baseline, start run) answer 405 to a GET: listed, not timed.
    uncovered = sorted({name for model in found["models"] for name in model["custom_names"]} - covered)
    return screens, uncovered


def measure(client: AdminSession, screens: list[Screen], workers: int) -> None:
    for _ in range(4 * workers):  # each gunicorn worker's first requests pay its imports and template loading
        client.timed("/admin/")
    for screen in screens:
        if not screen.urls:
            print(f"  {screen.name:52} {screen.note}", flush=True)
            continue
        *timed, warm_up = screen.urls if len(screen.urls) > 1 else screen.urls * 2
        for _ in range(workers):  # the screen's imports and templates in each worker, on an object not timed
            client.timed(warm_up)
        for url in timed:
            ms, status = client.timed(url)
            if status == screen.expect:
                screen.latencies.append(ms)
                screen.slowest = max(screen.slowest, (ms, url))
            else:
                screen.failures[status] = screen.failures.get(status, 0) + 1
                if sum(screen.failures.values()) >= 3:  # a broken screen: enough to report it
                    break
        print(f"  {screen.name:52} {summary(screen)}", flush=True)


def summary(screen: Screen) -> str:
    if screen.failures:
        return "FAIL " + ", ".join(f"HTTP {status} x{count}" for status, count in sorted(screen.failures.items()))
    if not screen.latencies:
        return screen.note
    return (f"n={len(screen.latencies):3}  p50 {statistics.median(screen.latencies):7.1f} ms  "
            f"p95 {percentile(screen.latencies, 95):7.1f} ms  slowest {screen.slowest[0]:.0f} ms {screen.slowest[1]}")


def table(screens: list[Screen]) -> str:
    lines = [f"| screen | URL pattern | n | p50 ms | p95 ms | p95 < {TARGET_MS} ms |", "|---|---|---|---|---|---|"]
    for screen in screens:
        n = len(screen.latencies)
        p50 = f"{statistics.median(screen.latencies):.1f}" if n else ""
        p95 = percentile(screen.latencies, 95) if n else None
        if screen.failures:
            verdict = "**FAIL** " + ", ".join(f"HTTP {s} x{c}" for s, c in sorted(screen.failures.items()))
        elif p95 is None:
            verdict = screen.note
        else:
            verdict = "yes" if p95 < TARGET_MS else "**no**"
        lines.append(f"| {screen.name} | `{screen.pattern}` | {n} | {p50} | "
                     f"{'' if p95 is None else f'{p95:.1f}'} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL, help="an already loaded database (kept as it is)")
    parser.add_argument("--requests", type=int, default=30, help="requests a screen")
    parser.add_argument("--only", nargs="*", help="measure only screens whose name contains one of these words")
    parser.add_argument("--migrate", action="store_true", help="run manage.py migrate on the database first")
    server_arguments(parser)
    args = parser.parse_args()

    env = served_environment(args, database_url=args.database_url, cache_url=CACHE_URL, broker_url=BROKER_URL)
    os.environ.update(env)
    import redis

    # Start cold, as a freshly deployed server: what an earlier run cached (the impact page's summed
    # roll-up rows, tokens) must not make this run's first views look warm.
    redis.Redis.from_url(CACHE_URL).flushdb()
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = Path(f"/tmp/served_admin_{port}.log")
    database = args.database_url.rsplit("/", 1)[-1]
    print(f"gunicorn {args.workers} x {args.worker_class}, database {database}, {base}, {os.cpu_count()} cores, "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if args.migrate:
        manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")  # the release step: the admin's CSS through WhiteNoise
    password = os.urandom(18).hex()
    manage(env, "shell", "-c", SUPERUSER.format(username=USERNAME, password=password))
    found = json.loads(manage(env, "shell", "-c", DISCOVER.format(wanted=args.requests + 1)).strip().splitlines()[-1])
    screens, uncovered = screens_for(found, args.requests + 1)
    if args.only:
        screens = [s for s in screens if any(word in s.name for word in args.only)]
    try:
        with processes(env, args, port, log):
            wait_until_ready(base)
            client = AdminSession(base)
            client.log_in(USERNAME, password)
            load_before = os.getloadavg()
            measure(client, screens, args.workers)
        failed = [s.name for s in screens if s.failures]
        slow = [s.name for s in screens if s.latencies and not s.failures and percentile(s.latencies, 95) >= TARGET_MS]
        print(f"\n{table(screens)}\n")
        print(f"load average (1/5/15 min): before {' '.join(f'{x:.2f}' for x in load_before)}, "
              f"after {' '.join(f'{x:.2f}' for x in os.getloadavg())}; database {database}, "
              f"gunicorn {args.workers} x {args.worker_class}, {os.cpu_count()} cores")
        print(f"{len(screens)} screens: {len(failed)} failed, {len(slow)} with p95 >= {TARGET_MS} ms"
              + (f" ({', '.join(slow)})" if slow else ""))
        if uncovered:
            print(f"custom admin URL names not timed (POST-only actions or new views): {', '.join(uncovered)}")
    finally:
        if not args.keep_log:
            log.unlink(missing_ok=True)
        else:
            print(f"log: {log}")


if __name__ == "__main__":
    main()
