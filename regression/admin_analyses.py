"""Admin for regression analyses: the list, and an analysis's page (per-stage table, statistics, trace links).

Analyses are records of work: viewed, never added or edited here (they are
started from a trace's page, the API or a golden query); deleting follows the
role's ``regression.delete_regressionanalysis``. What the page shows comes
from ``regression.selectors.analysis_page``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from access.admin_scoping import TenantScopedAdmin
from inspector.admin.read_only import ReadOnlyAdminMixin
from inspector.admin_paging import LargeTablePaginator
from inspector.admin_rows import QuickRowsAdminMixin
from regression import selectors
from regression.admin_suites import verdict_chip
from regression.models import RegressionAnalysis


def trace_page_url(trace_id: str, tenant_id: str) -> str:
    """The trace page of ``trace_id`` in ``tenant_id`` (any of the user's tenants when blank); "" if unaddressable."""
    try:
        url = reverse("admin:inspector_trace_by_id", args=[trace_id])
    except NoReverseMatch:  # an id with a "/" (stored before ids were checked) has no page address
        return ""
    return f"{url}?{urlencode({'tenant': tenant_id})}" if tenant_id else url


def _linked(traces: list[selectors.AnalysisTrace], tenant_id: str) -> list[dict[str, str]]:
    return [{"trace_id": trace.trace_id, "url": trace_page_url(trace.trace_id, tenant_id) if trace.present else ""}
            for trace in traces]


@admin.register(RegressionAnalysis)
class RegressionAnalysisAdmin(QuickRowsAdminMixin, TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "status", "verdict_badge", "score", "baselines", "candidates", "created_at",
                    "finished_at"]
    list_filter = ["status", "verdict", "kind"]
    search_fields = ["=id"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    # The list shows ids and figures, never the stored results.
    changelist_defer = ["stage_results", "statistics", "critical_issues", "notes", "options"]

    @admin.display(description="verdict", ordering="verdict")
    def verdict_badge(self, analysis: RegressionAnalysis) -> str:
        return verdict_chip(analysis.verdict)

    @admin.display(description="baseline")
    def baselines(self, analysis: RegressionAnalysis) -> str:
        return _ids_cell(analysis.baseline_trace_ids)

    @admin.display(description="candidate")
    def candidates(self, analysis: RegressionAnalysis) -> str:
        return _ids_cell(analysis.candidate_trace_ids)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """The analysis page; an analysis that is not there (or not the user's) gets Django's answer."""
        analysis = self.get_object(request, unquote(object_id))
        if analysis is None or not self.has_view_permission(request, analysis):
            return super().change_view(request, object_id, form_url, extra_context)
        if request.method == "POST":
            raise PermissionDenied  # a record: nothing on its page is edited
        page = selectors.analysis_page(analysis=analysis)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{analysis.get_kind_display().capitalize()} analysis {analysis.pk}",
            "analysis": analysis,
            "has_delete_permission": self.has_delete_permission(request, analysis),
            **page,
            "baselines": _linked(page["baselines"], analysis.tenant_id),
            "candidates": _linked(page["candidates"], analysis.tenant_id),
        }
        return TemplateResponse(request, "admin/regression/regressionanalysis/analysis_page.html", context)


def _ids_cell(ids: list[str]) -> str:
    return ids[0] + (f" +{len(ids) - 1}" if len(ids) > 1 else "") if ids else ""
