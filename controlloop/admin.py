"""Admin for replan policies and events, and the replan timeline screen."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from pydantic import TypeAdapter

from access.admin_scoping import TenantScopedAdmin
from access.tenancy import scope_for
from controlloop.contracts import DECISIONS, SEVERITIES, TRIGGER_TYPES, TriggerRule, TriggerType
from controlloop.models import ReplanBreaker, ReplanEvent, ReplanLedger, ReplanPolicy
from controlloop.timeline import PARAMS as TIMELINE_PARAMS
from controlloop.timeline import timeline_context
from inspector.admin.display import WordedChoicesFilter, moment, pill, titled, truncated, words
from inspector.admin.json_editor import JSONEditor, PrettyJSONField
from inspector.admin_paging import LargeTablePaginator
from inspector.admin_rows import QuickRowsAdminMixin


def _seconds(value: float) -> str:
    return f"{value:g} s"


class ReplanPolicyForm(forms.ModelForm):
    """Rules as indented JSON beside their schema; allowed triggers as ticks. ``ReplanPolicy.clean`` checks both
    (each rule against ``TriggerRule``, the whole policy as a ``PolicySnapshot``) and its messages are the errors."""

    allowed_triggers = forms.MultipleChoiceField(
        choices=[(trigger, words(trigger)) for trigger in TRIGGER_TYPES], widget=forms.CheckboxSelectMultiple,
        required=False, label="Allowed triggers", help_text="A trigger left unticked is never replanned.")
    min_severity = forms.ChoiceField(choices=[(severity, words(severity)) for severity in SEVERITIES],
                                     label="Minimum severity", help_text="Triggers below it are not replanned.")
    rules = PrettyJSONField(
        required=False, label="Rules", help_text="Trigger type → {decision, scope, patch, guidance}.",
        widget=JSONEditor(schema=TypeAdapter(dict[TriggerType, TriggerRule]).json_schema(),
                          schema_title="JSON schema of the rules"))

    class Meta:
        model = ReplanPolicy
        fields = ["name", "tenant_id", "is_default", "allowed_triggers", "min_severity", "max_replans",
                  "min_interval_seconds", "cooling_period_seconds", "rules", "breaker_window", "breaker_min_samples",
                  "breaker_failure_ratio", "breaker_cooldown_seconds"]

    def clean_allowed_triggers(self):
        chosen = set(self.cleaned_data["allowed_triggers"])
        return [trigger for trigger in TRIGGER_TYPES if trigger in chosen]

    def clean_rules(self):
        return self.cleaned_data["rules"] or {}


@admin.register(ReplanPolicy)
class ReplanPolicyAdmin(QuickRowsAdminMixin, TenantScopedAdmin, admin.ModelAdmin):
    tenant_blank_is_shared = True
    form = ReplanPolicyForm
    list_display = ["policy_name", "tenant", "version_label", "max_replans", "severity", "intervals",
                    "breaker", "updated"]
    readonly_fields = ["version"]
    list_filter = [("is_default", titled(admin.BooleanFieldListFilter, "default policy")),
                   ("min_severity", titled(WordedChoicesFilter, "minimum severity"))]
    search_fields = ["name", "tenant_id"]
    fieldsets = [
        (None, {"fields": ["name", "tenant_id", "is_default", "version"]}),
        ("When to replan", {"fields": ["allowed_triggers", "min_severity", "max_replans", "min_interval_seconds",
                                       "cooling_period_seconds"]}),
        ("What to do", {"fields": ["rules"]}),
        ("Breaker", {"fields": ["breaker_window", "breaker_min_samples", "breaker_failure_ratio",
                                "breaker_cooldown_seconds"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj and obj.is_default) and super().has_delete_permission(request, obj)

    @admin.display(description="name", ordering="name")
    def policy_name(self, policy: ReplanPolicy) -> str:
        if not policy.is_default:
            return truncated(policy.name, css="ops-name")
        return format_html('{} <span class="ops-flag">Default</span>', truncated(policy.name, css="ops-name ops-inline"))

    @admin.display(description="tenant", ordering="tenant_id")
    def tenant(self, policy: ReplanPolicy) -> str:
        return truncated(policy.tenant_id, css="ops-tenant") if policy.tenant_id else mark_safe(
            '<span class="ops-muted">every tenant</span>')

    @admin.display(description="version", ordering="version")
    def version_label(self, policy: ReplanPolicy) -> str:
        return f"v{policy.version}"

    @admin.display(description="minimum severity", ordering="min_severity")
    def severity(self, policy: ReplanPolicy) -> str:
        return words(policy.min_severity)

    @admin.display(description="interval · cooling")
    def intervals(self, policy: ReplanPolicy) -> str:
        return f"{_seconds(policy.min_interval_seconds)} · {_seconds(policy.cooling_period_seconds)}"

    @admin.display(description="breaker")
    def breaker(self, policy: ReplanPolicy) -> str:
        return format_html(
            '<span title="Opens when {}% of the last {} replans failed (at least {} of them); one trial after {}.">'
            '{}% of {} · {}</span>', f"{policy.breaker_failure_ratio * 100:g}", policy.breaker_window,
            policy.breaker_min_samples, _seconds(policy.breaker_cooldown_seconds),
            f"{policy.breaker_failure_ratio * 100:g}", policy.breaker_window, _seconds(policy.breaker_cooldown_seconds))

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, policy: ReplanPolicy) -> str:
        return moment(policy.updated_at)


@admin.register(ReplanEvent)
class ReplanEventAdmin(QuickRowsAdminMixin, TenantScopedAdmin, admin.ModelAdmin):
    # Codes read as words (issue 19): "Empty result", "Stop with guidance", a pill for the breaker.
    list_display = ["created", "kind_words", "trace_id", "trigger_words", "severity_words", "stage_label",
                    "decision_words", "approved", "veto_words", "attempt", "max_attempts", "outcome_words",
                    "breaker_pill", "isolated"]
    # isolated: decided by a test-mode run against a snapshot; filter them out to count live vetoes.
    # A date filter, not a date_hierarchy: the hierarchy's year/month/day links cost a MIN, a MAX and a
    # DISTINCT over every event on each page (issue 17: 153 ms p95 at 54,000 events).
    list_filter = ["kind", "isolated", "trigger_type", "severity", "decision", "approved", "veto",
                   ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=trace_id", "trigger_reason", "reason"]
    # No column shows the policy (no join), and the patches and the raw trigger are shown on the event's
    # page, never in the list.
    list_select_related = False
    changelist_defer = ["trigger_raw", "trigger_metadata", "patch_before", "patch_after", "json_patch"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    # 14 columns a row: 50 rows keep the page within budget (100 rows rendered in ~110 ms in-process).
    list_per_page = 50
    readonly_fields = [f.name for f in ReplanEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="created", ordering="created_at")
    def created(self, event: ReplanEvent):
        return moment(event.created_at)

    @admin.display(description="kind", ordering="kind")
    def kind_words(self, event: ReplanEvent) -> str:
        return words(event.kind)

    @admin.display(description="trigger", ordering="trigger_type")
    def trigger_words(self, event: ReplanEvent) -> str:
        return words(event.trigger_type)

    @admin.display(description="severity", ordering="severity")
    def severity_words(self, event: ReplanEvent) -> str:
        return words(event.severity)

    @admin.display(description="stage", ordering="stage_name")
    def stage_label(self, event: ReplanEvent) -> str:
        return event.stage_name.upper() or "—"

    @admin.display(description="decision", ordering="decision")
    def decision_words(self, event: ReplanEvent) -> str:
        return words(event.decision)

    @admin.display(description="veto", ordering="veto")
    def veto_words(self, event: ReplanEvent) -> str:
        return words(event.veto) or "—"

    @admin.display(description="outcome", ordering="outcome")
    def outcome_words(self, event: ReplanEvent) -> str:
        return words(event.outcome) or "—"

    @admin.display(description="breaker", ordering="breaker_state")
    def breaker_pill(self, event: ReplanEvent):
        return pill(event.breaker_state) if event.breaker_state else "—"

    def get_urls(self):
        return [path("timeline/", self.admin_site.admin_view(self.timeline_view), name="controlloop_timeline"),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "timeline_url": reverse("admin:controlloop_timeline")}
        return super().changelist_view(request, extra_context)

    def timeline_view(self, request):
        """A horizontal timeline of replan decisions, filterable and zoomable, with a selected event's chain and patch.

        An unreadable filter is answered with the page, its error shown, and a 400 as the API answers it.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        page = timeline_context({key: request.GET.get(key, "") for key in TIMELINE_PARAMS}, scope_for(request.user),
                                link_traces=request.user.has_perm("inspector.view_trace"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Replan timeline",
            "trigger_types": TRIGGER_TYPES,
            "severities": SEVERITIES,
            "decisions": DECISIONS,
            **page,
        }
        return TemplateResponse(request, "admin/controlloop/timeline.html", context, status=400 if page["error"] else 200)


@admin.register(ReplanLedger)
class ReplanLedgerAdmin(QuickRowsAdminMixin, TenantScopedAdmin, admin.ModelAdmin):
    list_display = ["trace_id", "tenant_id", "replans_used", "updated_at"]
    search_fields = ["=trace_id"]
    readonly_fields = ["trace_id", "tenant_id", "replans_used", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ReplanBreaker)
class ReplanBreakerAdmin(QuickRowsAdminMixin, TenantScopedAdmin, admin.ModelAdmin):
    """Read-only: a breaker moves only by its transitions (controlloop/breaker.py)."""

    list_display = ["tenant_id", "policy", "trigger_words", "stage_label", "state_pill", "opened_at",
                    "trial_started_at", "updated_at"]
    list_filter = ["state", "trigger_type", "stage_name"]
    list_select_related = ["policy"]
    readonly_fields = [f.name for f in ReplanBreaker._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="trigger", ordering="trigger_type")
    def trigger_words(self, breaker: ReplanBreaker) -> str:
        return words(breaker.trigger_type)

    @admin.display(description="stage", ordering="stage_name")
    def stage_label(self, breaker: ReplanBreaker) -> str:
        return breaker.stage_name.upper() or "every stage"

    @admin.display(description="state", ordering="state")
    def state_pill(self, breaker: ReplanBreaker):
        return pill(breaker.state)
