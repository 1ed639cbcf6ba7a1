"""Admin for golden suites: the suite page (items inline, Record baseline / Start suite run, latest runs) and run pages.

Tenant-scoped like the other regression admins. The forms check what they
save with the suite services (``suite_check``, ``suite_item_check``); the
buttons call ``suite_record_baseline`` / ``suite_run_request``; what the run
page shows comes from ``suite_selectors.suite_run_page``.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from access.admin_scoping import TenantScopedAdmin
from kernel.errors import ServiceError
from regression import suite_selectors
from regression.services.suites import suite_check, suite_item_check, suite_record_baseline, suite_run_request
from regression.suite_models import GoldenSuite, SuiteItem, SuiteRun

VERDICT_CSS = {"PASS": "success", "WARN": "warning", "FAIL": "error"}
RUN_PERMISSIONS = {"baseline": "regression.add_baseline", "run": "regression.add_regressionrun"}


def verdict_chip(verdict: str) -> str:
    return format_html('<span class="ops-status ops-status-{}">{}</span>', VERDICT_CSS.get(verdict, ""),
                       verdict or "—")


class PrettyJSONField(forms.JSONField):
    """JSON shown indented (assertions are read and edited by people); empty stands for ``empty`` ({} or [])."""

    def __init__(self, *, empty, **kwargs) -> None:
        self.empty = empty
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(self.empty if value is None else value, indent=2, ensure_ascii=False, cls=self.encoder)

    def clean(self, value):
        cleaned = super().clean(value)
        return self.empty if cleaned is None else cleaned

    def has_changed(self, initial, data) -> bool:
        # An untouched extra inline row shows the empty value: not a change that asks for its other fields.
        return super().has_changed(self.empty if initial is None else initial, data)


def _service_errors(form: forms.ModelForm, check, instance) -> None:
    """Run a service check on the instance as the form would save it; its refusal becomes a field error."""
    try:
        check(instance)
    except ServiceError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)


class GoldenSuiteForm(forms.ModelForm):
    options = PrettyJSONField(empty={}, widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
                              help_text="Scoring overrides for this suite's analyses (docs/regression-scoring.md).")

    class Meta:
        model = GoldenSuite
        fields = ["name", "tenant_id", "description", "repeats", "options", "enabled", "schedule"]

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned[name] for name in ("repeats", "options", "schedule") if name in cleaned}
        if len(fields) == 3:
            _service_errors(self, lambda suite: suite_check(suite=suite),
                            GoldenSuite(**fields))
        return cleaned


class SuiteItemForm(forms.ModelForm):
    assertions = PrettyJSONField(empty=[], widget=forms.Textarea(attrs={"rows": 6, "cols": 48,
                                                                              "class": "ops-json-input"}),
                                 help_text='A list, e.g. [{"stage": "execute", "pointer": "/references", '
                                           '"op": "row_count", "min": 1}].')

    class Meta:
        model = SuiteItem
        fields = ["name", "kind", "question", "stage", "trace_id", "assertions", "position"]
        widgets = {"question": forms.Textarea(attrs={"rows": 2, "cols": 36})}

    def clean(self):
        cleaned = super().clean()
        suite = cleaned.get("suite") or getattr(self.instance, "suite", None)
        names = ("kind", "question", "stage", "trace_id")
        if suite is not None and all(name in cleaned for name in names) and not self.errors:
            item = SuiteItem(suite=suite, assertions=cleaned.get("assertions", []),
                             **{name: cleaned[name] for name in names})
            _service_errors(self, lambda checked: suite_item_check(item=checked), item)
            cleaned["assertions"] = item.assertions  # the normal, stored form
        return cleaned


class SuiteItemFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and form.instance.results.exists():
                raise ValidationError(f"Item {form.instance.name!r} has results in suite runs (the suite's "
                                      "history) and cannot be deleted.")


class SuiteItemInline(admin.TabularInline):
    model = SuiteItem
    form = SuiteItemForm
    formset = SuiteItemFormSet
    extra = 1
    fields = ["name", "kind", "question", "stage", "trace_id", "assertions", "position", "baseline"]
    readonly_fields = ["baseline"]

    @admin.display(description="baseline")
    def baseline(self, item: SuiteItem) -> str:
        count = len(item.baseline_trace_ids or [])
        return f"{count} trace{'' if count == 1 else 's'}" if count else "not recorded"


@admin.register(GoldenSuite)
class GoldenSuiteAdmin(TenantScopedAdmin, admin.ModelAdmin):
    form = GoldenSuiteForm
    list_display = ["name", "tenant_id", "repeats", "enabled", "schedule", "created_at"]
    list_filter = ["enabled", "tenant_id"]
    search_fields = ["name", "description"]
    inlines = [SuiteItemInline]
    change_form_template = "admin/regression/goldensuite/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: GoldenSuite | None = None):
        # As the API (409): a suite's stage items, baselines and runs are traces of its tenant, so a
        # suite that has any stays there, even for a member of both tenants.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and suite_selectors.suite_is_anchored(suite=obj):
            fields.append("tenant_id")
        return fields

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/record-baseline/", view(self.record_baseline_view),
                 name="regression_goldensuite_record_baseline"),
            path("<path:object_id>/start-run/", view(self.start_run_view), name="regression_goldensuite_start_run"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        suite = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if suite is not None:
            context.update({
                "latest_runs": suite_selectors.suite_latest_runs(suite=suite),
                "item_count": suite.items.count(),
                "may_record_baseline": request.user.has_perm(RUN_PERMISSIONS["baseline"]),
                "may_start_run": request.user.has_perm(RUN_PERMISSIONS["run"]),
            })
        return super().change_view(request, object_id, form_url, context)

    def record_baseline_view(self, request: HttpRequest, object_id: str):
        return self._start(request, object_id, "baseline",
                           lambda suite: suite_record_baseline(suite=suite, user=request.user))

    def start_run_view(self, request: HttpRequest, object_id: str):
        return self._start(request, object_id, "run", lambda suite: suite_run_request(suite=suite, user=request.user))

    def _start(self, request: HttpRequest, object_id: str, what: str, start):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        suite = self.get_object(request, unquote(object_id))
        if suite is None:
            raise Http404("No such suite.")
        if not request.user.has_perm(RUN_PERMISSIONS[what]):
            raise PermissionDenied
        try:
            run = start(suite)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:regression_goldensuite_change", args=[suite.pk]))
        label = "Baseline recording" if what == "baseline" else "Suite run"
        self.log_change(request, suite, f"{label} #{run.pk} started")
        run.refresh_from_db(fields=["status"])
        messages.success(request, f"{label} #{run.pk} of {suite.name} started ({run.status}).")
        return HttpResponseRedirect(reverse("admin:regression_suiterun_change", args=[run.pk]))


@admin.register(SuiteRun)
class SuiteRunAdmin(TenantScopedAdmin, admin.ModelAdmin):
    tenant_field = "suite__tenant_id"
    list_display = ["id", "suite", "trigger", "status", "verdict_chip", "score", "progress", "created_at",
                    "finished_at"]
    list_filter = ["status", "trigger", "verdict", "suite"]
    list_select_related = ["suite"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="verdict", ordering="verdict")
    def verdict_chip(self, run: SuiteRun) -> str:
        return verdict_chip(run.verdict)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        run = self.get_object(request, unquote(object_id))
        if run is None:
            raise Http404("No such suite run.")
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Run #{run.pk} of suite {run.suite.name}",
            "run": run,
            "suite_url": reverse("admin:regression_goldensuite_change", args=[run.suite_id]),
            **suite_selectors.suite_run_page(run=run),
        }
        return TemplateResponse(request, "admin/regression/suiterun/run_page.html", context)
