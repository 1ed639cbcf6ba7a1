"""Analyses through the API (eager tasks): request, poll, validation, permissions, stage compare."""

import copy

import pytest

from inspector.models import Trace
from inspector.services import trace_ingest
from regression.models import RegressionAnalysis
from testkit.factories import UserFactory, trace_body
from testkit.plugin import client_for, grant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_now")]
ANALYZE = "/inspector/regression/analyze"


@pytest.fixture
def analyst(db):
    return client_for(grant(UserFactory(), "regression.add_regressionanalysis", "regression.view_regressionanalysis",
                            "inspector.view_trace"))


@pytest.fixture
def traces(db):
    base = trace_body(trace_id="base")
    trace_ingest(payload=base)
    same = copy.deepcopy(base)
    same["trace_id"] = "same"
    same["stages"][2]["output"]["duration_ms"] = 15  # timing noise only
    trace_ingest(payload=same)
    broken = copy.deepcopy(base)
    broken["trace_id"] = "broken"
    execute = broken["stages"][2]["output"]
    execute["diagnostics"].update(status="error", errors=["boom"], empty_flags={"result_empty": True})
    execute["result"]["tool_results"] = []
    trace_ingest(payload=broken)


def test_pair_analysis_of_identical_runs_passes(analyst, traces):
    response = analyst.post(ANALYZE, {"baseline_trace_id": "base", "candidate_trace_id": "same"}, format="json")
    assert response.status_code == 202, response.json()
    analysis_id = response.json()["analysis_id"]
    data = analyst.get(f"/inspector/regression/{analysis_id}").json()
    assert data["status"] == "completed" and data["verdict"] == "PASS" and data["score"] == 0


def test_pair_analysis_of_a_broken_run_fails_with_pointed_issues(analyst, traces):
    analysis_id = analyst.post(ANALYZE, {"baseline_trace_id": "base", "candidate_trace_id": "broken"},
                               format="json").json()["analysis_id"]
    data = analyst.get(f"/inspector/regression/{analysis_id}").json()
    assert data["verdict"] == "FAIL" and data["score"] >= 50
    assert data["critical_issues"] and all(i["stage"] and "pointer" in i for i in data["critical_issues"])
    assert {i["stage"] for i in data["critical_issues"]} == {"execute"}


def test_group_analysis_reports_statistics(analyst, traces):
    for i in range(4):
        body = trace_body(trace_id=f"g-base-{i}")
        trace_ingest(payload=body)
        slow = trace_body(trace_id=f"g-cand-{i}")
        for stage in slow["stages"]:
            stage["output"]["duration_ms"] = 400 + i
        trace_ingest(payload=slow)
    response = analyst.post(ANALYZE, {"baseline_trace_ids": [f"g-base-{i}" for i in range(4)],
                                      "candidate_trace_ids": [f"g-cand-{i}" for i in range(4)]}, format="json")
    data = analyst.get(f"/inspector/regression/{response.json()['analysis_id']}").json()
    assert data["kind"] == "group" and data["status"] == "completed"
    assert data["statistics"]["table"] and "text" in data["statistics"]
    assert data["verdict"] in {"WARN", "FAIL"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"baseline_trace_id": "base"}, 400),
        ({"baseline_trace_id": "base", "candidate_trace_id": "base"}, 400),
        ({"baseline_trace_id": "base", "candidate_trace_id": "nope"}, 400),
        ({"baseline_trace_ids": [], "candidate_trace_ids": ["same"]}, 400),
        ({"baseline_trace_id": "base", "candidate_trace_ids": ["same"]}, 400),
        ({"baseline_trace_id": "base", "candidate_trace_id": "same", "options": {"no_such_penalty": 3}}, 400),
    ],
)
def test_bad_analysis_requests_are_400_and_store_nothing(analyst, traces, body, status):
    assert analyst.post(ANALYZE, body, format="json").status_code == status
    assert RegressionAnalysis.objects.count() == 0


def test_unknown_analysis_is_404(analyst, db):
    assert analyst.get("/inspector/regression/00000000-0000-0000-0000-000000000000").status_code == 404


def test_permissions(anon_client, viewer_client, traces):
    body = {"baseline_trace_id": "base", "candidate_trace_id": "same"}
    assert anon_client.post(ANALYZE, body, format="json").status_code == 401
    assert viewer_client.post(ANALYZE, body, format="json").status_code == 403


def test_stage_compare_by_trace_ids_and_by_bodies(analyst, traces):
    by_id = analyst.post("/inspector/regression/stage-compare",
                         {"stage": "execute", "baseline_trace_id": "base", "candidate_trace_id": "broken"},
                         format="json")
    assert by_id.status_code == 200, by_id.json()
    assert by_id.json()["score"] > 0
    body = {"stage": "execute", "result": {"tool_results": [], "references": []}, "duration_ms": 3}
    by_body = analyst.post("/inspector/regression/stage-compare",
                           {"stage": "execute", "baseline": body, "candidate": body}, format="json")
    assert by_body.status_code == 200 and by_body.json()["score"] == 0
    bad = analyst.post("/inspector/regression/stage-compare",
                       {"stage": "execute", "baseline": {"stage": "execute", "duration_ms": -1}, "candidate": body},
                       format="json")
    assert bad.status_code == 400


def test_truncated_positional_diff_is_stored_shown_by_the_api_and_on_the_compare_page(analyst, admin_client, db):
    # 200 rows whose ids repeat (compared by position), every row different: the diff lists 50, counts the rest.
    for trace_id, shift in (("pos-base", 0), ("pos-cand", 1)):
        body = trace_body(trace_id=trace_id)
        body["stages"][2]["output"]["result"]["rows"] = [{"id": i % 3, "value": i + shift} for i in range(200)]
        trace_ingest(payload=body)

    analysis_id = analyst.post(ANALYZE, {"baseline_trace_id": "pos-base", "candidate_trace_id": "pos-cand"},
                               format="json").json()["analysis_id"]
    data = analyst.get(f"/inspector/regression/{analysis_id}").json()

    execute = next(stage for stage in data["stage_results"] if stage["stage"] == "execute")
    assert execute["diff"]["truncated"] == [{"pointer": "/result/rows", "positions": 200, "differing_items": 200,
                                             "listed_items": 50}]
    assert len(execute["diff"]["changed"]) == 50 and execute["score"] == 40
    [note] = [issue for issue in execute["issues"] if issue["kind"] == "output_diff_truncated"]
    assert note["pointer"] == "/result/rows" and "the other 150 only counted" in note["message"]
    candidate = Trace.objects.get(trace_id="pos-cand")
    page = admin_client.get(f"/admin/inspector/trace/{candidate.pk}/compare/?baseline=pos-base")
    assert page.status_code == 200
    assert "execute: diff truncated: 200 of the 200 entries of /result/rows differ" in page.content.decode()
