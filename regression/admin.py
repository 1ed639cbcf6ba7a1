"""Admin for analyses, golden queries, baselines and runs."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from access.admin_scoping import ScopedChoicesMixin, TenantScopedAdmin
from inspector.admin_paging import LargeTablePaginator
from inspector.admin_rows import QuickRowsAdminMixin
from regression import (
    admin_overrides,  # noqa: F401 — the override screen on the trace admin
    admin_suites,  # noqa: F401 — golden suites and their run pages
)
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun


def _pretty(value) -> str:
    return format_html("<pre style='white-space:pre-wrap;max-height:480px;overflow:auto'>{}</pre>",
                       json.dumps(value, indent=2, default=str))


@admin.register(RegressionAnalysis)
class RegressionAnalysisAdmin(QuickRowsAdminMixin, TenantScopedAdmin, admin.ModelAdmin):
    list_display = ["id", "kind", "status", "verdict_badge", "score", "baselines", "candidates", "created_at",
                    "finished_at"]
    list_filter = ["status", "verdict", "kind"]
    search_fields = ["=id"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    fields = ["id", "kind", "status", "verdict", "score", "baseline_trace_ids", "candidate_trace_ids", "options",
              "issues", "stages", "statistics_table", "notes", "error_message", "attempts", "created_at",
              "started_at", "finished_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.resolver_match.url_name.endswith("change") else queryset.defer(
            "stage_results", "statistics", "critical_issues")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="verdict", ordering="verdict")
    def verdict_badge(self, analysis: RegressionAnalysis) -> str:
        css = {"PASS": "success", "WARN": "warning", "FAIL": "error"}.get(analysis.verdict, "")
        return format_html('<span class="ops-status ops-status-{}">{}</span>', css, analysis.verdict or "—")

    @admin.display(description="baseline")
    def baselines(self, analysis: RegressionAnalysis) -> str:
        ids = analysis.baseline_trace_ids
        return ids[0] + (f" +{len(ids) - 1}" if len(ids) > 1 else "") if ids else ""

    @admin.display(description="candidate")
    def candidates(self, analysis: RegressionAnalysis) -> str:
        ids = analysis.candidate_trace_ids
        return ids[0] + (f" +{len(ids) - 1}" if len(ids) > 1 else "") if ids else ""

    @admin.display(description="critical issues")
    def issues(self, analysis: RegressionAnalysis) -> str:
        return _pretty(analysis.critical_issues)

    @admin.display(description="per-stage results")
    def stages(self, analysis: RegressionAnalysis) -> str:
        return _pretty(analysis.stage_results)

    @admin.display(description="statistics")
    def statistics_table(self, analysis: RegressionAnalysis) -> str:
        text = (analysis.statistics or {}).get("text")
        return format_html("<pre>{}</pre>", text) if text else "—"


class BaselineInline(ScopedChoicesMixin, admin.TabularInline):
    model = Baseline
    extra = 0
    fields = ["trace", "note", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GoldenQuery)
class GoldenQueryAdmin(QuickRowsAdminMixin, TenantScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "question", "tenant_id", "enabled", "created_at"]
    list_filter = ["enabled", "tenant_id"]
    search_fields = ["name", "question"]
    inlines = [BaselineInline]


@admin.register(RegressionRun)
class RegressionRunAdmin(QuickRowsAdminMixin, TenantScopedAdmin, admin.ModelAdmin):
    tenant_field = "golden_query__tenant_id"
    list_display = ["golden_query", "trigger", "status", "verdict", "candidate_trace", "created_at", "finished_at"]
    list_filter = ["status", "trigger", "golden_query"]
    # The candidate trace is shown on every row: joined, not fetched once a row (60 queries a page before).
    list_select_related = ["golden_query", "analysis", "candidate_trace"]
    readonly_fields = ["golden_query", "baseline", "trigger", "overrides", "status", "candidate_trace", "analysis",
                       "error_message", "created_at", "finished_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("analysis__stage_results", "analysis__statistics",
                                                   "candidate_trace__metadata")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="verdict")
    def verdict(self, run: RegressionRun) -> str:
        return run.analysis.verdict if run.analysis else "—"
