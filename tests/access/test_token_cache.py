"""The token cache saves the auth queries, and every way of taking access away still works at the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from access.models import TenantMembership
from access.token_cache import GENERATION_KEY
from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body
from testkit.plugin import grant

pytestmark = pytest.mark.django_db

AUTH_TABLES = ("authtoken_token", "auth_permission", "access_tenantmembership")


@pytest.fixture
def member():
    user = grant(UserFactory(), "inspector.view_trace")
    TenantMembership.objects.create(user=user, tenant_id="acme")
    return user


@pytest.fixture
def client(member):
    trace_ingest(payload=trace_body(trace_id="tc-1", tenant_id="acme"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=member).key)
    return api


def auth_queries(api, path="/inspector/traces/tc-1") -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = api.get(path).status_code
    return status, sum(any(table in q["sql"] for table in AUTH_TABLES) for q in queries.captured_queries)


def test_the_second_request_runs_no_auth_query(client):
    assert auth_queries(client) == (200, 4)  # token+user, user perms, group perms, memberships
    assert auth_queries(client) == (200, 0)


def test_a_deleted_token_is_refused_at_the_next_request(client, member):
    auth_queries(client)
    Token.objects.filter(user=member).delete()
    assert client.get("/inspector/traces/tc-1").status_code == 401


def test_a_deactivated_user_is_refused_at_the_next_request(client, member):
    auth_queries(client)
    member.is_active = False
    member.save()
    assert client.get("/inspector/traces/tc-1").status_code == 401


def test_a_removed_permission_is_refused_at_the_next_request(client, member):
    auth_queries(client)
    member.user_permissions.remove(Permission.objects.get(codename="view_trace"))
    assert client.get("/inspector/traces/tc-1").status_code == 403


def test_a_permission_taken_from_the_users_group_is_refused_at_the_next_request(client, member):
    member.user_permissions.clear()
    group = Group.objects.create(name="readers")
    group.permissions.add(Permission.objects.get(codename="view_trace"))
    member.groups.add(group)
    assert client.get("/inspector/traces/tc-1").status_code == 200
    group.permissions.clear()
    assert client.get("/inspector/traces/tc-1").status_code == 403


def test_a_removed_membership_hides_the_tenants_traces_at_the_next_request(client, member):
    auth_queries(client)
    TenantMembership.objects.filter(user=member).delete()
    assert client.get("/inspector/traces/tc-1").status_code == 404


def test_a_login_does_not_flush_the_cache(client, member):
    auth_queries(client)
    generation = cache.get(GENERATION_KEY)
    member.save(update_fields=["last_login"])
    assert cache.get(GENERATION_KEY) == generation
    assert auth_queries(client) == (200, 0)


def test_a_lost_generation_does_not_bring_old_entries_back(client):
    auth_queries(client)
    cache.delete(GENERATION_KEY)  # evicted or flushed: entries of the old generation must not count
    assert auth_queries(client) == (200, 4)
    assert auth_queries(client) == (200, 0)


def test_zero_seconds_turns_the_cache_off(client, settings):
    settings.OPS_TOKEN_CACHE_SECONDS = 0
    assert auth_queries(client) == (200, 4)
    assert auth_queries(client) == (200, 4)


def test_a_wrong_token_is_refused_and_not_cached(client):
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert client.get("/inspector/traces/tc-1").status_code == 401
    assert [key for key in cache._cache if "auth:token:" in key] == []


def test_the_token_itself_never_names_a_cache_entry(client, member):
    auth_queries(client)
    key = Token.objects.get(user=member).key
    assert not any(key in name for name in cache._cache)
