"""DRF permissions for tenants: changing an object needs its tenant; a body naming a tenant needs it first."""

from __future__ import annotations

from collections.abc import Mapping

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


def body_tenant(data, *, default: str, field: str = "tenant_id") -> str | None:
    """The tenant a write body names, read as a DRF ``CharField`` will read it (trimmed); ``default`` if absent.

    None when the value is not a string or number: validation refuses it then,
    with a message about its type only.
    """
    if not isinstance(data, Mapping) or field not in data:
        return default
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value).strip()


class TenantInBodyPermission(BasePermission):
    """A create or update whose body names a tenant (``tenant_id``) needs membership of that tenant.

    DRF checks permissions before the body is validated, so a foreign tenant
    always answers 403, never a validation message that depends on that
    tenant's data ("… with this tenant id already exists"). A create without
    a tenant gets the view's ``body_tenant_default``; an update keeps the
    object's. An empty tenant (the default replan policy) is for superusers.
    """

    message = "you are not a member of this tenant"

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) != "create":
            return True
        return self._allowed(request, body_tenant(request.data, default=view.body_tenant_default))

    def has_object_permission(self, request, view, obj) -> bool:
        if getattr(view, "action", None) not in ("update", "partial_update"):
            return True
        return self._allowed(request, body_tenant(request.data, default=obj.tenant_id))

    def _allowed(self, request, tenant: str | None) -> bool:
        if tenant is None or scope_for(request.user).allows(tenant):
            return True
        self.message = ("only superusers may create or change objects without a tenant" if not tenant
                        else f"you are not a member of tenant {tenant!r}")
        return False
