"""DRF object permission: changing an object needs membership of its tenant."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from access.tenancy import scope_for


class TenantWritePermission(BasePermission):
    """Reads are already limited by the view's scoped queryset; writes need the object's tenant.

    Shared (``default``) assets are readable by every tenant but only its
    members may change them, hence this check on top of the scoped queryset.
    """

    message = "you are not a member of this object's tenant"
    tenant_field = "tenant_id"

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return scope_for(request.user).allows(getattr(obj, self.tenant_field))
