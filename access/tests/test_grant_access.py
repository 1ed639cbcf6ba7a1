"""``grant_access``: roles and tenants from the command line."""

import pytest
from django.core.management import CommandError, call_command

from access.tenancy import scope_for
from testkit.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grants_roles_and_tenants_idempotently(capsys):
    user = UserFactory(username="alice", tenants=[])
    for _ in range(2):
        call_command("grant_access", "alice", "--role", "operator", "--role", "asset editor", "--tenant", "acme")
    assert "alice: asset editor, operator; tenants: acme" in capsys.readouterr().out
    user.refresh_from_db()
    assert user.has_perms(["inspector.run_pipeline", "inspector.add_assetversion"])
    assert scope_for(user).tenants == frozenset({"acme"})


def test_unknown_role_or_user_changes_nothing():
    user = UserFactory(username="bob", tenants=[])
    with pytest.raises(CommandError, match="unknown role"):
        call_command("grant_access", "bob", "--role", "operator", "--role", "wizard", "--tenant", "acme")
    assert not user.groups.exists() and not user.tenant_memberships.exists()
    with pytest.raises(CommandError, match="no user"):
        call_command("grant_access", "nobody", "--role", "viewer")
