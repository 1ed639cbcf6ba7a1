"""Read-only execution of ``query`` assets against a ``source`` asset.

Three guards, each enough on its own to stop a write: the SQL must parse as
exactly one ``SELECT`` with no write keyword and only tables the ``schema``
asset lists; the connection itself is read-only (SQLite ``mode=ro`` +
``query_only``; PostgreSQL ``READ ONLY`` transactions); and every statement
runs under a timeout and a row limit.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlparse
from django.conf import settings

from inspector.pipeline.base import HandlerError
from inspector.reference.inventory import connect_readonly, ensure_inventory

_WRITE_WORDS = {
    "INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "CREATE", "REPLACE", "ATTACH", "DETACH", "PRAGMA",
    "VACUUM", "GRANT", "REVOKE", "TRUNCATE", "COPY", "MERGE", "UPSERT", "REINDEX", "CALL", "EXECUTE",
}
_TABLE_REF = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
_CTE_NAME = re.compile(r"(?:\bwith\s+(?:recursive\s+)?|,\s*)([a-z_][a-z0-9_]*)\s*(?:\([^)]*\))?\s+as\s*\(", re.IGNORECASE)
_NAMED_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")


class QueryRejected(HandlerError):
    """The SQL of a query asset is not a single read-only SELECT."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    elapsed_ms: float


def check_read_only(sql: str, allowed_tables: set[str] | None = None) -> None:
    """Raise ``QueryRejected`` unless ``sql`` is one SELECT over allowed tables."""
    body = sql.strip().rstrip(";").strip()
    if ";" in body:
        raise QueryRejected("query rejected: more than one statement (';' is not allowed inside a query)")
    statements = [s for s in sqlparse.parse(body) if s.value.strip()]
    if len(statements) != 1:
        raise QueryRejected("query rejected: expected exactly one statement")
    statement = statements[0]
    if statement.get_type() != "SELECT":
        raise QueryRejected(f"query rejected: only SELECT is allowed, got {statement.get_type()}")
    words = {token.normalized for token in statement.flatten() if token.ttype in sqlparse.tokens.Keyword
             or token.ttype in sqlparse.tokens.Keyword.DML or token.ttype in sqlparse.tokens.Keyword.DDL}
    forbidden = sorted(words & _WRITE_WORDS)
    if forbidden:
        raise QueryRejected(f"query rejected: write keyword(s) {', '.join(forbidden)} not allowed")
    if allowed_tables:
        ctes = {name.lower() for name in _CTE_NAME.findall(body)}
        used = {name.lower() for name in _TABLE_REF.findall(body)} - ctes
        unknown = sorted(used - {t.lower() for t in allowed_tables})
        if unknown:
            raise QueryRejected(f"query rejected: table(s) {', '.join(unknown)} not in the schema asset")


def param_names(sql: str) -> list[str]:
    return list(dict.fromkeys(_NAMED_PARAM.findall(sql)))


def run_query(
    *, source: dict[str, Any], sql: str, params: dict[str, Any], row_limit: int, timeout_ms: int
) -> QueryResult:
    """Run a checked SELECT on the source; fetch at most ``row_limit`` rows."""
    engine = source.get("engine", "bundled")
    if engine in ("bundled", "sqlite"):
        return _run_sqlite(_sqlite_path(source), sql, params, row_limit, timeout_ms)
    if engine == "postgresql":
        return _run_postgresql(source, sql, params, row_limit, timeout_ms)
    raise HandlerError(f"unsupported source engine {engine!r}")


def _sqlite_path(source: dict[str, Any]) -> Path:
    if source.get("engine") == "bundled" or not source.get("url"):
        return ensure_inventory(settings.OPS_INVENTORY_PATH)
    url = source["url"]
    if not url.startswith("sqlite:///"):
        raise HandlerError(f"a sqlite source needs a 'sqlite:///path' url, got {url!r}")
    path = Path(url[len("sqlite:///"):])
    if not path.exists():
        raise HandlerError(f"sqlite source file {path} does not exist")
    return path


def _run_sqlite(path: Path, sql: str, params: dict[str, Any], row_limit: int, timeout_ms: int) -> QueryResult:
    started = time.perf_counter()
    deadline = started + timeout_ms / 1000
    connection = connect_readonly(path)
    # The progress handler aborts the statement once the deadline passes.
    connection.set_progress_handler(lambda: int(time.perf_counter() > deadline), 1000)
    try:
        cursor = connection.execute(sql, params)
        columns = [column[0] for column in cursor.description or []]
        fetched = cursor.fetchmany(row_limit + 1)
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise HandlerError(f"query timed out after {timeout_ms} ms") from exc
        raise HandlerError(f"query failed: {exc}") from exc
    except sqlite3.Error as exc:
        raise HandlerError(f"query failed: {exc}") from exc
    finally:
        connection.close()
    rows = [dict(zip(columns, row, strict=True)) for row in fetched[:row_limit]]
    return QueryResult(columns, rows, len(fetched) > row_limit, (time.perf_counter() - started) * 1000)


def _secret(reference: str) -> str | None:
    if not reference:
        return None
    name = reference.removeprefix("env://")
    value = os.environ.get(name)
    if value is None:
        raise HandlerError(f"source password reference {reference} is not set in the environment")
    return value


def _run_postgresql(
    source: dict[str, Any], sql: str, params: dict[str, Any], row_limit: int, timeout_ms: int
) -> QueryResult:
    import psycopg

    started = time.perf_counter()
    pg_sql = _NAMED_PARAM.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))
    try:
        with psycopg.connect(source["url"], password=_secret(source.get("password", "")), connect_timeout=5) as conn:
            conn.read_only = True
            with conn.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                cursor.execute(pg_sql, params)
                columns = [column.name for column in cursor.description or []]
                fetched = cursor.fetchmany(row_limit + 1)
            conn.rollback()
    except psycopg.errors.QueryCanceled as exc:
        raise HandlerError(f"query timed out after {timeout_ms} ms") from exc
    except psycopg.Error as exc:
        raise HandlerError(f"query failed: {str(exc).strip()}") from exc
    rows = [dict(zip(columns, row, strict=True)) for row in fetched[:row_limit]]
    return QueryResult(columns, rows, len(fetched) > row_limit, (time.perf_counter() - started) * 1000)
