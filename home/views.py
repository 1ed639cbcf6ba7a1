"""The admin index with a home on top: the four screens and the day's figures (templates/admin/index.html).

Django's own index view renders it, with the home as extra context; the URL
comes before ``admin.site.urls`` so ``admin:index`` still names ``/admin/``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from home.selectors import HomeFigures, home_figures, impact_asset_choices
from inspector.admin.display import words


def _index(request: HttpRequest):
    asset = request.GET.get("impact_asset", "")
    if asset.isdigit() and len(asset) < 12:
        # The impact screen checks the asset's tenant and the user's permissions itself.
        return HttpResponseRedirect(reverse("admin:inspector_asset_impact", args=[asset]))
    return admin.site.index(request, extra_context={"home": home_context(request)})


admin_home = admin.site.admin_view(_index)


def home_context(request: HttpRequest) -> dict:
    """What the home shows this user: the screens they may open, with links, and the day's figures."""
    user = request.user
    figures = home_figures(user=user)
    context: dict = {"figures": figures, "links": _figure_links(figures)}
    if user.has_perm("inspector.view_trace"):
        context["trace_list_url"] = reverse("admin:inspector_trace_changelist")
    if user.has_perm("controlloop.view_replanevent"):
        context["timeline_url"] = reverse("admin:controlloop_timeline")
    choices = impact_asset_choices(user=user)
    context["impact_assets"] = None if choices is None else [(words(kind), assets) for kind, assets in choices]
    if choices is not None:
        context["asset_list_url"] = reverse("admin:inspector_asset_changelist")
    may_test = user.has_perms(["inspector.view_trace", "inspector.use_test_mode", "inspector.run_pipeline"])
    if may_test and figures.latest_trace is not None:
        context["overrides_url"] = reverse("admin:inspector_trace_overrides", args=[figures.latest_trace.pk])
    context["may_test"] = may_test
    if user.has_perm("regression.view_goldenquery"):
        context["golden_queries_url"] = reverse("admin:regression_goldenquery_changelist")
    return context


def _figure_links(figures: HomeFigures) -> dict[str, str]:
    """Each figure's list, filtered to what it counts (the trace list's own filters)."""
    today = {"started_at__gte": str(figures.day_start), "started_at__lt": str(figures.day_end)}
    traces = reverse("admin:inspector_trace_changelist")
    breakers = reverse("admin:controlloop_replanbreaker_changelist")
    return {
        "traces_today": f"{traces}?{urlencode({'test_mode__exact': '0', **today})}",
        "failures_today": f"{traces}?{urlencode({'test_mode__exact': '0', 'status__exact': 'error', **today})}",
        "test_mode_today": f"{traces}?{urlencode({'test_mode__exact': '1', **today})}",
        "open_breakers": f"{breakers}?state__exact=open",
        "half_open_breakers": f"{breakers}?state__exact=half_open",
        "golden_run": reverse("admin:regression_regressionrun_changelist"),
    }
