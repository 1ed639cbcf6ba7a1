"""The override screen (test mode for a trace) on the trace admin: regression's part of the trace pages.

inspector's ``TraceAdmin`` knows nothing of override tests; this subclass adds
the screen's views and its link on the trace page, and replaces the
registration (apps load in INSTALLED_APPS order, inspector first).
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from access.tenancy import draft_scope_for, scope_for
from inspector import selectors, trace_page
from inspector.admin.traces import TraceAdmin
from inspector.models import Trace
from kernel.errors import ServiceError
from regression import override_screen
from regression.models import OverrideTest
from regression.services.override_tests import override_test_start


class TraceWithOverridesAdmin(TraceAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/test-overrides/", view(self.overrides_view), name="inspector_trace_overrides"),
            path("<path:object_id>/test-overrides/preview/", view(self.override_preview_view),
                 name="inspector_trace_override_preview"),
            path("<path:object_id>/test-overrides/<int:test_id>/", view(self.override_result_view),
                 name="inspector_trace_override_result"),
            *super().get_urls(),
        ]

    def trace_page_links(self, request: HttpRequest, trace: Trace) -> dict[str, str]:
        if not self.has_test_mode_permission(request):
            return {}
        return {"overrides_url": reverse("admin:inspector_trace_overrides", args=[trace.pk])}

    def has_test_mode_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["inspector.use_test_mode", "inspector.run_pipeline"])

    def _test_mode_trace(self, request: HttpRequest, object_id: str) -> Trace:
        trace = self._trace_or_404(request, object_id)
        if not self.has_test_mode_permission(request):
            raise PermissionDenied
        return trace

    def overrides_view(self, request: HttpRequest, object_id: str):
        """Test mode for a trace: pick asset versions, preview, confirm, run in the background."""
        trace = self._test_mode_trace(request, object_id)
        trace = selectors.trace_get(trace_id=trace.trace_id, tenant=trace.tenant_id)
        error, error_field = "", ""
        if request.method == "POST":
            try:
                overrides = override_screen.parse_overrides(json.loads(request.POST.get("overrides") or "{}"))
                test = override_test_start(trace=trace, overrides=overrides, reason=request.POST.get("reason", ""),
                                           baseline_trace_id=request.POST.get("baseline", ""), user=request.user,
                                           scope=scope_for(request.user), drafts=draft_scope_for(request.user))
            except (ServiceError, ValueError) as exc:
                error = exc.message if isinstance(exc, ServiceError) else f"bad request: {exc}"
                error_field = (exc.field or "") if isinstance(exc, ServiceError) else ""
            else:
                self.log_change(request, trace, f"Test with overrides {json.dumps(overrides)} "
                                                f"against {test.baseline_trace.trace_id}: {test.reason}")
                return HttpResponseRedirect(reverse("admin:inspector_trace_override_result",
                                                    args=[trace.pk, test.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Test trace {trace.trace_id} with overrides",
            "trace": trace,
            "error": error,
            "error_field": error_field,
            "picker": override_screen.picker_data(trace),
            "preview_url": reverse("admin:inspector_trace_override_preview", args=[trace.pk]),
            "posted": request.POST if request.method == "POST" else {},
        }
        return TemplateResponse(request, "admin/inspector/trace/overrides.html", context, status=400 if error else 200)

    def override_preview_view(self, request: HttpRequest, object_id: str):
        trace = self._test_mode_trace(request, object_id)
        version = request.GET.get("version", "")
        if not version.isdigit():
            return JsonResponse({"detail": "version must be a number"}, status=400)
        try:
            preview = override_screen.spec_preview(trace, request.GET.get("type", ""), request.GET.get("name", ""),
                                                   int(version))
        except ServiceError as exc:
            return JsonResponse({"detail": exc.message}, status=exc.status_code)
        return JsonResponse(preview)

    def override_result_view(self, request: HttpRequest, object_id: str, test_id: int):
        trace = self._test_mode_trace(request, object_id)
        test = (OverrideTest.objects.select_related("analysis", "baseline_trace", "candidate_trace")
                .filter(pk=test_id, trace=trace).first())
        if test is None:
            raise Http404("No such test run.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Test of {trace.trace_id}",
            "trace": trace,
            "test": test,
            "analysis": test.analysis,
            "candidate": test.candidate_trace,
            # What the new trace applied (its bill of materials), the overridden versions marked.
            "candidate_applied": [{**row, "override": test.overrides.get(row["type"]) == row["ref"]}
                                  for row in trace_page.applied_versions(test.candidate_trace)]
            if test.candidate_trace else [],
            "baseline": test.baseline_trace,
            "done": test.status in ("completed", "failed"),
        }
        return TemplateResponse(request, "admin/inspector/trace/override_result.html", context)


admin.site.unregister(Trace)
admin.site.register(Trace, TraceWithOverridesAdmin)
