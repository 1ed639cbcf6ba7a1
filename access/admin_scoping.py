"""Tenant scoping for ModelAdmins: lists, object pages, edits and the tenant field.

Objects of other tenants are absent (404 on their pages, as Django's admin
answers for unknown ids); the tenant field offers only the user's tenants.
"""

from __future__ import annotations

from django import forms

from access.tenancy import scope_for


def _tenant_of(obj, path: str) -> str:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


class TenantScopedAdmin:
    """Mix into a ModelAdmin; ``tenant_field`` may follow relations (``trace__tenant_id``)."""

    tenant_field = "tenant_id"
    # Shared-tenant objects (the ``default`` assets) are readable by every tenant.
    tenant_shared_readable = False
    # Objects with an empty tenant (the default policy) are readable by all, written by superusers.
    tenant_blank_is_shared = False

    def get_queryset(self, request):
        return scope_for(request.user).filter(super().get_queryset(request), self.tenant_field,
                                              shared=self.tenant_shared_readable,
                                              blank_is_shared=self.tenant_blank_is_shared)

    def _may_write(self, request, obj) -> bool:
        return obj is None or scope_for(request.user).allows(_tenant_of(obj, self.tenant_field))

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_write(request, obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        tenants = scope_for(request.user).tenants
        if db_field.name == self.tenant_field and tenants is not None:
            return forms.ChoiceField(choices=[(t, t) for t in sorted(tenants)], label=db_field.verbose_name,
                                     help_text="Only your tenants are offered.")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

