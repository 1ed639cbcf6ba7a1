"""The SQLite wall: with the parser bypassed, the connection itself refuses all but reads of listed tables."""

from __future__ import annotations

import pytest

from reference.assets import QUERIES, REFERENCE_ASSETS
from reference.sql import QueryRejected, run_query

TABLES = set(REFERENCE_ASSETS[("schema", "inventory_schema")]["tables"])


def _run(sql: str, tables: set[str] = TABLES, params: dict | None = None):
    return run_query(connection="inventory", sql=sql, params=params or {}, row_limit=10, timeout_ms=2000,
                     tables=tables)


@pytest.mark.parametrize("sql", [
    'SELECT * FROM "sqlite_master"',
    "SELECT * FROM main.sqlite_master",
    "SELECT * FROM sqlite_temp_master",
    "SELECT * FROM pragma_table_info('ci')",
    "SELECT load_extension('/tmp/evil')",
    "SELECT sqlite_version()",
    "SELECT * FROM meta",  # in the file, but not in the schema asset
    "SELECT readfile('/etc/passwd')",
])
def test_reads_outside_the_listed_tables_are_not_authorized(sql):
    with pytest.raises(Exception) as caught:
        _run(sql)
    assert "not authorized" in str(caught.value) or "no such function" in str(caught.value)


@pytest.mark.parametrize("sql", [
    "ATTACH DATABASE 'db.sqlite3' AS app",
    "PRAGMA table_info(ci)",
    "DELETE FROM ci",
    "CREATE TABLE stolen (x)",
    "INSERT INTO ci (id) VALUES ('x')",
])
def test_statements_other_than_select_are_refused(sql):
    with pytest.raises(QueryRejected, match="not authorized"):
        _run(sql)


def test_listed_tables_and_reference_queries_still_read():
    rows = _run(QUERIES["ci_lookup"]["sql"], params={"ci_id": "app-001", "ci_name": ""}).rows
    assert rows[0]["name"] == "checkout-api"


def test_a_table_missing_from_the_schema_asset_is_not_readable():
    with pytest.raises(QueryRejected, match="not authorized"):
        _run("SELECT id FROM event", tables={"ci"})
