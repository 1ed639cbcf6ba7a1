"""Tenant scopes: which tenants' objects a user may see and write.

Reads of another tenant's object by id answer 404 (its existence is not
revealed); writes naming another tenant answer 403. Assets of the shared
tenant ``default`` are readable by everyone with a membership, because runs
of every tenant resolve them; writing them needs a ``default`` membership.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from access.errors import TenantForbidden
from kernel.tenancy import SHARED_TENANT


@dataclass(frozen=True)
class TenantScope:
    """``tenants`` is None for "every tenant" (superusers and internal callers)."""

    tenants: frozenset[str] | None

    @property
    def unrestricted(self) -> bool:
        return self.tenants is None

    def allows(self, tenant_id: str) -> bool:
        return self.tenants is None or tenant_id in self.tenants

    def readable(self, *, shared: bool = False) -> frozenset[str] | None:
        if self.tenants is None:
            return None
        return self.tenants | {SHARED_TENANT} if shared and self.tenants else self.tenants

    def filter(self, queryset: QuerySet, field: str = "tenant_id", *, shared: bool = False,
               blank_is_shared: bool = False) -> QuerySet:
        """Rows of the readable tenants; ``blank_is_shared`` also keeps rows with no tenant (the default policy)."""
        readable = self.readable(shared=shared)
        if readable is None:
            return queryset
        if blank_is_shared:
            return queryset.filter(Q(**{field: ""}) | Q(**{f"{field}__in": sorted(readable)}))
        return queryset.filter(**{f"{field}__in": sorted(readable)}) if readable else queryset.none()

    def require(self, tenant_id: str) -> None:
        if not self.allows(tenant_id):
            raise TenantForbidden(f"you are not a member of tenant {tenant_id!r}")


EVERY_TENANT = TenantScope(tenants=None)


def scope_for(user) -> TenantScope:
    """The user's scope, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return TenantScope(tenants=frozenset())
    if user.is_superuser:
        return EVERY_TENANT
    cached = getattr(user, "_tenant_scope", None)
    if cached is None:
        from access.models import TenantMembership

        tenants = TenantMembership.objects.filter(user=user).values_list("tenant_id", flat=True)
        cached = TenantScope(tenants=frozenset(tenants))
        user._tenant_scope = cached
    return cached


def draft_scope_for(user) -> TenantScope:
    """Tenants whose draft asset versions the user may run in test mode: those whose assets they may edit."""
    if user is None or not user.has_perm("inspector.add_assetversion"):
        return TenantScope(tenants=frozenset())
    return scope_for(user)


def user_tenants(user) -> list[str] | None:
    """Sorted tenant ids of a user, or None for all."""
    scope = scope_for(user)
    return None if scope.tenants is None else sorted(scope.tenants)
