"""The attacks of issue 14, run as a tenant user (operator + asset editor of acme) through the API.

Each asserts refusal, that no secret or foreign row is in any answer, and that
no connection reaches a listener the test starts on 127.0.0.1.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from inspector.models import Asset, AssetVersion
from testkit.factories import UserFactory
from testkit.plugin import client_for, role_user

pytestmark = pytest.mark.django_db
ASSETS = "/asset-registry/assets"
THEFT_SQL = ('SELECT t.key AS id, u.username AS name FROM "authtoken_token" t '
             'JOIN "auth_user" u ON u.id = t.user_id WHERE u.is_superuser')


@pytest.fixture
def superuser_token(db):
    return Token.objects.create(user=UserFactory(is_superuser=True, is_staff=True)).key


def _create(client, asset_type, name, spec, tenant_id="acme"):
    return client.post(ASSETS, {"asset_type": asset_type, "name": name, "spec": spec, "tenant_id": tenant_id},
                       format="json")


def _stage_test(client, overrides, tenant_id="acme"):
    return client.post("/ops/stage-test", {"stage": "execute", "question": "What is checkout-api?",
                                           "tenant_id": tenant_id, "asset_overrides": overrides}, format="json")


def test_token_theft_through_a_draft_query_and_own_schema_finds_no_token(attacker_client, superuser_token):
    # The attacker brings a schema asset listing the token tables and a draft query reading them.
    assert _create(attacker_client, "schema", "inventory_schema",
                   {"tables": {"authtoken_token": ["key"], "auth_user": ["username"]}}).status_code == 201
    assert _create(attacker_client, "query", "ci_lookup", {"sql": THEFT_SQL, "params": []}).status_code == 201
    response = _stage_test(attacker_client, {"query": "ci_lookup@1", "schema": "inventory_schema@1"})
    assert response.status_code == 200, response.content
    errors = response.json()["output"]["diagnostics"]["errors"]
    assert errors and ("no such table" in errors[0] or "not authorized" in errors[0])
    assert superuser_token not in response.content.decode()


@pytest.mark.parametrize("spec", [
    {"url": f"sqlite:///{settings.BASE_DIR / 'db.sqlite3'}"},
    {"engine": "sqlite", "url": "sqlite:////etc/passwd"},
    {"connection": "inventory", "password": "env://SECRET_KEY"},
    {"connection": "inventory", "host": "127.0.0.1", "port": 5432},
    {"connection": "inventory", "user": "postgres"},
    {"connection": "inventory", "options": {"sslkey": "/etc/ssl/private/key.pem"}},
    {"connection": "inventory", "path": "/var/lib/postgresql"},
])
def test_source_specs_with_connection_details_are_refused_naming_the_field(attacker_client, spec):
    response = _create(attacker_client, "source", "stolen", spec)
    assert response.status_code == 400
    named = {key for key in spec if key != "connection"}
    assert named & set(response.json()), response.json()
    assert not Asset.objects.filter(name="stolen").exists()


def test_env_references_are_refused_in_every_asset_type(attacker_client):
    response = _create(attacker_client, "prompt", "leaky", {"template": "x", "description": "env://DATABASE_URL"})
    assert response.status_code == 400 and "environment references" in json.dumps(response.json())


def test_a_legacy_source_spec_pointing_at_a_listener_never_connects(attacker_client, listener):
    """A spec stored before the wall (url + env:// password) is refused when resolved, before any connection."""
    asset = Asset.objects.create(tenant_id="acme", asset_type="source", name="legacy")
    AssetVersion.objects.create(asset=asset, version=1, status="draft", spec={
        "engine": "postgresql", "url": f"postgresql://postgres@127.0.0.1:{listener.port}/x",
        "password": "env://SECRET_KEY"})
    assert _create(attacker_client, "query", "ci_lookup",
                   {"sql": "SELECT id, name FROM ci", "params": [], "source": "legacy"}).status_code == 201
    response = _stage_test(attacker_client, {"query": "ci_lookup@1"})
    assert response.status_code in (200, 400), response.content
    body = response.content.decode()
    assert settings.SECRET_KEY not in body and str(listener.port) not in body
    assert listener.accepted == 0


@pytest.mark.parametrize("sources", [
    lambda port: {"inventory": f"postgres://nobody@127.0.0.1:{port}/x"},      # open port (the listener)
    lambda port: {"inventory": "postgres://nobody@127.0.0.1:1/x"},            # closed port
    lambda port: {"inventory": "sqlite:////nonexistent/inventory.sqlite3"},   # missing file
    lambda port: {"other": "sqlite:////nonexistent/other.sqlite3"},            # not declared at all
])
def test_connection_errors_say_unavailable_and_nothing_else(operator_client, reference_assets, listener,
                                                            settings, sources):
    settings.OPS_SOURCES = sources(listener.port)
    response = operator_client.post("/ops/ask", {"question": "What is checkout-api?"}, format="json")
    assert response.status_code == 201, response.content
    execute = next(s for s in response.json()["stages"] if s["stage"] == "execute")
    detail = operator_client.get(f"/inspector/traces/{response.json()['trace_id']}/stages/execute").json()
    assert "connection `inventory` unavailable" in json.dumps(detail)
    text = json.dumps(detail) + json.dumps(execute)
    for leak in ("127.0.0.1", str(listener.port), ":1/", "nonexistent", "nobody"):
        assert leak not in text


def test_drafts_run_in_test_mode_only_for_those_who_may_edit_the_asset(attacker_client, reference_assets):
    assert _create(attacker_client, "query", "ci_lookup", {"sql": "SELECT id, name FROM ci", "params": []}
                   ).status_code == 201
    # The editor of acme may test acme's draft.
    assert _stage_test(attacker_client, {"query": "ci_lookup@1"}).status_code == 200
    # An operator of acme without edit rights may not, nor may an editor of another tenant.
    operator_only = client_for(role_user("operator", tenants=["acme"]))
    assert _stage_test(operator_only, {"query": "ci_lookup@1"}).status_code == 403
    ask = operator_only.post("/ops/ask", {"question": "What is checkout-api?", "tenant_id": "acme",
                                          "test_mode": True, "asset_overrides": {"query": "ci_lookup@1"}},
                             format="json")
    assert ask.status_code == 403 and "draft" in ask.json()["detail"]
    # A draft of the shared tenant needs a default membership with edit rights.
    default_query = Asset.objects.get(tenant_id="default", asset_type="query", name="event_history")
    AssetVersion.objects.create(asset=default_query, version=9, status="draft", spec=QUERY_DRAFT)
    assert _stage_test(attacker_client, {"query": "event_history@9"}).status_code == 403


QUERY_DRAFT = {"sql": "SELECT id, name FROM ci", "params": []}
