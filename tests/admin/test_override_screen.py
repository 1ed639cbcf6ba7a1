"""The override screen's server side: permissions, bad input, preview, the run and the admin log."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils.html import escape

from inspector.contracts import ExecutionContext
from inspector.models import AssetVersion, Trace
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_v2_install
from regression.models import OverrideTest, RegressionAnalysis
from testkit.factories import UserFactory
from testkit.plugin import grant

pytestmark = [pytest.mark.usefixtures("reference_assets", "run_on_commit_now")]


@pytest.fixture
def run_on_commit_now(monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture
def tester(client, db):
    user = UserFactory(username="tester", password="pw", is_staff=True)
    # Asset-edit rights too: the screen's runs test draft versions (v2 is not published).
    grant(user, "inspector.view_trace", "inspector.run_pipeline", "inspector.use_test_mode",
          "inspector.add_assetversion")
    client.login(username="tester", password="pw")
    return client


@pytest.fixture
def trace(db):
    reference_v2_install(publish=False)
    return pipeline_run(context=ExecutionContext(question="Events on checkout-api last 30 days"))


def url(trace, name="admin:inspector_trace_overrides", *extra):
    return reverse(name, args=[trace.pk, *extra])


def test_page_lists_assets_with_counts_and_versions(tester, trace):
    response = tester.get(url(trace))
    assert response.status_code == 200
    picker = response.context["picker"]
    assert picker["counts"]["query"] == 6 and picker["counts"]["prompt"] == 1
    events = next(a for a in picker["assets"] if a["name"] == "event_history")
    assert events["used"] and events["usedVersion"] == 1 and [v["version"] for v in events["versions"]] == [2, 1]


def test_preview_shows_spec_diff_and_consuming_stages(tester, trace):
    data = tester.get(url(trace, "admin:inspector_trace_override_preview") + "?type=query&name=event_history&version=2").json()
    assert data["used"] == "event_history@1" and data["stages"] == ["execute"]
    assert data["operations"][0]["path"] == "/sql"
    assert tester.get(url(trace, "admin:inspector_trace_override_preview") + "?type=query&name=x&version=1").status_code == 404
    assert tester.get(url(trace, "admin:inspector_trace_override_preview") + "?type=query&name=x&version=a").status_code == 400


def test_preview_of_a_list_edit_names_each_removed_item_at_its_own_index(tester):
    """Issue 19: route_rules@2 → @1 listed `remove /rules/3/keywords/6 "slow"` three times."""
    reference_v2_install(publish=False)
    trace = pipeline_run(context=ExecutionContext(question="Is checkout-api slow?", test_mode=True,
                                                  asset_overrides={"prompt": "route_rules@2"}))
    data = tester.get(url(trace, "admin:inspector_trace_override_preview")
                      + "?type=prompt&name=route_rules&version=1").json()
    assert data["used"] == "route_rules@2"
    assert [(op["op"], op["path"], op["before"]) for op in data["operations"]] == [
        ("remove", "/rules/3/keywords/6", "slow"), ("remove", "/rules/3/keywords/7", "performance"),
        ("remove", "/rules/3/keywords/8", "health")]


def test_preview_of_a_query_shows_its_sql_as_a_line_diff(tester, trace):
    data = tester.get(url(trace, "admin:inspector_trace_override_preview") + "?type=query&name=event_history&version=2").json()
    (sql,) = data["operations"]
    assert [line for line in sql["lines"] if line["sign"] != " "] == [
        {"sign": "…", "text": ""}, {"sign": "+", "text": "  AND e.severity != 'info'"}]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_blank_reason_is_shown_by_the_field_and_nothing_runs(tester, trace, reason):
    traces = Trace.objects.count()
    response = tester.post(url(trace), {"overrides": json.dumps({"query": "event_history@2"}), "reason": reason})
    assert response.status_code == 400
    assert response.context["error_field"] == "reason"
    page = response.content.decode()
    field_error = page[page.index('id="reason-error"'):page.index('id="reason"')]
    assert "Say why you run this test" in field_error and "hidden" not in field_error.split(">")[0]
    assert "event_history@2" in page  # the chosen overrides are kept for the second try
    assert OverrideTest.objects.count() == 0 and Trace.objects.count() == traces


def test_run_creates_a_test_trace_and_analysis_and_logs_who_and_why(tester, trace):
    before = {v.pk: v.status for v in AssetVersion.objects.all()}
    response = tester.post(url(trace), {"overrides": json.dumps({"query": "event_history@2"}),
                                        "reason": "hide info events", "baseline": ""})
    assert response.status_code == 302
    test = OverrideTest.objects.get()
    assert test.status == "completed" and test.analysis.verdict in {"WARN", "FAIL"}
    assert test.candidate_trace.parent_trace_id == trace.trace_id and test.candidate_trace.test_mode
    assert {v.pk: v.status for v in AssetVersion.objects.all()} == before  # published versions untouched
    assert Trace.objects.get(pk=trace.pk).question == trace.question
    entry = LogEntry.objects.get(object_id=str(trace.pk))
    assert "event_history@2" in entry.get_change_message() and "hide info events" in entry.get_change_message()
    result = tester.get(response["Location"])
    assert result.context["analysis"].verdict == test.analysis.verdict
    applied = {row["type"]: row for row in result.context["candidate_applied"]}
    assert applied["query"]["ref"] == "event_history@2" and applied["query"]["override"]
    assert applied["prompt"]["ref"] == "route_rules@1" and not applied["prompt"]["override"]


def test_the_result_says_when_the_control_loop_not_the_asset_made_the_difference(tester, trace):
    """Issue 16: a retry refused by the breaker was blamed on the asset; the page now leads with why."""
    note = "the difference comes from the control loop (a refused replan), not from the asset overrides"
    refused = {"stage": "execute", "pointer": "/replans/0", "kind": "replan_refused", "penalty": 50,
               "critical": True, "message": "execute retry refused: breaker_open — breaker open for execute"}
    analysis = RegressionAnalysis.objects.create(
        kind="pair", status="completed", verdict="FAIL", score=50, baseline_trace_ids=[trace.trace_id],
        candidate_trace_ids=[trace.trace_id], critical_issues=[refused], notes=[note],
        stage_results=[{"stage": "execute", "score": 50, "issues": [refused]}])
    test = OverrideTest.objects.create(trace=trace, baseline_trace=trace, candidate_trace=trace,
                                       overrides={"screen": "answer_card@1"}, status="completed", analysis=analysis)

    page = tester.get(url(trace, "admin:inspector_trace_override_result", test.pk)).content.decode()

    why = page[page.index('data-testid="analysis-why"'):page.index('data-testid="stage-issues"')]
    assert "replan_refused" in why and escape(refused["message"]) in why and escape(note) in why


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "add at least one override"),
        ({"prompt": "event_history@1"}, "it is a query asset"),
        ({"query": "event_history@9"}, "has no version 9"),
        ({"query": "gone_asset@1"}, "no query asset named"),
    ],
)
def test_bad_input_shows_a_message_and_runs_nothing(tester, trace, overrides, message):
    traces = Trace.objects.count()
    response = tester.post(url(trace), {"overrides": json.dumps(overrides), "reason": "x"})
    assert response.status_code == 400
    assert message in response.context["error"]
    assert OverrideTest.objects.count() == 0 and Trace.objects.count() == traces


def test_trace_without_a_question_is_refused(tester, trace):
    Trace.objects.filter(pk=trace.pk).update(question=" ")
    response = tester.post(url(trace), {"overrides": json.dumps({"query": "event_history@2"})})
    assert response.status_code == 400 and "no question" in response.context["error"]


def test_without_permission_the_screen_is_403(client, trace):
    user = UserFactory(username="viewer2", password="pw", is_staff=True)
    grant(user, "inspector.view_trace")
    client.login(username="viewer2", password="pw")
    assert client.get(url(trace)).status_code == 403
    assert client.post(url(trace), {"overrides": "{}"}).status_code == 403
    page = client.get(reverse("admin:inspector_trace_change", args=[trace.pk])).content.decode()
    assert "Test with overrides" not in page


def test_a_draft_is_refused_to_a_tester_who_may_not_edit_the_asset(client, trace):
    user = UserFactory(username="runner", password="pw", is_staff=True)
    grant(user, "inspector.view_trace", "inspector.run_pipeline", "inspector.use_test_mode")
    client.login(username="runner", password="pw")
    response = client.post(url(trace), {"overrides": json.dumps({"query": "event_history@2"}),
                                        "reason": "hide info events", "baseline": ""})
    assert response.status_code == 400 and "is a draft" in response.content.decode()
    assert not OverrideTest.objects.exists()
