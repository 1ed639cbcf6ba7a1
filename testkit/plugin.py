"""Shared fixtures: users with and without permissions, API clients, trace bodies."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from testkit.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def grant(user, *codenames: str):
    """Give ``user`` permissions by ``app_label.codename``."""
    for dotted in codenames:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    # Drop Django's per-instance permission cache.
    for cache in ("_perm_cache", "_user_perm_cache"):
        if hasattr(user, cache):
            delattr(user, cache)
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Ingest caches registry ids in the process, and Django's cache holds figures keyed by ids and
    generations; each test's database starts over (ids and generations are reused), so both do too."""
    from django.core.cache import cache

    from inspector.services.price_tables import price_tables_clear
    from inspector.services.registry_cache import registry_cache_clear

    registry_cache_clear()
    price_tables_clear()
    cache.clear()
    yield
    registry_cache_clear()
    price_tables_clear()
    cache.clear()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def _user_with_client(user_name: str, client_name: str, *codenames: str):
    """The fixtures ``user_name`` (a user with exactly ``codenames``) and ``client_name`` (their API client)."""

    @pytest.fixture(name=user_name)
    def user(db):
        return grant(UserFactory(), *codenames)

    @pytest.fixture(name=client_name)
    def client(request) -> APIClient:
        return client_for(request.getfixturevalue(user_name))

    return user, client


plain_user, plain_client = _user_with_client("plain_user", "plain_client")
viewer, viewer_client = _user_with_client(
    "viewer", "viewer_client",
    "inspector.view_trace",
    "inspector.view_asset",
    "inspector.view_assetversion",
)
editor, editor_client = _user_with_client(
    "editor", "editor_client",
    "inspector.view_trace",
    "inspector.add_trace",
    "inspector.view_asset",
    "inspector.add_asset",
    "inspector.change_asset",
    "inspector.delete_asset",
    "inspector.view_assetversion",
    "inspector.add_assetversion",
    "inspector.publish_assetversion",
)
operator, operator_client = _user_with_client(
    "operator", "operator_client",
    "inspector.view_trace",
    "inspector.run_pipeline",
    "inspector.use_test_mode",
)
# May run the pipeline, but not in test mode.
runner_only, runner_only_client = _user_with_client(
    "runner_only", "runner_only_client", "inspector.view_trace", "inspector.run_pipeline")


@pytest.fixture
def reference_assets(db):
    """Version 1 of every reference pipeline asset, published."""
    from reference.assets import reference_assets_install

    reference_assets_install()


@pytest.fixture
def reference_v2_drafts(reference_assets):
    """Version 2 of three reference assets as drafts (``event_history@2`` hides info events).

    For app tests that may not import the reference app themselves.
    """
    from reference.assets import reference_v2_install

    reference_v2_install(publish=False)


def role_user(role: str | None, *, tenants=("default",), staff: bool = False):
    """A user in one named role group (None: authenticated, no role)."""
    from django.contrib.auth.models import Group

    from access.roles import roles_install

    if not Group.objects.filter(name="viewer").exists():
        roles_install()  # a transactional test may have flushed the migrated groups
    user = UserFactory(tenants=list(tenants), is_staff=staff)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user
