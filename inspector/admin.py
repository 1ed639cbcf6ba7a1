"""Admin for traces, stage runs and assets. Changelists never show payloads."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from inspector.admin_paging import LargeTablePaginator
from inspector.models import Asset, AssetVersion, StageRun, Trace, TraceAssetUsage


class ReadOnlyAdminMixin:
    """Stored traces are evidence: they are viewed, never edited in the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class StageRunInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StageRun
    extra = 0
    can_delete = False
    fields = ["sequence", "stage", "attempt", "status", "duration_ms", "warnings_count", "errors_count",
              "references_count", "input_size", "output_size"]
    readonly_fields = fields
    ordering = ["sequence"]


class AssetUsageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TraceAssetUsage
    extra = 0
    can_delete = False
    fields = ["stage", "asset_type", "asset_name", "version", "version_status", "asset_version"]
    readonly_fields = fields


@admin.register(Trace)
class TraceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["trace_id", "short_question", "tenant_id", "route", "status_badge", "started_at",
                    "duration_ms", "test_mode", "stage_count", "replan_count"]
    list_filter = ["status", "route", "test_mode", "tenant_id", ("started_at", admin.DateFieldListFilter)]
    search_fields = ["=trace_id", "question"]
    date_hierarchy = None
    show_full_result_count = False
    paginator = LargeTablePaginator
    list_per_page = 50
    ordering = ["-started_at", "-id"]
    readonly_fields = ["trace_id", "parent_trace_id", "tenant_id", "question", "route", "status", "started_at",
                       "duration_ms", "test_mode", "stage_count", "replan_count", "metadata", "created_at"]
    exclude = ["content_hash"]
    inlines = [StageRunInline, AssetUsageInline]

    def get_queryset(self, request):
        # Summary columns only: metadata and hashes stay out of the list query.
        return super().get_queryset(request).defer("metadata", "content_hash")

    @admin.display(description="question")
    def short_question(self, trace: Trace) -> str:
        return trace.question if len(trace.question) <= 80 else trace.question[:79] + "…"

    @admin.display(description="status", ordering="status")
    def status_badge(self, trace: Trace) -> str:
        colours = {"success": "var(--message-success-bg)", "warning": "var(--message-warning-bg)",
                   "error": "var(--message-error-bg)"}
        return format_html(
            '<span style="background:{};padding:1px 6px;border-radius:3px">{}</span>',
            colours.get(trace.status, "transparent"), trace.status,
        )


@admin.register(StageRun)
class StageRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["trace", "stage_label", "attempt", "status", "duration_ms", "warnings_count", "errors_count",
                    "references_count", "result_empty", "output_size"]
    list_filter = ["stage", "status", "result_empty"]
    search_fields = ["=trace__trace_id"]
    list_select_related = ["trace"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    exclude = ["input_preview", "output_preview"]
    readonly_fields = ["trace", "stage", "attempt", "sequence", "status", "started_at", "duration_ms",
                       "warnings_count", "errors_count", "references_count", "result_empty", "diagnostics",
                       "applied_assets", "input_size", "output_size"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("input_preview", "output_preview", "diagnostics",
                                                   "applied_assets", "trace__metadata")

    @admin.display(description="stage", ordering="stage")
    def stage_label(self, run: StageRun) -> str:
        return run.stage.upper()


@admin.register(TraceAssetUsage)
class TraceAssetUsageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["trace", "stage", "asset_type", "asset_name", "version", "version_status"]
    list_filter = ["asset_type", "stage", "version_status"]
    search_fields = ["asset_name", "=trace__trace_id"]
    list_select_related = ["trace"]
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_queryset(self, request):
        return super().get_queryset(request).defer("trace__metadata")


class AssetVersionInline(admin.TabularInline):
    model = AssetVersion
    extra = 0
    can_delete = False
    fields = ["version", "status", "note", "author", "created_at", "published_at", "archived_at"]
    readonly_fields = fields
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
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
        from django.db.models import Count, Max, Q

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
class AssetVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: the admin shows them; services create and publish them."""

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
        from inspector.errors import ServiceError
        from inspector.services import asset_version_publish

        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to publish.", messages.ERROR)
            return
        version = queryset.select_related("asset").get()
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
