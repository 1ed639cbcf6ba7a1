"""Tests for the bundled sample ops inventory (no Django, no ``db`` fixture)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reference import inventory
from reference.inventory import (
    ALIASES,
    REFERENCE_TIME,
    build_inventory,
    connect_readonly,
    ensure_inventory,
)

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
REF = datetime(2026, 1, 15, tzinfo=UTC)


def _ts(value: str) -> datetime:
    assert TS_RE.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows in primary-key order."""
    with contextlib.closing(connect_readonly(path)) as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in inventory.TABLES
        }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("inventory") / "inventory.sqlite3"
    counts = build_inventory(path)
    return path, counts


@pytest.fixture()
def conn(built: tuple[Path, dict[str, int]]):
    with contextlib.closing(connect_readonly(built[0])) as connection:
        yield connection


# --- determinism -----------------------------------------------------------

def test_same_seed_gives_identical_tables(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    build_inventory(a, seed=42)
    build_inventory(b, seed=42)
    assert _dump(a) == _dump(b)
    # SQLite writes deterministically too, so even the files match.
    assert a.read_bytes() == b.read_bytes()


def test_different_seed_differs(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    build_inventory(a, seed=42)
    build_inventory(b, seed=43)
    dump_a, dump_b = _dump(a), _dump(b)
    assert dump_a != dump_b
    assert dump_a["ci"] != dump_b["ci"]
    assert dump_a["meta"] == dump_b["meta"]


def test_default_seed_is_42(tmp_path: Path) -> None:
    build_inventory(tmp_path / "default.sqlite3")
    build_inventory(tmp_path / "explicit.sqlite3", seed=42)
    assert _dump(tmp_path / "default.sqlite3") == _dump(tmp_path / "explicit.sqlite3")


# --- row counts --------------------------------------------------------------

@pytest.mark.parametrize("seed", [42, 0, 7, 2026])
def test_row_counts_in_range(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "inv.sqlite3"
    counts = build_inventory(path, seed=seed)
    assert set(counts) == {"ci", "ci_relation", "metric_sample", "event", "meta"}
    assert 140 <= counts["ci"] <= 160
    assert 280 <= counts["ci_relation"] <= 320
    assert 4000 <= counts["metric_sample"] <= 6000
    assert 750 <= counts["event"] <= 850
    assert counts["meta"] == 2


def test_returned_counts_match_file(built, conn) -> None:
    _, counts = built
    for table, expected in counts.items():
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == expected


def test_build_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    build_inventory(tmp_path / "fast.sqlite3")
    assert time.perf_counter() - start < 1.0


def test_no_temp_files_left_behind(tmp_path: Path) -> None:
    build_inventory(tmp_path / "inv.sqlite3")
    assert [p.name for p in tmp_path.iterdir()] == ["inv.sqlite3"]


# --- schema ------------------------------------------------------------------

def test_schema_columns(conn) -> None:
    expected = {
        "ci": ["id", "name", "ci_type", "environment", "owner_team", "location", "status", "created_at"],
        "ci_relation": ["id", "source_id", "target_id", "relation_type"],
        "metric_sample": ["id", "ci_id", "metric", "ts", "value"],
        "event": ["id", "ci_id", "ts", "severity", "kind", "message"],
        "meta": ["key", "value"],
    }
    for table, columns in expected.items():
        assert [r[1] for r in conn.execute(f"PRAGMA table_info({table})")] == columns


def test_indexes(conn) -> None:
    indexed = set()
    for (name, table) in conn.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ):
        cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})"))
        indexed.add((table, cols))
    assert {
        ("ci", ("name",)),
        ("ci", ("ci_type",)),
        ("ci_relation", ("source_id",)),
        ("ci_relation", ("target_id",)),
        ("metric_sample", ("ci_id", "metric", "ts")),
        ("event", ("ci_id", "ts")),
    } <= indexed


def test_meta(conn) -> None:
    assert dict(conn.execute("SELECT key, value FROM meta")) == {
        "reference_time": "2026-01-15T00:00:00Z",
        "version": "1",
    }
    assert REFERENCE_TIME == "2026-01-15T00:00:00Z"


def test_foreign_keys_hold(conn) -> None:
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


# --- CIs -----------------------------------------------------------------------

NAMED = {
    "app-001": ("checkout-api", "application"),
    "app-002": ("billing-service", "application"),
    "db-001": ("pg-orders-prod", "database"),
    "srv-001": ("web-prod-01", "server"),
    "lb-001": ("lb-edge-01", "load_balancer"),
    "mq-001": ("mq-events-prod", "queue"),
}


def test_named_cis_exist(conn) -> None:
    for ci_id, (name, ci_type) in NAMED.items():
        row = conn.execute(
            "SELECT name, ci_type, environment, status FROM ci WHERE id = ?", (ci_id,)
        ).fetchone()
        assert row == (name, ci_type, "prod", "active")


def test_ci_vocabulary(conn) -> None:
    prefixes = {"server": "srv", "database": "db", "application": "app",
                "load_balancer": "lb", "queue": "mq"}
    for ci_id, name, ci_type, env, team, location, status, created in conn.execute("SELECT * FROM ci"):
        assert ci_type in prefixes
        assert re.fullmatch(rf"{prefixes[ci_type]}-\d{{3}}", ci_id)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert env in {"prod", "staging", "dev"}
        assert status in {"active", "maintenance", "retired"}
        assert team and location
        assert _ts(created) < REF


def test_aliases_point_at_named_cis(conn) -> None:
    assert ALIASES["checkout"] == "app-001"
    assert ALIASES["orders db"] == "db-001"
    assert ALIASES["billing"] == "app-002"
    assert ALIASES["edge lb"] == "lb-001"
    assert ALIASES["events queue"] == "mq-001"
    assert ALIASES["web01"] == "srv-001"
    ids = {r[0] for r in conn.execute("SELECT id FROM ci")}
    assert set(ALIASES.values()) <= ids


# --- relations -----------------------------------------------------------------

def test_dependency_path_exists(conn) -> None:
    edges = set(conn.execute("SELECT source_id, target_id, relation_type FROM ci_relation"))
    assert {
        ("lb-001", "app-001", "connects_to"),
        ("app-001", "db-001", "depends_on"),
        ("app-001", "srv-001", "runs_on"),
        ("app-001", "mq-001", "depends_on"),
        ("app-002", "db-001", "depends_on"),
    } <= edges


def test_no_self_loops_or_duplicates(conn) -> None:
    assert conn.execute("SELECT COUNT(*) FROM ci_relation WHERE source_id = target_id").fetchone()[0] == 0
    pairs = conn.execute("SELECT source_id, target_id FROM ci_relation").fetchall()
    assert len(pairs) == len(set(pairs))


def test_relation_types(conn) -> None:
    types = {r[0] for r in conn.execute("SELECT DISTINCT relation_type FROM ci_relation")}
    assert types == {"runs_on", "depends_on", "connects_to", "hosted_by"}


def test_checkout_outgoing_edges_are_seed_independent(tmp_path: Path) -> None:
    def outgoing(path: Path) -> list[tuple]:
        with contextlib.closing(connect_readonly(path)) as c:
            return c.execute(
                "SELECT target_id, relation_type FROM ci_relation "
                "WHERE source_id = 'app-001' ORDER BY target_id"
            ).fetchall()

    build_inventory(tmp_path / "a.sqlite3", seed=1)
    build_inventory(tmp_path / "b.sqlite3", seed=2)
    assert outgoing(tmp_path / "a.sqlite3") == outgoing(tmp_path / "b.sqlite3")


# --- metrics -------------------------------------------------------------------

def test_metric_timestamps_hourly_within_last_7_days(conn) -> None:
    lo, hi = REF - timedelta(days=7), REF
    for (ts,) in conn.execute("SELECT DISTINCT ts FROM metric_sample"):
        moment = _ts(ts)
        assert lo <= moment < hi
        assert moment.minute == 0 and moment.second == 0
    # Every series is complete: 168 hourly points.
    counts = {r[0] for r in conn.execute(
        "SELECT COUNT(*) FROM metric_sample GROUP BY ci_id, metric"
    )}
    assert counts == {168}


def test_metric_value_ranges(conn) -> None:
    bounds = {"cpu_pct": (0, 100), "mem_pct": (0, 100), "latency_ms": (5, 900), "error_rate": (0, 5)}
    rows = conn.execute("SELECT metric, MIN(value), MAX(value) FROM metric_sample GROUP BY metric").fetchall()
    assert {r[0] for r in rows} == set(bounds)
    for metric, low, high in rows:
        assert bounds[metric][0] <= low <= high <= bounds[metric][1], metric
    for (value,) in conn.execute("SELECT value FROM metric_sample WHERE metric LIKE '%_pct'"):
        assert round(value, 1) == value


def test_checkout_latency_spike_on_last_day(conn) -> None:
    last_day = _fmt(REF - timedelta(days=1))
    before = conn.execute(
        "SELECT MAX(value) FROM metric_sample WHERE ci_id = 'app-001' "
        "AND metric = 'latency_ms' AND ts < ?", (last_day,)
    ).fetchone()[0]
    ts, peak = conn.execute(
        "SELECT ts, value FROM metric_sample WHERE ci_id = 'app-001' "
        "AND metric = 'latency_ms' ORDER BY value DESC LIMIT 1"
    ).fetchone()
    assert ts >= last_day
    assert peak > 2 * before


# --- events --------------------------------------------------------------------

def test_event_timestamps_and_vocabulary(conn) -> None:
    lo = REF - timedelta(days=30)
    for ci_id, ts, severity, kind, message in conn.execute(
        "SELECT ci_id, ts, severity, kind, message FROM event"
    ):
        assert lo <= _ts(ts) < REF
        assert severity in {"info", "warning", "critical"}
        assert kind in {"deploy", "incident", "alert", "change", "restart"}
        assert message


def test_event_ids_are_chronological(conn) -> None:
    timestamps = [r[0] for r in conn.execute("SELECT ts FROM event ORDER BY id")]
    assert timestamps == sorted(timestamps)


def test_orders_db_has_recent_critical_incidents(conn) -> None:
    since = _fmt(REF - timedelta(days=7))
    n = conn.execute(
        "SELECT COUNT(*) FROM event WHERE ci_id = 'db-001' AND severity = 'critical' "
        "AND kind = 'incident' AND ts >= ?", (since,)
    ).fetchone()[0]
    assert n >= 3


# --- read-only connection -------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "INSERT INTO meta (key, value) VALUES ('x', 'y')",
    "DELETE FROM event",
    "UPDATE ci SET status = 'retired'",
    "CREATE TABLE t (x)",
])
def test_readonly_connection_rejects_writes(conn, sql: str) -> None:
    with pytest.raises(sqlite3.OperationalError):
        conn.execute(sql)


def test_readonly_refuses_missing_file(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        connect_readonly(tmp_path / "missing.sqlite3")
    assert not (tmp_path / "missing.sqlite3").exists()


def test_readonly_handles_odd_path_characters(tmp_path: Path) -> None:
    path = tmp_path / "we?ird #dir %20" / "inv.sqlite3"
    build_inventory(path)
    with contextlib.closing(connect_readonly(path)) as c:
        assert c.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 2


# --- ensure_inventory -----------------------------------------------------------

def test_ensure_builds_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "inv.sqlite3"
    assert ensure_inventory(path) == path
    assert path.is_file()
    assert _dump(path)["meta"] == [("reference_time", REFERENCE_TIME), ("version", "1")]


def test_ensure_does_not_rebuild_existing(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite3"
    build_inventory(path)
    before = path.stat().st_mtime_ns
    inode = path.stat().st_ino
    time.sleep(0.02)
    assert ensure_inventory(path) == path
    assert path.stat().st_mtime_ns == before
    assert path.stat().st_ino == inode


def test_ensure_rebuilds_on_version_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite3"
    build_inventory(path)
    with contextlib.closing(sqlite3.connect(path)) as rw, rw:
        rw.execute("UPDATE meta SET value = '0' WHERE key = 'version'")
    ensure_inventory(path)
    assert dict(_dump(path)["meta"])["version"] == "1"


def test_ensure_rebuilds_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    ensure_inventory(path)
    assert dict(_dump(path)["meta"])["version"] == "1"


def test_concurrent_ensure(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite3"
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            ensure_inventory(path)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with contextlib.closing(connect_readonly(path)) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT COUNT(*) FROM ci").fetchone()[0] == 150
    assert [p.name for p in tmp_path.iterdir()] == ["inv.sqlite3"]
