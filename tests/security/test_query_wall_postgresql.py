"""The PostgreSQL wall: queries run as a role that can read the inventory schema and nothing else.

These tests go past the SQL parser on purpose (``run_query`` directly): what
they show is refused by the database itself. CI runs them on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from reference.assets import QUERIES, REFERENCE_ASSETS
from reference.query_role import QueryRole, query_role_check
from reference.sql import QueryRejected, run_query
from testkit.factories import UserFactory

TABLES = set(REFERENCE_ASSETS[("schema", "inventory_schema")]["tables"])
pytestmark = pytest.mark.django_db


@pytest.fixture
def pg_inventory(query_role_url, settings):
    settings.OPS_SOURCES = {"inventory": query_role_url}
    return query_role_url


def _run(sql: str, params: dict | None = None):
    return run_query(connection="inventory", sql=sql, params=params or {}, row_limit=10, timeout_ms=2000,
                     tables=TABLES)


def test_the_role_check_finds_nothing_wrong(pg_inventory):
    with connection.cursor() as cursor:
        problems = query_role_check(cursor=cursor.cursor, wall=QueryRole(),
                                    application_tables=connection.introspection.table_names(cursor))
    assert problems == []


@pytest.mark.parametrize(("sql", "refusal"), [
    ("SELECT key FROM public.authtoken_token", "permission denied for table authtoken_token"),
    ('SELECT username, password FROM "public"."auth_user"', "permission denied for table auth_user"),
    ("SELECT pg_read_file('PG_VERSION')", "permission denied for function pg_read_file"),
    ("SELECT * FROM pg_ls_dir('.')", "permission denied for function pg_ls_dir"),
])
def test_application_tables_and_server_files_are_denied_by_the_database(pg_inventory, sql, refusal):
    with pytest.raises(QueryRejected, match=refusal):
        _run(sql)


def test_unqualified_application_tables_do_not_even_exist_for_the_role(pg_inventory):
    with pytest.raises(Exception, match='relation "authtoken_token" does not exist'):
        _run("SELECT key FROM authtoken_token")


@pytest.mark.parametrize("sql", [
    "CREATE TABLE ops_inventory.stolen (x int)",
    "DELETE FROM ci",
    "UPDATE ci SET name = 'x'",
])
def test_writes_fail_in_the_read_only_transaction(pg_inventory, sql):
    with pytest.raises(Exception, match="read-only transaction|permission denied"):
        _run(sql)


def test_the_token_theft_attack_through_the_api_gets_no_token(pg_inventory, attacker_client):
    token = Token.objects.create(user=UserFactory(is_superuser=True, is_staff=True)).key
    attacker_client.post("/asset-registry/assets", {"asset_type": "schema", "name": "inventory_schema",
                         "tenant_id": "acme", "spec": {"tables": {"authtoken_token": ["key"]}}}, format="json")
    attacker_client.post("/asset-registry/assets", {"asset_type": "query", "name": "ci_lookup", "tenant_id": "acme",
                         "spec": {"sql": "SELECT key AS id, key AS name FROM authtoken_token", "params": []}},
                         format="json")
    response = attacker_client.post("/ops/stage-test", {
        "stage": "execute", "question": "What is checkout-api?", "tenant_id": "acme",
        "asset_overrides": {"query": "ci_lookup@1", "schema": "inventory_schema@1"}}, format="json")
    assert response.status_code == 200
    assert "does not exist" in response.json()["output"]["diagnostics"]["errors"][0]
    assert token not in response.content.decode()


@pytest.mark.parametrize(("name", "params"), [
    ("ci_lookup", {"ci_id": "app-001", "ci_name": ""}),
    ("ci_list", {"ci_type": "database", "environment": "", "limit": 10}),
    ("ci_count", {"environment": "prod"}),
    ("dependency_path", {"ci_id": "app-001", "ci_name": ""}),
    ("metric_summary", {"ci_id": "app-001", "ci_name": "", "metric": "", "since": "2026-01-14T00:00:00Z"}),
    ("event_history", {"ci_id": "db-001", "ci_name": "", "since": "2026-01-08T00:00:00Z"}),
])
def test_reference_queries_answer_the_same_through_the_role_as_on_sqlite(query_role_url, settings, name, params):
    on_sqlite = _run(QUERIES[name]["sql"], params).rows
    settings.OPS_SOURCES = {"inventory": query_role_url}
    on_postgresql = _run(QUERIES[name]["sql"], params).rows
    assert on_postgresql == on_sqlite and on_sqlite
