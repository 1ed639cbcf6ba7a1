"""Read-only execution of ``query`` assets on an operator-declared connection.

The wall is the database, not a regex: on PostgreSQL the connection logs in
as a role that can only ``SELECT`` the inventory schema (``manage.py
setup_query_role``); on SQLite the file is opened read-only and an authorizer
allows reads of the schema asset's tables and allow-listed functions only —
no ``sqlite_master``, ``ATTACH``, ``PRAGMA`` or anything else. The SQL parser
(``sql_guard``) is the second line, and every statement runs under a timeout
and a row limit. Error texts name the connection, never a host, port or file.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from inspector.pipeline.base import HandlerError
from kernel.connections import connection_engine, sqlite_path
from reference.inventory import connect_readonly, ensure_inventory
from reference.sql_guard import ALLOWED_FUNCTIONS, SqlRejected, check_query, param_names, to_pyformat

__all__ = ["QueryRejected", "QueryResult", "check_read_only", "connection_engine_of", "param_names", "run_query"]


class QueryRejected(HandlerError):
    """The SQL of a query asset is not a single read-only SELECT over allowed tables."""


class ConnectionUnavailable(HandlerError):
    """The named connection is not declared or cannot be reached (no details: they are the operator's)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"connection `{name}` unavailable")


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    elapsed_ms: float


def check_read_only(sql: str, allowed_tables: set[str], engine: str = "sqlite") -> None:
    """Raise ``QueryRejected`` unless ``sql`` is one SELECT over ``allowed_tables`` (empty: none)."""
    try:
        check_query(sql, allowed_tables=allowed_tables, engine=engine)
    except SqlRejected as exc:
        raise QueryRejected(f"query rejected: {exc}") from exc


def connection_engine_of(name: str) -> str:
    url = settings.OPS_SOURCES.get(name)
    if url is None:
        raise ConnectionUnavailable(name)
    return connection_engine(url) or "sqlite"


def run_query(
    *, connection: str, sql: str, params: dict[str, Any], row_limit: int, timeout_ms: int, tables: set[str]
) -> QueryResult:
    """Run ``sql`` on the named connection; fetch at most ``row_limit`` rows.

    ``tables`` are the ones the schema asset lists: on SQLite the authorizer
    allows reads of those alone.
    """
    url = settings.OPS_SOURCES.get(connection)
    if url is None:
        raise ConnectionUnavailable(connection)
    if connection_engine(url) == "postgresql":
        return _run_postgresql(connection, url, sql, params, row_limit, timeout_ms)
    return _run_sqlite(connection, _sqlite_file(connection, url), sql, params, row_limit, timeout_ms, tables)


def _sqlite_file(name: str, url: str) -> Path:
    path = sqlite_path(url)
    if path == Path(settings.OPS_INVENTORY_PATH):
        return ensure_inventory(path)  # the bundled sample is built on first use
    if not path.is_file():
        raise ConnectionUnavailable(name)
    return path


def _authorizer(tables: set[str]):
    allowed = {table.lower() for table in tables}

    def decide(action: int, arg1: str | None, arg2: str | None, database: str | None, _trigger: str | None) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            if database is None:
                return sqlite3.SQLITE_OK  # a CTE's own rows: no schema holds them
            table = (arg1 or "").lower()
            ok = database == "main" and table in allowed and not table.startswith("sqlite_")
            return sqlite3.SQLITE_OK if ok else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            return sqlite3.SQLITE_OK if (arg2 or "").lower() in ALLOWED_FUNCTIONS else sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_DENY  # PRAGMA, ATTACH, writes, schema changes, transactions …

    return decide


def _run_sqlite(name: str, path: Path, sql: str, params: dict[str, Any], row_limit: int, timeout_ms: int,
                tables: set[str]) -> QueryResult:
    started = time.perf_counter()
    deadline = started + timeout_ms / 1000
    try:
        connection = connect_readonly(path)
    except sqlite3.Error as exc:
        raise ConnectionUnavailable(name) from exc
    connection.set_authorizer(_authorizer(tables))
    # The progress handler aborts the statement once the deadline passes.
    connection.set_progress_handler(lambda: int(time.perf_counter() > deadline), 1000)
    try:
        cursor = connection.execute(sql, params)
        columns = [column[0] for column in cursor.description or []]
        fetched = cursor.fetchmany(row_limit + 1)
    except sqlite3.DatabaseError as exc:
        if "interrupted" in str(exc):
            raise HandlerError(f"query timed out after {timeout_ms} ms") from exc
        if "not authorized" in str(exc) or "prohibited" in str(exc):
            raise QueryRejected(f"query refused by connection `{name}`: not authorized") from exc
        raise HandlerError(f"query failed: {exc}") from exc
    except sqlite3.Error as exc:
        raise HandlerError(f"query failed: {exc}") from exc
    finally:
        connection.close()
    rows = [dict(zip(columns, row, strict=True)) for row in fetched[:row_limit]]
    return QueryResult(columns, rows, len(fetched) > row_limit, (time.perf_counter() - started) * 1000)


def _run_postgresql(
    name: str, url: str, sql: str, params: dict[str, Any], row_limit: int, timeout_ms: int
) -> QueryResult:
    import psycopg

    started = time.perf_counter()
    try:
        conn = psycopg.connect(url, connect_timeout=5, autocommit=False)
    except psycopg.Error as exc:
        raise ConnectionUnavailable(name) from exc
    try:
        with conn:
            conn.read_only = True
            with conn.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                cursor.execute(to_pyformat(sql), params)
                columns = [column.name for column in cursor.description or []]
                fetched = cursor.fetchmany(row_limit + 1)
            conn.rollback()
    except psycopg.errors.QueryCanceled as exc:
        raise HandlerError(f"query timed out after {timeout_ms} ms") from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise QueryRejected(f"query refused by connection `{name}`: {_first_line(exc)}") from exc
    except psycopg.OperationalError as exc:
        raise ConnectionUnavailable(name) from exc
    except psycopg.Error as exc:
        raise HandlerError(f"query failed: {_first_line(exc)}") from exc
    finally:
        conn.close()
    rows = [{column: _plain(value) for column, value in zip(columns, row, strict=True)}
            for row in fetched[:row_limit]]
    return QueryResult(columns, rows, len(fetched) > row_limit, (time.perf_counter() - started) * 1000)


def _plain(value: Any) -> Any:
    # NUMERIC comes back as Decimal; stage payloads are JSON, as SQLite's REAL is.
    return float(value) if isinstance(value, Decimal) else value


def _first_line(exc: Exception) -> str:
    # psycopg's DETAIL/HINT lines can quote server internals; the first line names the object.
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
