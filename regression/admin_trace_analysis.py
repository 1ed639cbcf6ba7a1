"""**Start analysis…** on a trace's page: pick a baseline, start a pair analysis of this trace, open its page.

Regression's second part of the trace pages, plugged in as the override
screen is (``regression/admin_overrides.py``): a subclass of the trace admin
adds the view, its link through ``trace_page_links``, and replaces the
registration. The link shows in the page's object tools through
``admin/regression/trace_page.html``, which extends the trace page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from access.tenancy import TenantScope
from inspector.models import Trace
from kernel.errors import ServiceError
from regression import selectors
from regression.admin_overrides import TraceWithOverridesAdmin
from regression.services import analysis_request

START_ANALYSIS = "regression.add_regressionanalysis"  # as POST /inspector/regression/analyze
TRACE_ID_MAX = Trace._meta.get_field("trace_id").max_length


class StartAnalysisForm(forms.Form):
    """The baseline of the analysis: a recent trace picked from the list, or an id typed in."""

    baseline = forms.CharField(required=False, max_length=TRACE_ID_MAX)
    baseline_id = forms.CharField(
        required=False, max_length=TRACE_ID_MAX, label="Baseline trace id",
        widget=forms.TextInput(attrs={"size": 40, "autocomplete": "off", "data-testid": "baseline-id"}))

    def clean(self):
        cleaned = super().clean()
        picked, typed = cleaned.get("baseline", ""), cleaned.get("baseline_id", "")
        if picked and typed and picked != typed:
            raise ValidationError("Pick a recent trace or type a trace id, not both.")
        if not (picked or typed):
            raise ValidationError("Pick a recent trace or type the baseline's trace id.")
        cleaned["baseline_trace_id"] = typed or picked
        return cleaned


class TraceWithAnalysisAdmin(TraceWithOverridesAdmin):
    def get_urls(self):
        return [
            path("<path:object_id>/start-analysis/", self.admin_site.admin_view(self.start_analysis_view),
                 name="inspector_trace_start_analysis"),
            *super().get_urls(),
        ]

    def has_start_analysis_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(START_ANALYSIS)

    def trace_page_links(self, request: HttpRequest, trace: Trace) -> dict[str, str]:
        links = super().trace_page_links(request, trace)
        if self.has_start_analysis_permission(request):
            links["start_analysis_url"] = reverse("admin:inspector_trace_start_analysis", args=[trace.pk])
        return links

    def _render(self, request: HttpRequest, template: str, context: dict, status: int = 200) -> TemplateResponse:
        response = super()._render(request, template, context, status)
        if template == "trace_page.html":
            # The trace page with this app's links in its object tools (the template extends the page's own).
            response.template_name = "admin/regression/trace_page.html"
        return response

    def start_analysis_view(self, request: HttpRequest, object_id: str):
        """GET: the baseline picker; POST: start the analysis (this trace is the candidate) and open it."""
        trace = self._trace_or_404(request, object_id)
        if not self.has_start_analysis_permission(request):
            raise PermissionDenied
        form = StartAnalysisForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            baseline_id = form.cleaned_data["baseline_trace_id"]
            try:
                # Both traces in this trace's tenant (one of the user's: its page opened): a user of several
                # tenants compares the trace they are looking at, whatever another tenant calls the same id.
                analysis = analysis_request(baseline_trace_ids=[baseline_id], candidate_trace_ids=[trace.trace_id],
                                            user=request.user, scope=TenantScope(tenants=frozenset({trace.tenant_id})))
            except ServiceError as exc:
                form.add_error(None, exc.message)  # nothing stored: the service checks before it saves
            else:
                self.log_change(request, trace, f"Analysis {analysis.pk} started against baseline {baseline_id}")
                analysis.refresh_from_db(fields=["status"])
                messages.success(request, f"Analysis of {trace.trace_id} against {baseline_id} started "
                                          f"({analysis.status}).")
                return HttpResponseRedirect(reverse("admin:regression_regressionanalysis_change",
                                                    args=[analysis.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Start an analysis of {trace.trace_id}",
            "trace": trace,
            "form": form,
            "choices": selectors.analysis_baseline_choices(trace=trace),
            "picked": form["baseline"].value() or "",
        }
        return TemplateResponse(request, "admin/regression/start_analysis.html", context,
                                status=400 if form.errors else 200)


admin.site.unregister(Trace)
admin.site.register(Trace, TraceWithAnalysisAdmin)
