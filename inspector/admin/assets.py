"""Admin for assets and their versions (publishing is a service; versions are never edited here)."""

from __future__ import annotations

from django.contrib import admin, messages

from access.admin_scoping import ScopedChoicesMixin, TenantScopedAdmin
from access.tenancy import scope_for
from inspector import selectors, services
from inspector.models import Asset, AssetVersion
from kernel.errors import ServiceError


class AssetVersionInline(ScopedChoicesMixin, admin.TabularInline):
    model = AssetVersion
    extra = 0
    can_delete = False
    fields = ["version", "status", "note", "author", "created_at", "published_at", "archived_at"]
    readonly_fields = fields
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Asset)
class AssetAdmin(TenantScopedAdmin, admin.ModelAdmin):
    tenant_shared_readable = True
    list_display = ["name", "asset_type", "tenant_id", "published", "version_count", "updated_at"]
    list_filter = ["asset_type", "tenant_id"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [AssetVersionInline]

    def get_readonly_fields(self, request, obj=None):
        # The identity of an existing asset is fixed; versions refer to it.
        if obj is not None:
            return ["tenant_id", "asset_type", "name", *self.readonly_fields]
        return self.readonly_fields

    def get_queryset(self, request):
        return selectors.assets_with_version_summary(super().get_queryset(request))

    @admin.display(description="published", ordering="_published")
    def published(self, asset: Asset) -> str:
        return f"v{asset._published}" if asset._published else "—"

    @admin.display(description="versions", ordering="_version_count")
    def version_count(self, asset: Asset) -> int:
        return asset._version_count


@admin.register(AssetVersion)
class AssetVersionAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Versions are immutable: the admin shows them; services create and publish them."""

    tenant_field = "asset__tenant_id"
    tenant_shared_readable = True

    list_display = ["asset", "version", "status", "author", "created_at", "published_at"]
    list_filter = ["status", "asset__asset_type"]
    search_fields = ["asset__name", "note"]
    list_select_related = ["asset", "author"]
    readonly_fields = ["asset", "version", "status", "spec", "note", "author", "copied_from", "created_at",
                       "published_at", "archived_at"]
    actions = ["publish_selected"]

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm("inspector.publish_assetversion")

    @admin.action(description="Publish the selected draft version", permissions=["publish"])
    def publish_selected(self, request, queryset) -> None:
        try:
            version = services.asset_version_publish_selected(versions=queryset, scope=scope_for(request.user))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.log_change(request, version, f"Published {version}")
        self.message_user(request, f"Published {version}; the previous version is archived.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
