"""POST /ops/ask and POST /ops/stage-test."""

import pytest

from inspector.models import Trace
from reference.assets import reference_v2_install

pytestmark = pytest.mark.usefixtures("reference_assets")
ASK = "/ops/ask"
STAGE_TEST = "/ops/stage-test"


@pytest.fixture
def draft_tester_client(operator):
    """An operator who may also edit assets: only such users run draft versions in test mode."""
    from testkit.plugin import client_for, grant

    return client_for(grant(operator, "inspector.add_assetversion"))


def test_ask_runs_the_pipeline_and_returns_the_trace(runner_only_client):
    response = runner_only_client.post(ASK, {"question": "What is checkout-api?"}, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["route"] == "plan" and [s["stage"] for s in data["stages"]][-1] == "present"
    assert data["applied_assets"]["query"] == {"name": "ci_lookup", "version": 1, "status": "published"}
    assert Trace.objects.filter(trace_id=data["trace_id"], test_mode=False).exists()


def test_ask_in_test_mode_with_override_and_baseline(draft_tester_client):
    reference_v2_install(publish=False)
    baseline = draft_tester_client.post(ASK, {"question": "Events on checkout-api this week"}, format="json").json()
    response = draft_tester_client.post(ASK, {"question": "Events on checkout-api this week", "test_mode": True,
                                          "asset_overrides": {"query": "event_history@2"},
                                          "baseline_trace_id": baseline["trace_id"]}, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["test_mode"] is True and data["parent_trace_id"] == baseline["trace_id"]
    assert data["applied_assets"]["query"]["version"] == 2


def test_test_mode_needs_its_own_permission(runner_only_client):
    for body in ({"question": "q", "test_mode": True}, {"question": "q", "asset_overrides": {"query": "ci_lookup@1"}},
                 {"question": "q", "baseline_trace_id": "x"}):
        assert runner_only_client.post(ASK, body, format="json").status_code == 403
    assert Trace.objects.count() == 0


def test_ask_permissions(anon_client, viewer_client):
    assert anon_client.post(ASK, {"question": "q"}, format="json").status_code == 401
    assert viewer_client.post(ASK, {"question": "q"}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": "  "}, "question"),
        ({"question": "q", "test_mode": "maybe"}, "test_mode"),
        ({"question": "q", "colour": "red"}, "colour"),
        ({"question": "q", "test_mode": True, "asset_overrides": {"query": "nope@1"}}, "asset_overrides"),
        ({"question": "q", "test_mode": True, "asset_overrides": {"query": "ci_lookup@7"}}, "asset_overrides"),
        ({"question": "q", "test_mode": True, "baseline_trace_id": "missing"}, "baseline_trace_id"),
    ],
)
def test_ask_bad_input_is_400_and_writes_nothing(operator_client, body, field):
    response = operator_client.post(ASK, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert Trace.objects.count() == 0


def test_stage_test_from_a_trace_diffs_against_the_recorded_stage(draft_tester_client):
    reference_v2_install(publish=False)
    trace_id = draft_tester_client.post(ASK, {"question": "Events on checkout-api last 30 days"}, format="json").json()[
        "trace_id"]
    traces_before = Trace.objects.count()

    response = draft_tester_client.post(STAGE_TEST, {"stage": "execute", "trace_id": trace_id,
                                                 "asset_overrides": {"query": "event_history@2"}}, format="json")

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["applied_assets"]["query"] == "event_history@2"
    assert data["baseline"]["applied_assets"]["query"] == "event_history@1"
    assert data["diff"]["changed"] is True and data["diff"]["counts"].get("remove", 0) > 0
    assert data["output"]["diagnostics"]["counts"]["rows"] < data["baseline_output"]["diagnostics"]["counts"]["rows"]
    assert Trace.objects.count() == traces_before  # nothing stored


def test_stage_test_without_change_has_an_empty_diff(operator_client):
    trace_id = operator_client.post(ASK, {"question": "What is checkout-api?"}, format="json").json()["trace_id"]
    data = operator_client.post(STAGE_TEST, {"stage": "execute", "trace_id": trace_id}, format="json").json()
    assert data["diff"] == {"changed": False, "operation_count": 0, "counts": {}, "operations": [], "truncated": []}


def test_stage_test_from_a_question(draft_tester_client):
    reference_v2_install(publish=False)
    response = draft_tester_client.post(STAGE_TEST, {"stage": "present", "question": "List all servers",
                                                 "asset_overrides": {"screen": "answer_card@2"}}, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["applied_assets"] == {"screen": "answer_card@2"}
    assert data["baseline"]["question"] == "List all servers"
    assert data["diff"]["changed"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"stage": "execute"}, 400),
        ({"stage": "execute", "trace_id": "x", "question": "q"}, 400),
        ({"stage": "deploy", "question": "q"}, 400),
        ({"stage": "execute", "trace_id": "missing"}, 404),
        ({"stage": "execute", "question": "hello"}, 400),  # direct route: no execute stage
        ({"stage": "execute", "question": "q", "asset_overrides": {"query": "ci_lookup@5"}}, 400),
    ],
)
def test_stage_test_bad_input(operator_client, body, status):
    assert operator_client.post(STAGE_TEST, body, format="json").status_code == status


def test_stage_test_needs_test_mode_permission(runner_only_client, anon_client):
    body = {"stage": "execute", "question": "What is checkout-api?"}
    assert runner_only_client.post(STAGE_TEST, body, format="json").status_code == 403
    assert anon_client.post(STAGE_TEST, body, format="json").status_code == 401
