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

from impact.charts import missing_axes, radar_svg, timeline_svg
from impact.figures import AXIS_NAMES, axis_score, change, figure, p_text, percent, relative_change
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
            **(screen_figures(report) if report else {}),
            "error": error,
            "params": params,
            "query": params.urlencode(),
            "include_test_mode": including,
            "test_mode_toggle_query": toggled.urlencode(),
        }
        return TemplateResponse(request, "admin/inspector/asset/impact.html", context, status=400 if error else 200)


def screen_figures(report: dict) -> dict:
    """What the template shows besides the report: charts and figures as text.

    ``charts``: the version timeline, and for a comparison the quality radar
    with the axes it could not draw (``radar_missing``); ``comparison``,
    ``axis_rows``, ``cards`` and ``stage_rows``: figures as they read
    (``impact.figures``).
    """
    charts = {"timeline": timeline_svg(report["versions"], base=report.get("base"), target=report.get("target"),
                                       start=report["filters"]["from"], end=report["filters"]["to"])}
    if report.get("empty"):
        return {"charts": charts}
    labels = f"v{report['base']}", f"v{report['target']}"
    if labels[0] == labels[1]:
        labels = f"{labels[0]} (base)", f"{labels[1]} (target)"
    axes = report["axes"]["base"], report["axes"]["target"]
    charts["radar"] = radar_svg(*axes, base_label=labels[0], target_label=labels[1])
    charts["radar_missing"] = missing_axes(dict(zip(labels, axes, strict=True)))
    axis_rows = [{"axis": axis, "name": AXIS_NAMES.get(axis, axis), "formula": formula,
                  "base": axis_score(axes[0].get(axis)), "target": axis_score(axes[1].get(axis))}
                 for axis, formula in report["axis_formulas"].items()]
    return {"charts": charts, "comparison": comparison_rows(report["comparison"]), "axis_rows": axis_rows,
            "cards": metric_cards(report["metrics"]["target"]), "stage_rows": stage_rows(report)}


def comparison_rows(comparison: list[dict]) -> list[dict]:
    """The comparison rows as the screen shows them, with ``*_text`` figures (``impact.figures``).

    Rates read as percentages and change in points (``+5.5 pts``), costs
    keep up to six significant digits, p-values read ``< 0.001``; a missing
    figure is "—".
    """
    return [{**row, "base_text": figure(row["metric"], row["base"]), "target_text": figure(row["metric"], row["target"]),
             "change_text": change(row), "relative_text": relative_change(row), "p_text": p_text(row["p_value"])}
            for row in comparison]


def metric_cards(metrics: dict) -> dict[str, str]:
    """The target's headline figures as the cards show them: rates in %, durations and means or "—"."""
    return {"error_rate": percent(metrics["error_rate"]), "empty_rate": percent(metrics["empty_rate"]),
            "replan_rate": percent(metrics["replan_rate"]),
            "p95": figure("duration_p95_ms", metrics["duration_p95_ms"]),
            "median": figure("duration_median_ms", metrics["duration_median_ms"]),
            "references": figure("mean_references", metrics["mean_references"])}


def stage_rows(report: dict) -> list[dict]:
    """Per consuming stage: the target's runs, median and p95 next to the base's median."""
    base, target = report["metrics"]["base"]["stage_durations"], report["metrics"]["target"]["stage_durations"]
    return [{"stage": stage.upper(), "runs": target.get(stage, {}).get("runs", 0),
             "median": figure("stage_ms", target.get(stage, {}).get("median_ms")),
             "p95": figure("stage_ms", target.get(stage, {}).get("p95_ms")),
             "base_median": figure("stage_ms", base.get(stage, {}).get("median_ms"))}
            for stage in report["stages"]]


admin.site.unregister(Asset)
admin.site.register(Asset, ImpactAssetAdmin)
