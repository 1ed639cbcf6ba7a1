"""Admin for traces, stage runs and asset usages, and the trace page views. Changelists never show payloads.

Views stay a few lines: rows come from ``inspector.selectors``, what a page shows
from ``inspector.trace_page``.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from access.admin_scoping import TenantScopedAdmin
from access.tenancy import scope_for
from inspector import selectors, trace_page
from inspector.admin.read_only import ReadOnlyAdminMixin
from inspector.admin_paging import LargeTablePaginator
from inspector.admin_rows import QuickRowsAdminMixin
from inspector.contracts import ASSET_TYPES, STAGE_ORDER
from inspector.models import AssetVersion, StageRun, Trace, TraceAssetUsage


class AssetVersionUsedFilter(admin.SimpleListFilter):
    """Traces that applied a given asset version (at trace or stage level)."""

    title = "asset version"
    parameter_name = "asset_version"

    def lookups(self, request, model_admin):
        return selectors.asset_version_choices(scope=scope_for(request.user))

    def queryset(self, request, queryset):
        if not self.value() or not self.value().isdigit():
            return queryset
        return selectors.traces_applying_version(queryset, version_id=int(self.value()))


class TenantFilter(admin.SimpleListFilter):
    """Tenants from an index probe per tenant, not a DISTINCT over every trace."""

    title = "tenant"
    parameter_name = "tenant_id__exact"

    def lookups(self, request, model_admin):
        return [(tenant, tenant) for tenant in selectors.trace_tenants(scope=scope_for(request.user))]

    def queryset(self, request, queryset):
        return queryset.filter(tenant_id=self.value()) if self.value() else queryset


class FixedChoicesFilter(admin.SimpleListFilter):
    """A filter on one column offering a fixed list of values, never a DISTINCT over the table.

    Django's default filter for a plain column lists its distinct values by
    scanning every row (105 ms at 200k usage rows, seconds at the 10M of 1M
    traces). The values of these columns come from small known sets, so the
    choices are those sets; the URL parameter stays the column's name as before.
    """

    offered: tuple[tuple[str, str], ...] = ()
    # A value standing for the empty string (an empty parameter means "All").
    blank_value = "-"

    def lookups(self, request, model_admin):
        return self.offered

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(**{self.parameter_name: "" if value == self.blank_value else value})


class UsageAssetTypeFilter(FixedChoicesFilter):
    title = "asset type"
    parameter_name = "asset_type"
    offered = tuple((name, name) for name in ASSET_TYPES)


class UsageStageFilter(FixedChoicesFilter):
    title = "stage"
    parameter_name = "stage"
    offered = ((FixedChoicesFilter.blank_value, "trace level"), *((name, name) for name in STAGE_ORDER))


class UsageVersionStatusFilter(FixedChoicesFilter):
    title = "version status"
    parameter_name = "version_status"
    offered = (*AssetVersion.Status.choices, (FixedChoicesFilter.blank_value, "not in the registry"))


@admin.register(Trace)
class TraceAdmin(QuickRowsAdminMixin, TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["trace_id", "short_question", "tenant_id", "route", "status_badge", "started_at",
                    "duration_ms", "test_mode", "stage_count", "replan_count"]
    list_filter = ["status", "route", "test_mode", TenantFilter, ("started_at", admin.DateFieldListFilter),
                   AssetVersionUsedFilter]
    # An exact id match without UPPER() can use the unique index.
    search_fields = ["trace_id__exact", "question"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    list_per_page = 50
    ordering = ["-started_at", "-id"]

    def get_search_results(self, request, queryset, search_term):
        found = selectors.traces_with_id(queryset, trace_id=search_term)
        if found is not None:
            return found, False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        return selectors.trace_summaries(super().get_queryset(request))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/compare/", view(self.compare_view), name="inspector_trace_compare"),
            path("by-id/<str:trace_id>/", view(self.by_trace_id_view), name="inspector_trace_by_id"),
            *super().get_urls(),
        ]

    def _trace_or_404(self, request: HttpRequest, object_id: str) -> Trace:
        trace = self.get_object(request, object_id)
        if trace is None:
            raise Http404("No such trace.")
        if not self.has_view_permission(request, trace):
            raise PermissionDenied
        return trace

    def _render(self, request: HttpRequest, template: str, context: dict) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        return TemplateResponse(request, f"admin/inspector/trace/{template}", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The trace page: header, Stage In/Out panel and replans (read-only)."""
        trace = self._trace_or_404(request, object_id)
        context = trace_page.page_context(trace)
        return self._render(request, "trace_page.html", {**context, "has_view_permission": True,
                                                         **self.trace_page_links(request, context["trace"])})

    def compare_view(self, request: HttpRequest, object_id: str):
        """The stage-by-stage diff of this trace against a baseline trace id (``?baseline=``, else its parent)."""
        trace = self._trace_or_404(request, object_id)
        return self._render(request, "compare.html", trace_page.compare_context(
            trace, baseline_id=request.GET.get("baseline", ""), scope=scope_for(request.user)))

    def trace_page_links(self, request: HttpRequest, trace: Trace) -> dict[str, str]:
        """Links higher apps add to the trace page (regression's admin adds the override screen)."""
        return {}

    def by_trace_id_view(self, request: HttpRequest, trace_id: str):
        """The page of a trace by its id: in ``?tenant=`` if given, else the first stored (``trace_pick``)."""
        pk = selectors.trace_pk(self.get_queryset(request), trace_id=trace_id, tenant=request.GET.get("tenant", ""))
        if pk is None:
            raise Http404("No such trace.")
        return HttpResponseRedirect(reverse("admin:inspector_trace_change", args=[pk]))

    @admin.display(description="question")
    def short_question(self, trace: Trace) -> str:
        return trace.question if len(trace.question) <= 80 else trace.question[:79] + "…"

    @admin.display(description="status", ordering="status")
    def status_badge(self, trace: Trace) -> str:
        return format_html('<span class="ops-status ops-status-{}">{}</span>', trace.status, trace.status)


@admin.register(StageRun)
class StageRunAdmin(QuickRowsAdminMixin, TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    tenant_field = "trace__tenant_id"
    list_display = ["trace", "stage_label", "attempt", "status", "duration_ms", "warnings_count", "errors_count",
                    "references_count", "result_empty", "output_size"]
    list_filter = ["stage", "status", "result_empty"]
    search_fields = ["=trace__trace_id"]
    list_select_related = ["trace"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    # As the trace list: 11 columns a row, and 50 rows render in half the time of 100.
    list_per_page = 50
    readonly_fields = ["trace", "stage", "attempt", "sequence", "status", "started_at", "duration_ms",
                       "warnings_count", "errors_count", "references_count", "result_empty", "diagnostics",
                       "applied_assets", "input_size", "output_size"]

    def get_queryset(self, request):
        return selectors.stage_run_summaries(super().get_queryset(request))

    @admin.display(description="stage", ordering="stage")
    def stage_label(self, run: StageRun) -> str:
        return run.stage.upper()


@admin.register(TraceAssetUsage)
class TraceAssetUsageAdmin(QuickRowsAdminMixin, TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    tenant_field = "trace__tenant_id"
    list_display = ["trace", "stage", "asset_type", "asset_name", "version", "version_status"]
    list_filter = [UsageAssetTypeFilter, UsageStageFilter, UsageVersionStatusFilter]
    search_fields = ["asset_name", "=trace__trace_id"]
    list_select_related = ["trace"]
    show_full_result_count = False
    paginator = LargeTablePaginator

    def get_queryset(self, request):
        return selectors.asset_usage_rows(super().get_queryset(request))
