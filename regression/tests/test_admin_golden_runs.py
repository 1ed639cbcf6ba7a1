"""Golden queries in the admin: Run now and the list's action (permission, refusals), the last run, read-only runs."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from access.roles import ADMIN, OPERATOR, VIEWER
from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from regression.admin_golden import when
from regression.models import GoldenQuery, RegressionRun
from regression.services import golden_query_set_baseline
from testkit.plugin import role_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_assets", "run_on_commit_now")]
QUESTION = "Events on checkout-api last 30 days"
LIST = "/admin/regression/goldenquery/"  # the changelist (reverse() would load the URLconf at import)


def _query(name: str, *, baseline: bool = True) -> GoldenQuery:
    query = GoldenQuery.objects.create(name=name, question=QUESTION)
    if baseline:
        golden_query_set_baseline(golden_query=query,
                                  trace_id=pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id)
    return query


def _run_url(query: GoldenQuery) -> str:
    return reverse("admin:regression_goldenquery_run", args=[query.pk])


def _login(client, role: str):
    client.force_login(role_user(role, staff=True))
    return client


def test_run_now_runs_the_query_and_opens_the_run_then_the_list_shows_its_verdict(client):
    query = _query("checkout-events")
    _login(client, OPERATOR)
    assert 'data-testid="run-golden"' in client.get(
        reverse("admin:regression_goldenquery_change", args=[query.pk])).content.decode()

    response = client.post(_run_url(query))

    run = RegressionRun.objects.get()
    assert response["Location"] == reverse("admin:regression_regressionrun_change", args=[run.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Run #{run.pk} of checkout-events started (completed)."]
    run_page = client.get(response["Location"]).content.decode()
    assert '<span class="ops-status ops-status-success">PASS</span>' in run_page
    listing = client.get(LIST).content.decode()
    assert '<span class="ops-status ops-status-success">PASS</span>' in listing and "just now" in listing


def test_a_query_without_a_baseline_is_refused_with_a_message_and_nothing_started(client):
    query = _query("no-baseline", baseline=False)
    _login(client, OPERATOR)

    response = client.post(_run_url(query), follow=True)

    assert "has no baseline yet" in response.content.decode()
    assert not RegressionRun.objects.exists()


def test_the_action_runs_every_selected_query(client):
    queries = [_query("first"), _query("second")]
    _login(client, OPERATOR)

    response = client.post(LIST, {"action": "run_selected", "_selected_action": [q.pk for q in queries]},
                           follow=True)

    assert "Started 2 runs: first, second." in response.content.decode()
    assert RegressionRun.objects.filter(status="completed").count() == 2


def test_the_action_starts_none_when_one_query_has_no_baseline(client):
    queries = [_query("ready"), _query("unready", baseline=False)]
    _login(client, OPERATOR)

    response = client.post(LIST, {"action": "run_selected", "_selected_action": [q.pk for q in queries]},
                           follow=True)

    assert "No baseline yet for unready: set one first; nothing was started" in response.content.decode()
    assert not RegressionRun.objects.exists()


def test_a_viewer_sees_no_button_nor_action_and_a_post_is_refused(client):
    query = _query("checkout-events")
    _login(client, VIEWER)

    page = client.get(reverse("admin:regression_goldenquery_change", args=[query.pk])).content.decode()
    assert 'data-testid="run-golden"' not in page
    assert "run_selected" not in client.get(LIST).content.decode()
    assert client.post(_run_url(query)).status_code == 403
    client.post(LIST, {"action": "run_selected", "_selected_action": [query.pk]})
    assert not RegressionRun.objects.exists()


def test_run_now_needs_post(client):
    query = _query("checkout-events")
    _login(client, OPERATOR)

    assert client.get(_run_url(query)).status_code == 405


@pytest.mark.parametrize("role,may_delete", [(VIEWER, False), (OPERATOR, False), (ADMIN, True)])
def test_a_run_page_is_read_only_and_offers_delete_only_to_the_admin_role(client, role, may_delete):
    query = _query("checkout-events")
    _login(client, OPERATOR).post(_run_url(query))
    run = RegressionRun.objects.get()
    started = run.started_at
    _login(client, role)
    change = reverse("admin:regression_regressionrun_change", args=[run.pk])

    page = client.get(change).content.decode()

    form = page.split('id="content-main"', 1)[1]
    assert 'name="started_at' not in form and "<textarea" not in form and 'type="submit"' not in form
    assert "Started at" in form and ("deletelink" in form) is may_delete
    assert client.post(change, {"started_at_0": "2020-01-01", "started_at_1": "00:00:00"}).status_code == 403
    run.refresh_from_db()
    assert run.started_at == started
    assert client.get(reverse("admin:regression_regressionrun_add")).status_code == 403


def test_last_run_times_read_as_ago_then_as_a_date_with_the_exact_time_in_the_title():
    now = timezone.now()

    assert ">3\xa0minutes ago</time>" in when(now - timedelta(minutes=3, seconds=5))
    old = when(now - timedelta(days=30))
    assert f">{(now - timedelta(days=30)).strftime('%Y-%m-%d')}</time>" in old and 'title="' in old
    assert "never" in when(None)
