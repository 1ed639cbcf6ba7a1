from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model

from access.admin_scoping import TenantScopedAdmin
from access.models import TenantMembership
from access.tenancy import scope_for

User = get_user_model()


@admin.register(TenantMembership)
class TenantMembershipAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Tenant admins manage memberships of their own tenants only (never a way into another tenant)."""

    list_display = ["user", "tenant_id", "created_at"]
    list_filter = ["tenant_id"]
    search_fields = ["user__username", "tenant_id"]
    autocomplete_fields = ["user"]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Users are listed (and offered in the membership autocomplete) only to those who share a tenant with them.

    Superusers see every account. An account in no tenant is a superuser's to
    place (``grant_access --tenant``): tenant admins do not see it.
    """

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.unrestricted:
            return queryset
        members = scope.filter(TenantMembership.objects.all()).values("user_id")
        return queryset.filter(pk__in=members)
