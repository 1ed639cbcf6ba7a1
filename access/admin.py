from django.contrib import admin

from access.admin_scoping import TenantScopedAdmin
from access.models import TenantMembership


@admin.register(TenantMembership)
class TenantMembershipAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Tenant admins manage memberships of their own tenants only (never a way into another tenant)."""

    list_display = ["user", "tenant_id", "created_at"]
    list_filter = ["tenant_id"]
    search_fields = ["user__username", "tenant_id"]
    autocomplete_fields = ["user"]
