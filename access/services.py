"""Giving users roles and tenant memberships."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from access.models import TenantMembership
from access.roles import ROLE_PERMISSIONS
from kernel.errors import InvalidInput


def access_grant(*, user, roles: list[str] = (), tenants: list[str] = ()) -> None:
    """Add ``user`` to role groups and tenants (idempotent); unknown roles are a 400, nothing changes."""
    unknown = sorted(set(roles) - set(ROLE_PERMISSIONS))
    if unknown:
        raise InvalidInput(f"unknown role(s): {', '.join(unknown)}; expected {', '.join(ROLE_PERMISSIONS)}")
    if any(not tenant or len(tenant) > 64 for tenant in tenants):
        raise InvalidInput("tenant ids are 1-64 characters")
    with transaction.atomic():
        user.groups.add(*Group.objects.filter(name__in=roles))
        for tenant in tenants:
            TenantMembership.objects.get_or_create(user=user, tenant_id=tenant)
