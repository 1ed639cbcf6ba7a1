from django.contrib import admin

from access.models import TenantMembership


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant_id", "created_at"]
    list_filter = ["tenant_id"]
    search_fields = ["user__username", "tenant_id"]
    autocomplete_fields = ["user"]
