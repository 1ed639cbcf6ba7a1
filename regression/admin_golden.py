"""Admin for golden queries (their last run in the list, **Run now**) and their regression runs (read-only).

A run is started with the query page's button or the list's action; both
need ``regression.add_regressionrun`` (the API's ``…/run``), are hidden from
users without it, and call ``golden_query_run`` / ``golden_queries_run``. Runs
are records: viewed, never added or edited; deleting follows the role.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from access.admin_scoping import ScopedChoicesMixin, TenantScopedAdmin
from inspector.admin.read_only import ReadOnlyAdminMixin
from inspector.admin_rows import QuickRowsAdminMixin
from kernel.errors import ServiceError
from regression import selectors, services
from regression.admin_analyses import trace_page_url
from regression.admin_suites import verdict_chip
from regression.models import Baseline, GoldenQuery, RegressionRun, WorkStatus

RUN_PERMISSION = "regression.add_regressionrun"
LATEST_RUNS = 10
RELATIVE_FOR = timedelta(days=7)  # newer times read "3 minutes ago", older ones a date


def when(moment) -> str:
    """A past moment as people read it: "3 minutes ago" (a date after a week), the exact time in its title."""
    if moment is None:
        return format_html('<span class="ops-muted">{}</span>', "never")
    age = timezone.now() - moment
    if age < timedelta(minutes=1):
        shown = "just now"
    elif age < RELATIVE_FOR:
        shown = f"{timesince(moment, depth=1)} ago"
    else:
        shown = timezone.localtime(moment).strftime("%Y-%m-%d")
    exact = timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(), exact, shown)


def run_outcome(verdict: str, status: str | None) -> str:
    """A run's verdict pill, or its state while it has none (pending, running, failed)."""
    if verdict:
        return verdict_chip(verdict)
    if status is None:
        return format_html('<span class="ops-muted">{}</span>', "never run")
    label = "run failed" if status == WorkStatus.FAILED else status
    return format_html('<span class="ops-muted">{}</span>', label)


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
    list_display = ["name", "question", "tenant_id", "enabled", "last_verdict", "last_run", "created_at"]
    list_filter = ["enabled", "tenant_id"]
    search_fields = ["name", "question"]
    inlines = [BaselineInline]
    actions = ["run_selected"]
    change_form_template = "admin/regression/goldenquery/change_form.html"

    def get_queryset(self, request):
        return selectors.golden_query_list(super().get_queryset(request))

    def get_urls(self):
        return [
            path("<path:object_id>/run/", self.admin_site.admin_view(self.run_view), name="regression_goldenquery_run"),
            *super().get_urls(),
        ]

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PERMISSION)

    @admin.display(description="last verdict", ordering="last_run_verdict")
    def last_verdict(self, query: GoldenQuery) -> str:
        return run_outcome(query.last_run_verdict or "", query.last_run_status)

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, query: GoldenQuery) -> str:
        return when(query.last_run_at)

    @admin.action(description="Run selected golden queries now", permissions=["run"])
    def run_selected(self, request: HttpRequest, queryset) -> None:
        try:
            runs = services.golden_queries_run(golden_queries=queryset.order_by("name"))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        for run in runs:
            self.log_change(request, run.golden_query, f"Run #{run.pk} started")
        names = ", ".join(run.golden_query.name for run in runs)
        self.message_user(request, f"Started {len(runs)} run{'' if len(runs) == 1 else 's'}: {names}.",
                          messages.SUCCESS)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        query = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if query is not None:
            context.update({
                "may_run": self.has_run_permission(request),
                "has_baseline": query.current_baseline is not None,
                "latest_runs": list(query.runs.select_related("analysis").only(
                    "id", "status", "trigger", "created_at", "finished_at", "analysis__verdict",
                    "analysis__score").order_by("-created_at", "-id")[:LATEST_RUNS]),
            })
        return super().change_view(request, object_id, form_url, context)

    def run_view(self, request: HttpRequest, object_id: str):
        """**Run now**: a manual run against the current baseline, then its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        query = self.get_object(request, unquote(object_id))
        if query is None:
            raise Http404("No such golden query.")
        if not self.has_run_permission(request):
            raise PermissionDenied
        try:
            run = services.golden_query_run(golden_query=query)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:regression_goldenquery_change", args=[query.pk]))
        self.log_change(request, query, f"Run #{run.pk} started")
        run.refresh_from_db(fields=["status"])
        messages.success(request, f"Run #{run.pk} of {query.name} started ({run.status}).")
        return HttpResponseRedirect(reverse("admin:regression_regressionrun_change", args=[run.pk]))


@admin.register(RegressionRun)
class RegressionRunAdmin(QuickRowsAdminMixin, TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    tenant_field = "golden_query__tenant_id"
    list_display = ["id", "golden_query", "trigger", "status", "verdict", "candidate_trace", "created_at",
                    "finished_at"]
    list_filter = ["status", "trigger", "golden_query"]
    # The candidate trace is shown on every row: joined, not fetched once a row (60 queries a page before).
    list_select_related = ["golden_query", "analysis", "candidate_trace"]
    fields = ["golden_query", "trigger", "status", "verdict", "score", "baseline_trace", "candidate_trace",
              "analysis", "overrides", "error_message", "created_at", "started_at", "finished_at", "attempts"]
    readonly_fields = fields
    change_form_template = "admin/regression/regressionrun/change_form.html"

    def get_queryset(self, request):
        # No select_related here: the changelist joins list_select_related only onto a query without one.
        return super().get_queryset(request).defer("analysis__stage_results", "analysis__statistics",
                                                   "candidate_trace__metadata")

    @admin.display(description="verdict")
    def verdict(self, run: RegressionRun) -> str:
        return run_outcome(run.analysis.verdict if run.analysis else "", run.status)

    @admin.display(description="score")
    def score(self, run: RegressionRun) -> str:
        score = run.analysis.score if run.analysis else None
        return "—" if score is None else f"{score} / 100"

    @admin.display(description="baseline trace")
    def baseline_trace(self, run: RegressionRun) -> str:
        trace = run.baseline.trace
        url = trace_page_url(trace.trace_id, trace.tenant_id)
        return format_html('<a href="{}">{}</a>', url, trace.trace_id) if url else trace.trace_id

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        run = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {}),
                   "run_done": run is None or run.status in (WorkStatus.COMPLETED, WorkStatus.FAILED)}
        return super().change_view(request, object_id, form_url, context)
