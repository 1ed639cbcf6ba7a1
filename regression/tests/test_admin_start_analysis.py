"""**Start analysis…** on a trace page: the picker, starting (permission, POST) and refusals that store nothing."""

import pytest
from django.urls import reverse

from access.roles import OPERATOR, VIEWER
from inspector.models import Trace
from inspector.services import trace_ingest
from regression.models import RegressionAnalysis
from testkit.factories import trace_body
from testkit.plugin import role_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_now")]
QUESTION = "Which servers run checkout-api?"


def _trace(trace_id: str, *, question: str = QUESTION, tenant_id: str = "default", minute: int = 0) -> Trace:
    trace, _ = trace_ingest(payload=trace_body(trace_id=trace_id, question=question, tenant_id=tenant_id,
                                               started_at=f"2026-11-20T10:{minute:02d}:00Z"))
    return trace


def _start_url(trace: Trace) -> str:
    return reverse("admin:inspector_trace_start_analysis", args=[trace.pk])


@pytest.fixture
def traces() -> dict[str, Trace]:
    return {"old": _trace("old", minute=1), "new": _trace("new", minute=2), "current": _trace("current", minute=3),
            "other-question": _trace("other-question", question="What is checkout-api?", minute=4),
            "other-tenant": _trace("other-tenant", tenant_id="globex", minute=5)}


@pytest.fixture
def operator_client(client):
    client.force_login(role_user(OPERATOR, tenants=["default", "globex"], staff=True))
    return client


def test_the_trace_page_links_to_the_picker_of_recent_traces_of_the_same_question(operator_client, traces):
    current = traces["current"]

    trace_page = operator_client.get(reverse("admin:inspector_trace_change", args=[current.pk])).content.decode()
    assert f'href="{_start_url(current)}" data-testid="start-analysis"' in trace_page
    assert 'data-testid="test-overrides"' in trace_page  # the override screen's link stays

    picker = operator_client.get(_start_url(current)).content.decode()
    assert [row.split('"', 1)[0] for row in picker.split('data-testid="baseline-choice" data-trace="')[1:]] == [
        "new", "old"]


def test_picking_a_baseline_starts_the_analysis_and_opens_it(operator_client, traces):
    response = operator_client.post(_start_url(traces["current"]), {"baseline": "old", "baseline_id": ""})

    analysis = RegressionAnalysis.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:regression_regressionanalysis_change", args=[analysis.pk])
    assert (analysis.baseline_trace_ids, analysis.candidate_trace_ids) == (["old"], ["current"])
    assert analysis.tenant_id == "default" and analysis.status == "completed"


def test_a_typed_id_may_name_a_trace_of_another_question(operator_client, traces):
    operator_client.post(_start_url(traces["current"]), {"baseline_id": " other-question "})

    assert RegressionAnalysis.objects.get().baseline_trace_ids == ["other-question"]


@pytest.mark.parametrize("posted,error", [
    ({"baseline_id": "no-such-trace"}, "unknown trace id(s): no-such-trace"),
    ({"baseline_id": "other-tenant"}, "unknown trace id(s): other-tenant"),  # ids are per tenant
    ({"baseline_id": "current"}, "a trace cannot be compared with itself"),
    ({}, "Pick a recent trace or type the baseline&#x27;s trace id."),
    ({"baseline": "old", "baseline_id": "new"}, "Pick a recent trace or type a trace id, not both."),
])
def test_bad_input_is_shown_on_the_page_and_nothing_is_stored(operator_client, traces, posted, error):
    response = operator_client.post(_start_url(traces["current"]), posted)

    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="start-analysis-error"' in page and error in page
    assert not RegressionAnalysis.objects.exists()


def test_a_viewer_gets_no_link_and_403_on_the_picker_and_on_post(client, traces):
    client.force_login(role_user(VIEWER, staff=True))
    current = traces["current"]

    trace_page = client.get(reverse("admin:inspector_trace_change", args=[current.pk])).content.decode()
    assert 'data-testid="start-analysis"' not in trace_page and "Start analysis" not in trace_page
    assert client.get(_start_url(current)).status_code == 403
    assert client.post(_start_url(current), {"baseline": "old"}).status_code == 403
    assert not RegressionAnalysis.objects.exists()


def test_another_tenants_trace_has_no_picker(client, traces):
    client.force_login(role_user(OPERATOR, staff=True))  # a member of "default" only

    assert client.get(_start_url(traces["other-tenant"])).status_code == 404
    assert client.post(_start_url(traces["other-tenant"]), {"baseline_id": "old"}).status_code == 404
    assert not RegressionAnalysis.objects.exists()
