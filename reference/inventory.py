"""Deterministic generator for the bundled sample "ops inventory" database.

The reference pipeline answers questions about configuration items (CIs),
their relations, metric samples and events.  Its answers are only checkable
if the data underneath never changes, so everything here is derived from a
seeded ``random.Random`` and the fixed :data:`REFERENCE_TIME`, never from the
wall clock or the global ``random`` module.

Only the standard library is used so that the file can be (re)built anywhere,
including inside a bare test run without Django.

Public API:

* :data:`REFERENCE_TIME` - the "now" of the sample data.
* :func:`build_inventory` - write a fresh database atomically.
* :func:`ensure_inventory` - build the database only if missing or outdated.
* :func:`connect_readonly` - open it so that any write fails.
* :data:`ALIASES` - human phrases mapped to CI ids.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

__all__ = [
    "ALIASES",
    "DEFAULT_SEED",
    "REFERENCE_TIME",
    "SCHEMA_VERSION",
    "TABLES",
    "build_inventory",
    "connect_readonly",
    "ensure_inventory",
]

REFERENCE_TIME: str = "2026-01-15T00:00:00Z"
"""The fixed "now" of the data set; every timestamp lies before it."""

SCHEMA_VERSION: str = "1"
"""Stored in ``meta.version``; bump it whenever the schema or the data changes
so that :func:`ensure_inventory` rebuilds files written by older code."""

DEFAULT_SEED: int = 42

TABLES: tuple[str, ...] = ("ci", "ci_relation", "metric_sample", "event", "meta")

ALIASES: dict[str, str] = {
    "checkout": "app-001",
    "checkout service": "app-001",
    "billing": "app-002",
    "orders db": "db-001",
    "orders database": "db-001",
    "edge lb": "lb-001",
    "edge load balancer": "lb-001",
    "events queue": "mq-001",
    "web01": "srv-001",
}
"""Human aliases for the named CIs; their ids are stable across seeds."""

# --------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE ci (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    ci_type TEXT NOT NULL,
    environment TEXT NOT NULL,
    owner_team TEXT NOT NULL,
    location TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE ci_relation (
    id INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES ci(id),
    target_id TEXT NOT NULL REFERENCES ci(id),
    relation_type TEXT NOT NULL
);
CREATE TABLE metric_sample (
    id INTEGER PRIMARY KEY,
    ci_id TEXT NOT NULL REFERENCES ci(id),
    metric TEXT NOT NULL,
    ts TEXT NOT NULL,
    value REAL NOT NULL
);
CREATE TABLE event (
    id INTEGER PRIMARY KEY,
    ci_id TEXT NOT NULL REFERENCES ci(id),
    ts TEXT NOT NULL,
    severity TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE INDEX idx_ci_name ON ci(name);
CREATE INDEX idx_ci_type ON ci(ci_type);
CREATE INDEX idx_ci_relation_source ON ci_relation(source_id);
CREATE INDEX idx_ci_relation_target ON ci_relation(target_id);
CREATE INDEX idx_metric_sample_ci_metric_ts ON metric_sample(ci_id, metric, ts);
CREATE INDEX idx_event_ci_ts ON event(ci_id, ts);
"""

# --------------------------------------------------------------------------
# Vocabulary and sizes
# --------------------------------------------------------------------------

CI_TYPES: tuple[str, ...] = ("server", "database", "application", "load_balancer", "queue")
ENVIRONMENTS: tuple[str, ...] = ("prod", "staging", "dev")
STATUSES: tuple[str, ...] = ("active", "maintenance", "retired")
RELATION_TYPES: tuple[str, ...] = ("runs_on", "depends_on", "connects_to", "hosted_by")
METRICS: tuple[str, ...] = ("cpu_pct", "mem_pct", "latency_ms", "error_rate")
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
EVENT_KINDS: tuple[str, ...] = ("deploy", "incident", "alert", "change", "restart")

_ID_PREFIX = {
    "server": "srv",
    "database": "db",
    "application": "app",
    "load_balancer": "lb",
    "queue": "mq",
}
# Per-type totals (named CIs included); they sum to 150.
_CI_COUNTS = {"server": 55, "database": 22, "application": 45, "load_balancer": 12, "queue": 16}
_RELATION_TARGET = 300
_EVENT_TARGET = 800
_EXTRA_MONITORED_CIS = 6  # on top of the named CIs; keeps metric_sample at ~4.5k-5.5k
_METRIC_HOURS = 7 * 24
_EVENT_WINDOW = timedelta(days=30)

_LOCATIONS = ("us-east-1a", "us-east-1b", "eu-west-1a", "eu-west-1b", "ap-south-1a")
_TEAMS_BY_TYPE = {
    "server": ("platform", "sre"),
    "database": ("data", "dba"),
    "application": ("checkout", "payments", "identity", "search", "growth"),
    "load_balancer": ("network", "platform"),
    "queue": ("messaging", "platform"),
}
_SERVER_ROLES = ("web", "api", "worker", "batch", "cache", "search", "build", "etl")
_DB_ENGINES = ("pg", "mysql", "mongo", "redis")
_DB_DOMAINS = (
    "orders", "users", "inventory", "payments", "catalog", "analytics",
    "sessions", "billing", "shipping", "ledger", "auth", "reviews",
)
_APP_DOMAINS = (
    "cart", "catalog", "search", "inventory", "shipping", "payments", "auth",
    "profile", "notifications", "recommendations", "pricing", "reviews",
    "orders", "ledger", "fraud", "reporting", "media", "checkout", "billing",
)
_APP_SUFFIXES = ("api", "service", "worker", "web")
_LB_ZONES = ("edge", "internal", "api", "admin", "partner")
_QUEUE_TOPICS = (
    "events", "orders", "emails", "payments", "audit", "notifications",
    "jobs", "telemetry", "webhooks", "billing",
)

# Weighted picks are expressed as parallel (values, weights) tuples so that
# ``Random.choices`` stays the only sampling primitive.
_ENV_WEIGHTS = (ENVIRONMENTS, (5, 3, 2))
_STATUS_WEIGHTS = (STATUSES, (85, 10, 5))
_KIND_WEIGHTS = (EVENT_KINDS, (20, 10, 40, 15, 15))
# Probability that an event of a kind is warning / critical (rest is info).
_SEVERITY_ODDS = {
    "deploy": (0.10, 0.00),
    "change": (0.20, 0.00),
    "restart": (0.40, 0.00),
    "alert": (0.70, 0.30),
    "incident": (0.50, 0.50),
}
# Metrics recorded per CI type: a real monitoring stack does not collect
# everything everywhere, and the pipeline must cope with missing series.
_METRICS_BY_TYPE = {
    "server": ("cpu_pct", "mem_pct"),
    "database": ("cpu_pct", "mem_pct", "latency_ms"),
    "application": ("cpu_pct", "latency_ms", "error_rate"),
    "load_balancer": ("latency_ms", "error_rate"),
    "queue": ("mem_pct", "latency_ms"),
}
# (base_low, base_high, diurnal amplitude, noise as fraction of base)
_METRIC_SHAPE = {
    ("cpu_pct", None): (15.0, 55.0, 0.30, 0.08),
    ("mem_pct", None): (40.0, 75.0, 0.06, 0.03),
    ("error_rate", None): (0.05, 0.50, 0.30, 0.15),
    ("latency_ms", "application"): (40.0, 180.0, 0.25, 0.10),
    ("latency_ms", "database"): (5.0, 25.0, 0.20, 0.10),
    ("latency_ms", "load_balancer"): (8.0, 40.0, 0.20, 0.10),
    ("latency_ms", "queue"): (6.0, 30.0, 0.20, 0.10),
}
_METRIC_BOUNDS = {
    "cpu_pct": (0.0, 100.0),
    "mem_pct": (0.0, 100.0),
    "latency_ms": (5.0, 900.0),
    "error_rate": (0.0, 5.0),
}
_METRIC_DECIMALS = {"cpu_pct": 1, "mem_pct": 1, "latency_ms": 1, "error_rate": 3}
# Hand-written daily load curve (UTC hour -> factor in [-1, 1], peak mid
# afternoon).  A table instead of math.sin keeps values independent of the
# platform's libm, so the same seed gives the same bytes everywhere.
_DIURNAL = (
    -0.8, -0.9, -1.0, -0.9, -0.8, -0.6, -0.3, 0.0, 0.3, 0.5, 0.7, 0.8,
    0.9, 1.0, 1.0, 0.9, 0.8, 0.6, 0.4, 0.2, 0.0, -0.2, -0.4, -0.6,
)
assert len(_DIURNAL) == 24


# --------------------------------------------------------------------------
# Named CIs and the hand-written incident story
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class _CI:
    id: str
    name: str
    ci_type: str
    environment: str
    owner_team: str
    location: str
    status: str
    created_at: str

    def row(self) -> tuple[str, ...]:
        return (
            self.id, self.name, self.ci_type, self.environment,
            self.owner_team, self.location, self.status, self.created_at,
        )


# These ids, names and relations are fixed regardless of seed because tests,
# docs and ALIASES refer to them.
_NAMED_CIS: tuple[_CI, ...] = (
    _CI("app-001", "checkout-api", "application", "prod", "checkout", "us-east-1a", "active", "2024-03-11T09:00:00Z"),
    _CI("app-002", "billing-service", "application", "prod", "payments", "us-east-1a", "active", "2024-05-02T14:30:00Z"),
    _CI("db-001", "pg-orders-prod", "database", "prod", "data", "us-east-1a", "active", "2023-11-20T08:15:00Z"),
    _CI("srv-001", "web-prod-01", "server", "prod", "platform", "us-east-1a", "active", "2023-09-04T10:00:00Z"),
    _CI("lb-001", "lb-edge-01", "load_balancer", "prod", "network", "us-east-1a", "active", "2023-08-21T12:00:00Z"),
    _CI("mq-001", "mq-events-prod", "queue", "prod", "messaging", "us-east-1b", "active", "2024-01-15T16:45:00Z"),
)
_NAMED_IDS = frozenset(ci.id for ci in _NAMED_CIS)

# The guaranteed dependency path: edge lb -> checkout -> orders db / queue /
# host, plus billing sharing the orders database.
_CORE_RELATIONS: tuple[tuple[str, str, str], ...] = (
    ("lb-001", "app-001", "connects_to"),
    ("lb-001", "app-002", "connects_to"),
    ("app-001", "srv-001", "runs_on"),
    ("app-001", "db-001", "depends_on"),
    ("app-001", "mq-001", "depends_on"),
    ("app-001", "app-002", "depends_on"),
    ("app-002", "srv-001", "runs_on"),
    ("app-002", "db-001", "depends_on"),
)
# The named apps only get the hand-written outgoing edges above, so questions
# like "what does checkout-api depend on" have a seed-independent answer.
_FIXED_OUTGOING = frozenset({"app-001", "app-002"})

# The last-day incident: orders db trouble makes checkout slow.
_SPIKE_START = "2026-01-14T13:00:00Z"
_SPIKE_END = "2026-01-14T19:00:00Z"  # inclusive

_STORY_EVENTS: tuple[tuple[str, str, str, str, str], ...] = (
    # (ci_id, ts, severity, kind, message)
    ("db-001", "2026-01-09T03:12:00Z", "critical", "incident", "pg-orders-prod: primary failover triggered by health check"),
    ("app-001", "2026-01-14T12:30:00Z", "info", "deploy", "Deployed checkout-api v2.14.0"),
    ("db-001", "2026-01-14T13:05:00Z", "critical", "incident", "pg-orders-prod: connection pool exhausted"),
    ("app-001", "2026-01-14T13:20:00Z", "critical", "alert", "latency_ms p95 above 500 ms on checkout-api"),
    ("db-001", "2026-01-14T15:40:00Z", "critical", "incident", "pg-orders-prod: replication lag above 120 s"),
    ("db-001", "2026-01-14T18:10:00Z", "critical", "incident", "pg-orders-prod: disk I/O saturation"),
    ("app-001", "2026-01-14T19:30:00Z", "info", "restart", "Restarted checkout-api pods after latency recovery"),
)


# --------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------

def _parse_ts(value: str) -> datetime:
    """Parse our ``YYYY-MM-DDTHH:MM:SSZ`` strings into aware UTC datetimes."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _format_ts(value: datetime) -> str:
    """Format as ISO 8601 UTC with ``Z``: lexical order equals time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_REF = _parse_ts(REFERENCE_TIME)


# --------------------------------------------------------------------------
# Generation (pure: seed in, rows out)
# --------------------------------------------------------------------------

def _claim(name: str, used: set[str]) -> str:
    """Return ``name`` or the first free ``name-NN`` and mark it used."""
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}-{n:02d}", n + 1
    used.add(candidate)
    return candidate


def _claim_numbered(base: str, used: set[str]) -> str:
    """Return the first free ``base-NN`` (NN from 01) and mark it used."""
    n = 1
    while f"{base}-{n:02d}" in used:
        n += 1
    used.add(f"{base}-{n:02d}")
    return f"{base}-{n:02d}"


def _ci_name(rng: random.Random, ci_type: str, env: str, used: set[str]) -> str:
    """Invent a readable, unique hostname-style name for a CI."""
    if ci_type == "server":
        return _claim_numbered(f"{rng.choice(_SERVER_ROLES)}-{env}", used)
    if ci_type == "database":
        return _claim(f"{rng.choice(_DB_ENGINES)}-{rng.choice(_DB_DOMAINS)}-{env}", used)
    if ci_type == "application":
        base = f"{rng.choice(_APP_DOMAINS)}-{rng.choice(_APP_SUFFIXES)}"
        # Prod apps carry the bare service name, like checkout-api.
        return _claim(base if env == "prod" else f"{base}-{env}", used)
    if ci_type == "load_balancer":
        zone = rng.choice(_LB_ZONES)
        return _claim_numbered(f"lb-{zone}" if env == "prod" else f"lb-{zone}-{env}", used)
    return _claim(f"mq-{rng.choice(_QUEUE_TOPICS)}-{env}", used)


def _generate_cis(rng: random.Random) -> list[_CI]:
    """Named CIs plus generated ones up to the per-type totals, in id order."""
    used_names = {ci.name for ci in _NAMED_CIS}
    cis = list(_NAMED_CIS)
    for ci_type in CI_TYPES:
        prefix = _ID_PREFIX[ci_type]
        named = sum(1 for ci in _NAMED_CIS if ci.ci_type == ci_type)
        for number in range(named + 1, _CI_COUNTS[ci_type] + 1):
            env = rng.choices(*_ENV_WEIGHTS)[0]
            created = _REF - timedelta(days=rng.randint(30, 1000), hours=rng.randint(0, 23))
            cis.append(_CI(
                id=f"{prefix}-{number:03d}",
                name=_ci_name(rng, ci_type, env, used_names),
                ci_type=ci_type,
                environment=env,
                owner_team=rng.choice(_TEAMS_BY_TYPE[ci_type]),
                location=rng.choice(_LOCATIONS),
                status=rng.choices(*_STATUS_WEIGHTS)[0],
                created_at=_format_ts(created),
            ))
    cis.sort(key=lambda ci: ci.id)
    return cis


class _RelationSet:
    """Ordered relation list that refuses self loops and duplicate pairs."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []
        self._pairs: set[tuple[str, str]] = set()

    def add(self, source: str, target: str, relation_type: str) -> bool:
        # One edge per ordered pair keeps graph questions unambiguous.
        if source == target or (source, target) in self._pairs:
            return False
        self._pairs.add((source, target))
        self.rows.append((source, target, relation_type))
        return True

    def __len__(self) -> int:
        return len(self.rows)


def _pool(cis: list[_CI], ci_type: str, env: str) -> list[str]:
    """Ids of a type in an environment (falling back to any environment)."""
    same_env = [ci.id for ci in cis if ci.ci_type == ci_type and ci.environment == env]
    return same_env or [ci.id for ci in cis if ci.ci_type == ci_type]


def _generate_relations(rng: random.Random, cis: list[_CI]) -> list[tuple[str, str, str]]:
    """Topology edges: apps on servers, apps on dbs/queues, dbs on servers..."""
    rels = _RelationSet()
    for edge in _CORE_RELATIONS:
        rels.add(*edge)

    for ci in cis:
        if ci.id in _FIXED_OUTGOING:
            continue
        if ci.ci_type == "application":
            for srv in rng.sample(_pool(cis, "server", ci.environment), rng.randint(1, 2)):
                rels.add(ci.id, srv, "runs_on")
            rels.add(ci.id, rng.choice(_pool(cis, "database", ci.environment)), "depends_on")
            if rng.random() < 0.5:
                rels.add(ci.id, rng.choice(_pool(cis, "queue", ci.environment)), "depends_on")
        elif ci.ci_type in ("database", "queue"):
            rels.add(ci.id, rng.choice(_pool(cis, "server", ci.environment)), "hosted_by")
        elif ci.ci_type == "load_balancer":
            apps = _pool(cis, "application", ci.environment)
            for app in rng.sample(apps, min(len(apps), rng.randint(2, 4))):
                rels.add(ci.id, app, "connects_to")

    _fill_relations(rng, cis, rels)
    return rels.rows


def _fill_relations(rng: random.Random, cis: list[_CI], rels: _RelationSet) -> None:
    """Top up with app->app and server->server edges to reach the target.

    Edges always point from a higher id to a lower id of the same type, so
    these layers stay acyclic and naive graph walks terminate.
    """
    candidates = [ci for ci in cis if ci.ci_type in ("application", "server")]
    attempts = 0
    while len(rels) < _RELATION_TARGET and attempts < 10_000:
        attempts += 1
        source = rng.choice(candidates)
        if source.id in _FIXED_OUTGOING:
            continue
        pool = [i for i in _pool(cis, source.ci_type, source.environment) if i < source.id]
        if not pool:
            continue
        relation = "depends_on" if source.ci_type == "application" else "connects_to"
        rels.add(source.id, rng.choice(pool), relation)


def _hourly_timestamps() -> list[datetime]:
    """The 168 whole hours in [REFERENCE_TIME - 7 days, REFERENCE_TIME)."""
    return [_REF - timedelta(hours=h) for h in range(_METRIC_HOURS, 0, -1)]


def _metric_value(
    rng: random.Random, base: float, amp: float, noise: float, hour: int, metric: str
) -> float:
    """Base level with a daily curve and uniform noise, clamped and rounded."""
    raw = base * (1.0 + amp * _DIURNAL[hour]) + rng.uniform(-noise, noise) * base
    low, high = _METRIC_BOUNDS[metric]
    return round(min(high, max(low, raw)), _METRIC_DECIMALS[metric])


def _spike_value(rng: random.Random, ci_id: str, metric: str) -> float | None:
    """Override for the last-day incident window, or None outside the story."""
    if ci_id == "app-001" and metric == "latency_ms":
        return round(rng.uniform(620.0, 880.0), 1)
    if ci_id == "app-001" and metric == "error_rate":
        return round(rng.uniform(1.5, 4.0), 3)
    if ci_id == "db-001" and metric == "latency_ms":
        return round(rng.uniform(150.0, 400.0), 1)
    return None


def _generate_metrics(rng: random.Random, cis: list[_CI]) -> list[tuple[str, str, str, float]]:
    """Hourly series for the named CIs plus a few sampled prod CIs."""
    eligible = [ci for ci in cis if ci.id not in _NAMED_IDS
                and ci.environment == "prod" and ci.status == "active"]
    extra = rng.sample(eligible, min(_EXTRA_MONITORED_CIS, len(eligible)))
    monitored = sorted([*_NAMED_CIS, *extra], key=lambda ci: ci.id)

    spike_start, spike_end = _parse_ts(_SPIKE_START), _parse_ts(_SPIKE_END)
    hours = _hourly_timestamps()
    samples: list[tuple[str, str, str, float]] = []
    for ci in monitored:
        for metric in _METRICS_BY_TYPE[ci.ci_type]:
            key = (metric, ci.ci_type) if metric == "latency_ms" else (metric, None)
            base_low, base_high, amp, noise = _METRIC_SHAPE[key]
            base = rng.uniform(base_low, base_high)
            for ts in hours:
                value = _metric_value(rng, base, amp, noise, ts.hour, metric)
                if spike_start <= ts <= spike_end:
                    spike = _spike_value(rng, ci.id, metric)
                    if spike is not None:
                        value = spike
                samples.append((ci.id, metric, _format_ts(ts), value))
    return samples


def _event_message(rng: random.Random, kind: str, ci: _CI) -> str:
    """A short, realistic message for a random event."""
    name = ci.name
    if kind == "deploy":
        return f"Deployed {name} v{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    if kind == "change":
        return rng.choice((
            f"Change CHG{rng.randint(10000, 99999)} applied to {name}",
            f"Patched OS packages on {name}",
            f"Rotated TLS certificate on {name}",
            f"Resized {name}",
        ))
    if kind == "restart":
        return rng.choice((
            f"Restarted {name} after failed health check",
            f"Scheduled restart of {name}",
            f"{name} restarted by orchestrator (OOM)",
        ))
    if kind == "alert":
        metric = rng.choice(_METRICS_BY_TYPE[ci.ci_type])
        return f"{metric} above threshold on {name}"
    return rng.choice((
        f"{name}: elevated error rate",
        f"{name}: service degraded",
        f"{name}: connection timeouts",
        f"{name}: disk usage above 90%",
    ))


def _event_severity(rng: random.Random, kind: str) -> str:
    """Severity consistent with the kind (deploys are never critical)."""
    warning, critical = _SEVERITY_ODDS[kind]
    roll = rng.random()
    if roll < critical:
        return "critical"
    if roll < critical + warning:
        return "warning"
    return "info"


def _generate_events(rng: random.Random, cis: list[_CI]) -> list[tuple[str, str, str, str, str]]:
    """Story events plus random ones over 30 days, sorted by time."""
    # Retired CIs do not emit events; prod is noisier than staging or dev.
    live = [ci for ci in cis if ci.status != "retired"]
    weights = [{"prod": 3, "staging": 2, "dev": 1}[ci.environment] for ci in live]
    window_seconds = int(_EVENT_WINDOW.total_seconds())

    events = list(_STORY_EVENTS)
    while len(events) < _EVENT_TARGET:
        ci = rng.choices(live, weights)[0]
        kind = rng.choices(*_KIND_WEIGHTS)[0]
        # randrange upper bound is exclusive: ts stays strictly after now-30d.
        ts = _REF - timedelta(seconds=rng.randrange(60, window_seconds))
        events.append((ci.id, _format_ts(ts), _event_severity(rng, kind), kind,
                       _event_message(rng, kind, ci)))
    # Chronological ids make "latest events" queries natural.
    events.sort(key=lambda e: (e[1], e[0], e[3], e[4], e[2]))
    return events


@dataclass(frozen=True)
class _Dataset:
    cis: list[_CI]
    relations: list[tuple[str, str, str]]
    metrics: list[tuple[str, str, str, float]]
    events: list[tuple[str, str, str, str, str]]


def _generate(seed: int) -> _Dataset:
    """All rows for a seed. One Random instance, consumed in a fixed order."""
    rng = random.Random(seed)
    cis = _generate_cis(rng)
    return _Dataset(
        cis=cis,
        relations=_generate_relations(rng, cis),
        metrics=_generate_metrics(rng, cis),
        events=_generate_events(rng, cis),
    )


# --------------------------------------------------------------------------
# Writing and opening
# --------------------------------------------------------------------------

def _write_database(path: str, data: _Dataset) -> dict[str, int]:
    """Create the schema and insert all rows into a brand-new file."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        # Nothing else can see the temp file, so journaling and syncing per
        # statement would only cost time; we fsync once before the rename.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA foreign_keys = ON")  # catch generator bugs early
        conn.executescript(_SCHEMA)
        with conn:
            conn.executemany("INSERT INTO ci VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [ci.row() for ci in data.cis])
            conn.executemany("INSERT INTO ci_relation VALUES (?, ?, ?, ?)",
                             [(i, *r) for i, r in enumerate(data.relations, start=1)])
            conn.executemany("INSERT INTO metric_sample VALUES (?, ?, ?, ?, ?)",
                             [(i, *m) for i, m in enumerate(data.metrics, start=1)])
            conn.executemany("INSERT INTO event VALUES (?, ?, ?, ?, ?, ?)",
                             [(i, *e) for i, e in enumerate(data.events, start=1)])
            conn.executemany("INSERT INTO meta VALUES (?, ?)",
                             [("reference_time", REFERENCE_TIME), ("version", SCHEMA_VERSION)])
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def _fsync_file(path: str) -> None:
    """Flush file contents so the rename never exposes a half-written file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def build_inventory(path: str | os.PathLike[str], *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Build the sample database at ``path`` atomically; return row counts.

    The file is written under a temporary name next to ``path`` and moved into
    place with ``os.replace``, so readers only ever see a complete database.
    The temporary name is ``<path>.<pid>.<random>.tmp`` rather than a fixed
    ``<path>.tmp``: with a shared name, two concurrent builders would write
    into the same file and could publish a corrupt result.

    The same ``seed`` always yields identical rows.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = _generate(seed)
    tmp = f"{target}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        counts = _write_database(tmp, data)
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return counts


def _stored_version(path: Path) -> str | None:
    """``meta.version`` of an existing file, or None if missing/unreadable."""
    if not path.is_file():
        return None
    try:
        with contextlib.closing(connect_readonly(path)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    except sqlite3.Error:
        # Corrupt or foreign file: treat it as absent and rebuild over it.
        return None
    return row[0] if row else None


def ensure_inventory(path: str | os.PathLike[str]) -> Path:
    """Make sure a current inventory exists at ``path``; return the path.

    An existing file with the current ``meta.version`` is left untouched
    (not even its mtime changes).  Concurrent callers may both build, but each
    publishes a complete file via ``os.replace`` and the contents are
    identical, so whichever rename lands last is equally correct.
    """
    target = Path(path)
    if _stored_version(target) != SCHEMA_VERSION:
        build_inventory(target)
    return target


def connect_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open the inventory read-only; any write raises ``sqlite3.OperationalError``.

    ``mode=ro`` is enforced by SQLite itself (and also refuses to create a
    missing file).  The path is percent-quoted because ``?`` or ``#`` in a
    directory name would otherwise be parsed as URI syntax.
    """
    uri = f"file:{quote(os.path.abspath(os.fspath(path)))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    # Belt and braces: also refuse writes at the connection level.
    conn.execute("PRAGMA query_only = ON")
    return conn
