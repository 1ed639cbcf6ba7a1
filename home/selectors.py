"""The day's figures on the admin home, each as the user's tenants and permissions allow.

A figure the user may not see is ``None`` (the home leaves its card out); an
empty one is 0 or ``[]`` (the home says so and where to go next).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from access.tenancy import scope_for
from controlloop.models import ReplanBreaker
from inspector.models import Asset, Trace
from inspector.models.traces import TraceStatus
from kernel.tenancy import SHARED_TENANT
from regression.models import RegressionRun, WorkStatus

VERDICTS_SHOWN = 6
# Finished runs read to find the last verdict of up to VERDICTS_SHOWN golden queries.
RUNS_READ = 60
IMPACT_ASSETS_OFFERED = 500


@dataclass(frozen=True)
class GoldenVerdict:
    run_id: int
    query: str
    verdict: str  # PASS, WARN, FAIL, or "" when the run failed before an analysis
    status: str
    finished_at: datetime | None


@dataclass(frozen=True)
class HomeFigures:
    day_start: datetime
    day_end: datetime
    traces_today: int | None = None
    test_mode_today: int | None = None
    failures_today: int | None = None
    open_breakers: int | None = None
    half_open_breakers: int | None = None
    golden_verdicts: list[GoldenVerdict] | None = None
    latest_trace: Trace | None = None


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Today from midnight to midnight in the current time zone (the admin's "Today" filter's bounds)."""
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def home_figures(*, user, now: datetime | None = None) -> HomeFigures:
    """Traces and failures today (live runs; test-mode runs counted apart), open breakers, the last golden verdicts.

    Each figure is read only with the view permission of its model, within
    the user's tenants, as their admin lists show it.
    """
    scope = scope_for(user)
    start, end = day_bounds(now)
    figures: dict = {"day_start": start, "day_end": end}
    if user.has_perm("inspector.view_trace"):
        today = scope.filter(Trace.objects.filter(started_at__gte=start, started_at__lt=end))
        counts = today.aggregate(
            live=Count("pk", filter=Q(test_mode=False)), test=Count("pk", filter=Q(test_mode=True)),
            failures=Count("pk", filter=Q(test_mode=False, status=TraceStatus.ERROR)))
        figures.update(traces_today=counts["live"], test_mode_today=counts["test"],
                       failures_today=counts["failures"])
        figures["latest_trace"] = (scope.filter(Trace.objects.only("pk", "trace_id", "tenant_id"))
                                   .filter(test_mode=False).order_by("-started_at", "-id").first())
    if user.has_perm("controlloop.view_replanbreaker"):
        states = scope.filter(ReplanBreaker.objects.all()).aggregate(
            open=Count("pk", filter=Q(state="open")), half_open=Count("pk", filter=Q(state="half_open")))
        figures.update(open_breakers=states["open"], half_open_breakers=states["half_open"])
    if user.has_perm("regression.view_regressionrun"):
        figures["golden_verdicts"] = _last_verdicts(scope)
    return HomeFigures(**figures)


def _last_verdicts(scope) -> list[GoldenVerdict]:
    """The last finished run of each golden query, newest first, at most VERDICTS_SHOWN of them."""
    runs = scope.filter(RegressionRun.objects.filter(status__in=[WorkStatus.COMPLETED, WorkStatus.FAILED]),
                        "golden_query__tenant_id")
    runs = runs.select_related("golden_query", "analysis").only(
        "pk", "status", "finished_at", "golden_query__name", "analysis__verdict").order_by("-finished_at", "-pk")
    verdicts: dict[int, GoldenVerdict] = {}
    for run in runs[:RUNS_READ]:
        if run.golden_query_id not in verdicts:
            verdicts[run.golden_query_id] = GoldenVerdict(
                run_id=run.pk, query=run.golden_query.name, verdict=run.analysis.verdict if run.analysis else "",
                status=run.status, finished_at=run.finished_at)
        if len(verdicts) == VERDICTS_SHOWN:
            break
    return list(verdicts.values())


def impact_asset_choices(*, user) -> list[tuple[str, list[tuple[int, str]]]] | None:
    """Assets whose impact the user may open, grouped by type: ``[(type, [(pk, name), …]), …]``.

    ``None`` when the user may not open the impact screen at all.
    """
    if not user.has_perms(["inspector.view_asset", "inspector.view_trace"]):
        return None
    assets = scope_for(user).filter(Asset.objects.only("pk", "asset_type", "name", "tenant_id"), shared=True)
    groups: dict[str, list[tuple[int, str]]] = {}
    for asset in assets.order_by("asset_type", "name", "tenant_id")[:IMPACT_ASSETS_OFFERED]:
        label = asset.name if asset.tenant_id == SHARED_TENANT else f"{asset.name} ({asset.tenant_id})"
        groups.setdefault(asset.asset_type, []).append((asset.pk, label))
    return list(groups.items())
