"""Admin for traces, stage runs and asset usages, and the trace page views. Changelists never show payloads.

Views stay a few lines: rows come from ``inspector.selectors``, what a page shows
from ``inspector.trace_page``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from access.admin_scoping import TenantScopedAdmin
from access.tenancy import draft_scope_for, scope_for
from inspector import selectors, trace_page
from inspector.admin.display import duration, moment, pill, size, titled, truncated, words
from inspector.admin.read_only import ReadOnlyAdminMixin
from inspector.admin_paging import LargeTablePaginator
from inspector.admin_rows import QuickRowsAdminMixin
from inspector.contracts import ASSET_TYPES, QUESTION_MAX, STAGE_ORDER, ExecutionContext
from inspector.models import AssetVersion, StageRun, Trace, TraceAssetUsage
from inspector.pipeline.replies import pipeline_reply
from kernel.errors import ServiceError

RUN_PIPELINE = "inspector.run_pipeline"  # as POST /ops/ask


class ReplyForm(forms.Form):
    """The answer to a trace's ask_user card (the trace page's "Send answer" form)."""

    answer = forms.CharField(
        label="Your answer", max_length=QUESTION_MAX, error_messages={"required": "Type an answer to send."},
        widget=forms.TextInput(attrs={"size": 60, "autocomplete": "off", "data-testid": "reply-answer"}),
    )


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


class RouteFilter(FixedChoicesFilter):
    """Routes in words; a trace no route was chosen for (it failed first) has "No route", not "unknown"."""

    title = "route"
    parameter_name = "route__exact"
    offered = (("plan", "Plan"), ("direct", "Direct"), ("reject", "Reject"),
               (FixedChoicesFilter.blank_value, "No route"))


class TestModeFilter(FixedChoicesFilter):
    title = "runs"
    parameter_name = "test_mode__exact"
    offered = (("0", "Live runs"), ("1", "Test-mode runs"))


class StageStatusFilter(FixedChoicesFilter):
    title = "status"
    parameter_name = "status__exact"
    offered = (("ok", "OK"), ("warning", "Warning"), ("error", "Error"))


class CostFilter(admin.SimpleListFilter):
    """Traces by their known cost (the API has ``cost_min``/``cost_max``/``tokens_min`` for exact bounds)."""

    title = "cost"
    parameter_name = "cost"
    BANDS = {"under-0.001": (None, 0.001), "0.001-0.01": (0.001, 0.01), "0.01-0.1": (0.01, 0.1),
             "0.1-and-above": (0.1, None)}

    def lookups(self, request, model_admin):
        return (("none", "No usage reported"), ("unpriced", "Tokens nobody priced"), ("under-0.001", "Below 0.001"),
                ("0.001-0.01", "0.001 to 0.01"), ("0.01-0.1", "0.01 to 0.1"), ("0.1-and-above", "0.1 and above"))

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(cost=0, input_tokens=0, output_tokens=0)
        if value == "unpriced":
            return queryset.filter(unpriced_runs__gt=0)
        if value in self.BANDS:
            low, high = self.BANDS[value]
            queryset = queryset.filter(cost__gt=0) if low is None else queryset.filter(cost__gte=low)
            return queryset if high is None else queryset.filter(cost__lt=high)
        return queryset


@admin.register(Trace)
class TraceAdmin(QuickRowsAdminMixin, TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # Nine narrow columns fit 1440 px beside both sidebars (tests/browser/test_admin_lists.py): ids and
    # questions are cut to a line with the whole text on hover; test mode is a flag beside the status.
    list_display = ["trace_cell", "short_question", "tenant", "route_label", "status_badge", "started",
                    "duration_cell", "stages", "usage_summary"]
    list_filter = ["status", RouteFilter, TestModeFilter, TenantFilter,
                   ("started_at", titled(admin.DateFieldListFilter, "started")), CostFilter, AssetVersionUsedFilter]
    # An exact id match without UPPER() can use the unique index.
    search_fields = ["trace_id__exact", "question"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    list_per_page = 50
    ordering = ["-started_at", "-id"]

    def get_list_display(self, request):
        # One tenant in sight (most installations, every single-tenant member): its name on each row says nothing.
        if len(selectors.trace_tenants(scope=scope_for(request.user), limit=2)) < 2:
            return [column for column in self.list_display if column != "tenant"]
        return self.list_display

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
            path("<path:object_id>/reply/", view(self.reply_view), name="inspector_trace_reply"),
            *super().get_urls(),
        ]

    def _trace_or_404(self, request: HttpRequest, object_id: str) -> Trace:
        trace = self.get_object(request, object_id)
        if trace is None:
            raise Http404("No such trace.")
        if not self.has_view_permission(request, trace):
            raise PermissionDenied
        return trace

    def _render(self, request: HttpRequest, template: str, context: dict, status: int = 200) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        return TemplateResponse(request, f"admin/inspector/trace/{template}", context, status=status)

    def has_run_pipeline_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PIPELINE)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The trace page: header, Stage In/Out panel and replans (read-only)."""
        return self._trace_page(request, self._trace_or_404(request, object_id))

    def _trace_page(self, request: HttpRequest, trace: Trace, reply_form: ReplyForm | None = None,
                    status: int = 200) -> TemplateResponse:
        context = trace_page.page_context(trace)
        # The answer form of an ask_user card, for those who may run the pipeline.
        can_reply = bool(context["ask_user_card"]) and self.has_run_pipeline_permission(request)
        return self._render(request, "trace_page.html", {
            **context, "has_view_permission": True,
            "reply_form": (reply_form or ReplyForm()) if can_reply else None,
            "reply_url": reverse("admin:inspector_trace_reply", args=[trace.pk]) if can_reply else "",
            "reply_errors": [*reply_form.non_field_errors(), *reply_form["answer"].errors] if reply_form else [],
            **self.trace_page_links(request, context["trace"]),
        }, status=status)

    def reply_view(self, request: HttpRequest, object_id: str):
        """Send an answer to the trace's ask_user card: a new run in the trace's session, shown on its own page."""
        trace = self._trace_or_404(request, object_id)
        if not self.has_run_pipeline_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = ReplyForm(request.POST)
        if form.is_valid():
            context = ExecutionContext(tenant_id=trace.tenant_id, question=form.cleaned_data["answer"],
                                       user_id=str(request.user.pk))
            try:
                reply = pipeline_reply(context=context, reply_to=trace.trace_id, scope=scope_for(request.user),
                                       drafts=draft_scope_for(request.user))
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_change(request, trace, f"Answered its ask_user card: trace {reply.trace_id}")
                return HttpResponseRedirect(reverse("admin:inspector_trace_change", args=[reply.pk]))
        return self._trace_page(request, trace, reply_form=form, status=400)

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

    @admin.display(description="trace", ordering="trace_id")
    def trace_cell(self, trace: Trace) -> str:
        return truncated(trace.trace_id, css="ops-id")

    @admin.display(description="question")
    def short_question(self, trace: Trace) -> str:
        return truncated(trace.question[:1000], css="ops-question")

    @admin.display(description="tenant", ordering="tenant_id")
    def tenant(self, trace: Trace) -> str:
        return truncated(trace.tenant_id, css="ops-tenant")

    @admin.display(description="route", ordering="route")
    def route_label(self, trace: Trace) -> str:
        return words(trace.route) or "—"

    @admin.display(description="status", ordering="status")
    def status_badge(self, trace: Trace) -> str:
        if not trace.test_mode:
            return pill(trace.status)
        return format_html('{} <span class="ops-flag" title="A test-mode run with asset overrides">Test</span>',
                           pill(trace.status))

    @admin.display(description="started", ordering="started_at")
    def started(self, trace: Trace) -> str:
        return moment(trace.started_at)

    @admin.display(description="duration", ordering="duration_ms")
    def duration_cell(self, trace: Trace) -> str:
        return duration(trace.duration_ms)

    @admin.display(description="stages", ordering="stage_count")
    def stages(self, trace: Trace) -> str:
        if not trace.replan_count:
            return str(trace.stage_count)
        return format_html('{} <span class="ops-muted">· {} replan{}</span>', trace.stage_count, trace.replan_count,
                           "" if trace.replan_count == 1 else "s")

    @admin.display(description="tokens · cost", ordering="cost")
    def usage_summary(self, trace: Trace) -> str:
        tokens = trace.input_tokens + trace.output_tokens
        if not tokens and not trace.cost:
            return "—"
        return format_html('<span title="{}">{} · {}</span>', trace.tokens_text, f"{tokens:,}", trace.cost_text)


@admin.register(StageRun)
class StageRunAdmin(QuickRowsAdminMixin, TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    tenant_field = "trace__tenant_id"
    list_display = ["trace_cell", "stage_label", "attempt", "status_pill", "duration_cell", "issues", "references",
                    "empty_flag", "output"]
    list_filter = ["stage", StageStatusFilter, ("result_empty", titled(admin.BooleanFieldListFilter, "empty result"))]
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

    @admin.display(description="trace", ordering="trace__trace_id")
    def trace_cell(self, run: StageRun) -> str:
        return truncated(run.trace.trace_id, css="ops-id")

    @admin.display(description="stage", ordering="stage")
    def stage_label(self, run: StageRun) -> str:
        return run.stage.upper()

    @admin.display(description="status", ordering="status")
    def status_pill(self, run: StageRun) -> str:
        return pill(run.status, label="OK" if run.status == "ok" else "")

    @admin.display(description="duration", ordering="duration_ms")
    def duration_cell(self, run: StageRun) -> str:
        return duration(run.duration_ms)

    @admin.display(description="warnings · errors")
    def issues(self, run: StageRun) -> str:
        if not run.warnings_count and not run.errors_count:
            return "—"
        return f"{run.warnings_count} · {run.errors_count}"

    @admin.display(description="references", ordering="references_count")
    def references(self, run: StageRun) -> int:
        return run.references_count

    @admin.display(description="empty", ordering="result_empty")
    def empty_flag(self, run: StageRun) -> str:
        return mark_safe('<span class="ops-flag">Empty</span>') if run.result_empty else ""

    @admin.display(description="output", ordering="output_size")
    def output(self, run: StageRun) -> str:
        return size(run.output_size)


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
