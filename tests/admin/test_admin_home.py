"""The admin home: the four screens the user may open and the day's figures, each within their tenants."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.roles import OPERATOR, VIEWER
from controlloop.models import ReplanBreaker
from controlloop.services import ensure_default_policy
from home.selectors import day_bounds, home_figures
from inspector.models import Trace
from inspector.services import asset_create, trace_ingest
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun
from testkit.factories import VALID_SPECS, UserFactory, trace_body
from testkit.plugin import grant, role_user

pytestmark = pytest.mark.django_db


def trace(trace_id: str, *, tenant: str = "default", status: str = "success", test_mode: bool = False,
          days_ago: int = 0) -> Trace:
    stored, _ = trace_ingest(payload=trace_body(trace_id=trace_id, tenant_id=tenant))
    started = timezone.now() - timedelta(days=days_ago, minutes=1)
    Trace.objects.filter(pk=stored.pk).update(status=status, test_mode=test_mode, started_at=started)
    return stored


def golden_run(name: str, verdict: str, *, minutes_ago: int, tenant: str = "default", status: str = "completed"):
    query, _ = GoldenQuery.objects.get_or_create(name=name, tenant_id=tenant, defaults={"question": name})
    baseline = Baseline.objects.create(golden_query=query, trace=trace(f"base-{name}-{minutes_ago}", tenant=tenant))
    analysis = RegressionAnalysis.objects.create(kind="pair", status="completed", verdict=verdict) if verdict else None
    return RegressionRun.objects.create(golden_query=query, baseline=baseline, analysis=analysis, status=status,
                                        finished_at=timezone.now() - timedelta(minutes=minutes_ago))


def breaker(tenant: str, trigger: str, state: str) -> ReplanBreaker:
    return ReplanBreaker.objects.create(tenant_id=tenant, policy=ensure_default_policy(), trigger_type=trigger,
                                        state=state)


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def test_today_counts_live_traces_and_failures_and_test_mode_apart(superuser):
    trace("ok-1")
    trace("ok-2")
    trace("failed", status="error")
    trace("test", test_mode=True, status="error")
    trace("yesterday", status="error", days_ago=1)
    figures = home_figures(user=superuser)
    assert (figures.traces_today, figures.failures_today, figures.test_mode_today) == (3, 1, 1)
    assert figures.latest_trace.trace_id in {"ok-1", "ok-2", "failed"}


def test_a_day_runs_from_local_midnight_to_midnight(settings):
    settings.TIME_ZONE = "Europe/Paris"
    with timezone.override("Europe/Paris"):
        start, end = day_bounds(timezone.now())
        assert (start.hour, start.minute, end - start) == (0, 0, timedelta(days=1))
        assert start.utcoffset() in (timedelta(hours=1), timedelta(hours=2))


def test_figures_stay_within_the_users_tenants():
    trace("mine", tenant="acme", status="error")
    trace("theirs", tenant="globex", status="error")
    breaker("acme", "timeout", "open")
    breaker("globex", "timeout", "open")
    breaker("acme", "error", "half_open")
    golden_run("acme-q", "PASS", minutes_ago=5, tenant="acme")
    golden_run("globex-q", "FAIL", minutes_ago=1, tenant="globex")
    user = grant(UserFactory(tenants=["acme"]), "inspector.view_trace", "controlloop.view_replanbreaker",
                 "regression.view_regressionrun")
    figures = home_figures(user=user)
    # The golden baselines are traces too, in the queries' tenants.
    assert (figures.traces_today, figures.failures_today) == (2, 1)
    assert (figures.open_breakers, figures.half_open_breakers) == (1, 1)
    assert [verdict.query for verdict in figures.golden_verdicts] == ["acme-q"]


def test_a_figure_the_user_may_not_see_is_none():
    trace("t")
    figures = home_figures(user=UserFactory())
    assert (figures.traces_today, figures.open_breakers, figures.golden_verdicts, figures.latest_trace) == (
        None, None, None, None)


def test_last_verdicts_are_each_golden_querys_newest_run(superuser):
    golden_run("checkout", "FAIL", minutes_ago=30)
    golden_run("checkout", "PASS", minutes_ago=2)
    golden_run("orders", "", minutes_ago=10, status="failed")
    golden_run("billing", "WARN", minutes_ago=20)
    verdicts = home_figures(user=superuser).golden_verdicts
    assert [(v.query, v.verdict, v.status) for v in verdicts] == [
        ("checkout", "PASS", "completed"), ("orders", "", "failed"), ("billing", "WARN", "completed")]


def test_home_links_the_four_screens_and_the_figures(client, superuser):
    trace("ok")
    trace("bad", status="error")
    breaker("default", "timeout", "open")
    asset = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    golden_run("checkout", "PASS", minutes_ago=3)
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="admin-home"' in page
    assert f'action="{reverse("admin:inspector_trace_changelist")}"' in page and 'name="q"' in page
    assert f'href="{reverse("admin:controlloop_timeline")}"' in page
    assert f'<option value="{asset.pk}">ci_lookup</option>' in page
    latest = Trace.objects.filter(test_mode=False).order_by("-started_at", "-id").first()
    assert reverse("admin:inspector_trace_overrides", args=[latest.pk]) in page
    assert "failures_today" not in page and "status__exact=error" in page and "state__exact=open" in page
    assert reverse("admin:regression_regressionrun_change", args=[RegressionRun.objects.get().pk]) in page
    assert 'class="app-inspector module' in page  # Django's app list stays below


def test_a_figures_link_lists_what_it_counts(client, superuser):
    trace("ok")
    trace("bad", status="error")
    trace("old-bad", status="error", days_ago=2)
    client.force_login(superuser)
    home = client.get(reverse("admin:index"))
    link = home.context["home"]["links"]["failures_today"]
    listed = client.get(link).content.decode()
    assert ">bad<" in listed and ">ok<" not in listed and ">old-bad<" not in listed


def test_empty_states_say_what_to_do(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert "no trace yet today" in page and 'data-testid="no-traces-today"' in page
    assert "no failure today" in page and "no breaker open" in page
    assert "No golden-query run has finished yet." in page
    assert "No trace to test yet." in page


def test_a_viewer_sees_only_the_screens_and_figures_they_may_open(client):
    trace("t")
    client.force_login(role_user(VIEWER, staff=True))
    page = client.get(reverse("admin:index")).content.decode()
    assert 'data-testid="screen-traces"' in page and 'data-testid="screen-timeline"' in page
    assert 'data-testid="screen-impact"' in page
    assert 'data-testid="screen-overrides"' not in page  # no test-mode permission
    assert 'data-testid="card-open-breakers"' not in page  # breakers are not in the viewer's role
    assert 'data-testid="card-traces-today"' in page
    client.force_login(role_user(OPERATOR, staff=True))
    assert 'data-testid="overrides-link"' in client.get(reverse("admin:index")).content.decode()


def test_picking_an_asset_opens_its_impact_screen(client, superuser):
    asset = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    client.force_login(superuser)
    response = client.get(reverse("admin:index"), {"impact_asset": asset.pk})
    assert response.status_code == 302 and response["Location"] == reverse("admin:inspector_asset_impact",
                                                                           args=[asset.pk])
    assert client.get(reverse("admin:index"), {"impact_asset": "nope"}).status_code == 200


def test_another_tenants_asset_is_neither_offered_nor_opened(client):
    secret = asset_create(tenant_id="globex", asset_type="query", name="secret_q", spec=VALID_SPECS["query"])
    client.force_login(role_user(VIEWER, tenants=("acme",), staff=True))
    assert "secret_q" not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("admin:index"), {"impact_asset": secret.pk}, follow=True).status_code == 404


def test_app_pages_keep_their_app_list_without_the_home(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:app_list", args=["inspector"])).content.decode()
    assert 'data-testid="admin-home"' not in page and "Inspector: traces and assets" in page


def test_the_home_needs_a_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
