"""GET /inspector/traces/{id}/diff lists every attempt of both traces with the replans between them (issue 16)."""

import pytest

from inspector.services import trace_ingest
from testkit.factories import retried_execute_pair, trace_body

pytestmark = pytest.mark.django_db

APPROVED = {"trigger": "empty_result", "stage": "execute", "decision": "auto_retry", "approved": True, "veto": "",
            "reason": "approved: auto_retry from execute (replan 1 of 2)", "attempt": 1, "event_id": 3}
REFUSED = {"trigger": "empty_result", "stage": "execute", "decision": "auto_retry", "approved": False,
           "veto": "breaker_open", "reason": "breaker open for execute/empty_result", "attempt": 2, "event_id": 4}


@pytest.fixture
def retried(db):
    baseline, candidate = retried_execute_pair(empty_rows=[], empty_duration_ms=9, replans=[APPROVED, REFUSED])
    trace_ingest(payload=baseline)
    trace_ingest(payload=candidate)


def test_diff_lists_both_attempts_with_their_replans(viewer_client, retried):
    response = viewer_client.get("/inspector/traces/cand/diff?baseline=base")
    assert response.status_code == 200, response.json()
    rows = {row["stage"]: row for row in response.json()["stages"]}
    execute = rows["execute"]
    assert execute["attempts_changed"] is True
    assert execute["attempts"]["baseline"] == [
        {"attempt": 1, "status": "ok", "duration_ms": 12, "empty": False, "replans": []}]
    first, second = execute["attempts"]["candidate"]
    assert (first["attempt"], first["status"], first["duration_ms"], first["empty"]) == (1, "warning", 9, True)
    assert first["replans"] == [{"trigger": "empty_result", "decision": "auto_retry", "approved": True,
                                 "reason": APPROVED["reason"]}]  # no veto: absent, not null
    assert (second["attempt"], second["status"]) == (2, "ok")
    assert second["replans"] == [{"trigger": "empty_result", "decision": "auto_retry", "approved": False,
                                  "veto": "breaker_open", "reason": REFUSED["reason"]}]
    assert rows["route_plan"]["attempts_changed"] is False
    assert len(rows["route_plan"]["attempts"]["candidate"]) == 1


def test_a_stage_one_side_did_not_run_has_no_attempts_on_that_side(viewer_client, db):
    trace_ingest(payload=trace_body(trace_id="base"))
    trace_ingest(payload=trace_body(trace_id="short", stages=("route_plan", "present")))
    rows = {row["stage"]: row for row in
            viewer_client.get("/inspector/traces/short/diff?baseline=base").json()["stages"]}
    assert list(rows["execute"]["attempts"]) == ["baseline"]
    assert rows["execute"]["attempts_changed"] is True


def test_replace_operations_carry_before_and_after(viewer_client, db):
    trace_ingest(payload=trace_body(trace_id="base"))
    changed = trace_body(trace_id="cand")
    changed["stages"][2]["output"]["result"]["tool_results"][0]["rows"][0]["name"] = "billing-api"
    trace_ingest(payload=changed)
    answer = viewer_client.get("/inspector/traces/cand/diff?baseline=base").json()
    rows = {row["stage"]: row for row in answer["stages"]}
    replace = [op for op in rows["execute"]["output_diff"]["operations"] if op["op"] == "replace"]
    assert replace and all("before" in op and "after" in op for op in replace)
    assert replace == [{"op": "replace", "path": "/result/tool_results/0/rows/0/name", "before": "checkout-api",
                        "after": "billing-api"}]
