"""The SQL parser check (second line of defence): every bypass of the old regex allow-list is refused."""

from __future__ import annotations

import pytest

from reference.assets import QUERIES, REFERENCE_ASSETS
from reference.sql_guard import SqlRejected, check_query

TABLES = set(REFERENCE_ASSETS[("schema", "inventory_schema")]["tables"])
ENGINES = ["sqlite", "postgresql"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_reference_queries_pass(name, engine):
    check_query(QUERIES[name]["sql"], allowed_tables=TABLES, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("sql", "reason"), [
    ('SELECT t.key, u.username FROM "authtoken_token" t JOIN "auth_user" u ON u.id = t.user_id '
     "WHERE u.is_superuser", "authtoken_token"),
    ('SELECT * FROM "sqlite_master"', "sqlite_master"),
    ('SELECT * FROM "pg_stat_activity"', "pg_stat_activity"),
    ('SELECT * FROM "pg_catalog"."pg_roles"', "qualified"),
    ("SELECT * FROM main.sqlite_master", "qualified"),
    ("SELECT * FROM public.ci", "qualified"),
    ("SELECT * FROM ci, auth_user", "auth_user"),
    ("SELECT * FROM ci /* hide */ , /* me */ auth_user", "auth_user"),
    ("SELECT * FROM ci -- line comment\n, auth_user", "auth_user"),
    ("SELECT pg_read_file('PG_VERSION')", "pg_read_file"),
    ("SELECT current_setting('data_directory')", "current_setting"),
    ("SELECT load_extension('/tmp/evil')", "load_extension"),
    ("SELECT * FROM pg_ls_dir('.')", "pg_ls_dir"),
    ("SELECT * FROM pragma_table_info('ci')", "pragma_table_info"),
    ("SELECT id FROM ci WHERE id IN (SELECT key FROM authtoken_token)", "authtoken_token"),
    ("SELECT id FROM ci UNION SELECT usename FROM pg_user", "pg_user"),
    ("WITH auth_user AS (SELECT * FROM auth_user) SELECT * FROM auth_user", "auth_user"),
    ("WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a", "'b'"),
    ("WITH x AS (DELETE FROM ci RETURNING *) SELECT * FROM x", "DELETE"),
    ("SELECT * INTO stolen FROM ci", "INTO"),
    ("SELECT * FROM ci FOR UPDATE", "LOCK"),
    ("PRAGMA table_info(ci)", "only SELECT"),
    ("DELETE FROM ci", "only SELECT"),
    ("SELECT 1; SELECT 2", "more than one statement"),
])
def test_bypasses_of_the_old_allow_list_are_refused(sql, reason, engine):
    with pytest.raises(SqlRejected, match=reason):
        check_query(sql, allowed_tables=TABLES, engine=engine)


def test_an_empty_table_list_allows_no_table():
    with pytest.raises(SqlRejected, match="not in the schema asset"):
        check_query("SELECT id FROM ci", allowed_tables=set())
    check_query("SELECT 1 AS one", allowed_tables=set())  # no table read at all


def test_recursive_cte_may_name_itself_but_not_hide_a_table():
    check_query("WITH RECURSIVE n(i) AS (SELECT 1 UNION SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n",
                allowed_tables=set())
    with pytest.raises(SqlRejected, match="auth_user"):
        check_query("WITH RECURSIVE n(i) AS (SELECT 1 UNION SELECT id FROM auth_user) SELECT i FROM n",
                    allowed_tables=set())
