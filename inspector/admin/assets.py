"""Admin for assets and their versions (publishing is a service; versions are never edited here)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Max, Q

from access.admin_scoping import ScopedChoicesMixin, TenantScopedAdmin
from access.tenancy import scope_for
from inspector.models import Asset, AssetVersion
from inspector.services import asset_version_publish
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
        return super().get_queryset(request).annotate(
            _version_count=Count("versions"),
            _published=Max("versions__version", filter=Q(versions__status="published")),
        )

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
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to publish.", messages.ERROR)
            return
        version = queryset.select_related("asset").get()
        if not scope_for(request.user).allows(version.asset.tenant_id):
            self.message_user(request, f"You are not a member of tenant {version.asset.tenant_id!r}.", messages.ERROR)
            return
        try:
            asset_version_publish(version=version)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.log_change(request, version, f"Published {version}")
        self.message_user(request, f"Published {version}; the previous version is archived.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
