"""The impact screen of an asset, added to inspector's asset admin.

Django's way to extend a registered ModelAdmin from another app (as
``access.admin`` does for ``User``): subclass it and register the subclass in
its place. inspector knows nothing of impact; the screen keeps its URL name
``admin:inspector_asset_impact`` and template.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse

from impact.charts import radar_svg, usage_bars_svg
from impact.params import report_arguments
from impact.report import asset_impact
from inspector.admin.assets import AssetAdmin
from inspector.models import Asset
from kernel.errors import ServiceError


class ImpactAssetAdmin(AssetAdmin):
    """inspector's ``AssetAdmin`` with an **Impact** button and screen."""

    def get_urls(self):
        return [path("<path:object_id>/impact/", self.admin_site.admin_view(self.impact_view),
                     name="inspector_asset_impact"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "impact_url": reverse("admin:inspector_asset_impact", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)

    def impact_view(self, request: HttpRequest, object_id: str):
        """Version impact: usage, metric cards, quality radar, comparison, per-stage, risk, related, advice."""
        asset = self.get_object(request, object_id)
        if asset is None:
            raise Http404("No such asset.")
        if not (self.has_view_permission(request, asset) and request.user.has_perm("inspector.view_trace")):
            raise PermissionDenied
        params = request.GET
        error, report = "", None
        try:
            report = asset_impact(asset=asset, **report_arguments(params, user=request.user))
        except ServiceError as exc:
            error = exc.message
        charts = {}
        if report and not report.get("empty"):
            charts = {"radar": radar_svg(report["axes"]["base"], report["axes"]["target"],
                                         base_label=f"v{report['base']}", target_label=f"v{report['target']}"),
                      "bars": usage_bars_svg(report["versions"])}
        elif report:
            charts = {"bars": usage_bars_svg(report["versions"])}
        including = params.get("include_test_mode") == "true"
        toggled = params.copy()
        if including:
            toggled.pop("include_test_mode")
        else:
            toggled["include_test_mode"] = "true"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Impact of {asset.asset_type} {asset.name}",
            "asset": asset,
            "report": report,
            "charts": charts,
            "error": error,
            "params": params,
            "query": params.urlencode(),
            "include_test_mode": including,
            "test_mode_toggle_query": toggled.urlencode(),
        }
        return TemplateResponse(request, "admin/inspector/asset/impact.html", context, status=400 if error else 200)


admin.site.unregister(Asset)
admin.site.register(Asset, ImpactAssetAdmin)
