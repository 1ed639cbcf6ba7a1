"""One structural diff: the trace diff API, /ops/stage-test and stage-compare report the same operations."""

import copy

import pytest
from drf_spectacular.generators import SchemaGenerator

from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body
from testkit.plugin import client_for, grant
from tests.security.test_robustness_schema_conformance import assert_conforms, assert_no_null

pytestmark = pytest.mark.usefixtures("reference_v2_drafts")
OUTPUT_ISSUES = {"output_added": "add", "output_removed": "remove", "output_changed": "replace"}


@pytest.fixture
def client(db):
    return client_for(grant(UserFactory(), "inspector.view_trace", "inspector.run_pipeline",
                            "inspector.use_test_mode", "inspector.add_assetversion",
                            "regression.view_regressionanalysis"))


def _ingest_pair(execute_before: dict, execute_after: dict) -> None:
    for trace_id, output in (("base", execute_before), ("cand", execute_after)):
        body = trace_body(trace_id=trace_id)
        body["stages"][2]["output"] = copy.deepcopy(output)
        trace_ingest(payload=body)


def _trace_api_operations(client) -> dict:
    response = client.get("/inspector/traces/cand/diff?baseline=base")
    assert response.status_code == 200, response.json()
    [execute] = [row for row in response.json()["stages"] if row["stage"] == "execute"]
    return execute["output_diff"]


def _stage_compare_operations(client, **sides) -> list[dict]:
    """stage-compare's structural issues, written as operations."""
    response = client.post("/inspector/regression/stage-compare", {"stage": "execute", **sides}, format="json")
    assert response.status_code == 200, response.json()
    operations = []
    for issue in response.json()["issues"]:
        if issue["kind"] in OUTPUT_ISSUES:
            op = {"op": OUTPUT_ISSUES[issue["kind"]], "path": issue["pointer"]}
            if op["op"] != "add":
                op["before"] = issue["baseline"]
            if op["op"] != "remove":
                op["after"] = issue["candidate"]
            operations.append(op)
    return operations


def test_a_stage_rerun_is_reported_alike_by_stage_test_trace_diff_and_stage_compare(client):
    # Given a recorded execute stage and its re-run with a draft query that hides info events
    trace_id = client.post("/ops/ask", {"question": "Events on checkout-api last 30 days"},
                           format="json").json()["trace_id"]
    rerun = client.post("/ops/stage-test", {"stage": "execute", "trace_id": trace_id,
                                            "asset_overrides": {"query": "event_history@2"}}, format="json")
    assert rerun.status_code == 200, rerun.json()
    rerun = rerun.json()
    stage_test_diff = rerun["diff"]
    assert stage_test_diff["changed"] and stage_test_diff["counts"].get("remove", 0) > 0

    # When the same pair of outputs is stored as two traces and compared by trace ids and by bodies
    _ingest_pair(rerun["baseline_output"], rerun["output"])
    trace_diff = _trace_api_operations(client)
    by_ids = _stage_compare_operations(client, baseline_trace_id="base", candidate_trace_id="cand")
    by_bodies = _stage_compare_operations(client, baseline=rerun["baseline_output"], candidate=rerun["output"])

    # Then every path reports the same operations, removals with the value they had
    assert trace_diff == stage_test_diff
    assert by_ids == by_bodies == stage_test_diff["operations"]
    assert all("before" in op for op in stage_test_diff["operations"] if op["op"] == "remove")


def test_diff_answers_match_their_schema_and_carry_no_null(client):
    # Given a pair where the candidate lacks a stage and the baseline took 0 ms for another
    baseline, candidate = trace_body(trace_id="base"), trace_body(trace_id="cand")
    baseline["stages"][0]["output"]["duration_ms"] = 0
    del candidate["stages"][3]
    trace_ingest(payload=baseline)
    trace_ingest(payload=candidate)
    trace_id = client.post("/ops/ask", {"question": "Events on checkout-api last 30 days"},
                           format="json").json()["trace_id"]
    openapi = SchemaGenerator().get_schema(request=None, public=True)

    # When the trace diff and a stage re-run answer
    diff = client.get("/inspector/traces/cand/diff?baseline=base")
    rerun = client.post("/ops/stage-test", {"stage": "execute", "trace_id": trace_id,
                                            "asset_overrides": {"query": "event_history@2"}}, format="json")

    # Then both answers are documented exactly, and absent values are absent keys, not nulls
    assert_conforms(openapi, diff, "/inspector/traces/{trace_id}/diff", "get")
    assert_conforms(openapi, rerun, "/ops/stage-test", "post")
    rows = {row["stage"]: row for row in diff.json()["stages"]}
    assert rows["compose"]["status"] == {"baseline": "ok"} and "output_diff" not in rows["compose"]
    assert "percent" not in rows["route_plan"]["duration_ms"]
    assert_no_null(diff.json())
    assert_no_null({key: value for key, value in rerun.json().items() if key not in ("output", "baseline_output")})


def test_keyed_insertion_with_volatile_noise_is_one_added_row_everywhere(client):
    # Given rows keyed by id, one inserted at the front, and only volatile fields changed otherwise
    before = trace_body()["stages"][2]["output"]
    before["result"]["rows"] = [{"id": n, "host": f"h{n}", "started_at": "2026-11-20T10:00:00Z"} for n in (1, 2, 3)]
    after = copy.deepcopy(before)
    after["result"]["rows"].insert(0, {"id": 9, "host": "h9", "started_at": "2026-11-21T10:00:00Z"})
    for row in after["result"]["rows"]:
        row["started_at"] = "2026-11-21T10:00:00Z"
    after["result"]["rows"][2]["host"] = "h2-renamed"
    after["duration_ms"] = 99
    _ingest_pair(before, after)

    # When the pair is compared through the trace diff API and stage-compare
    trace_diff = _trace_api_operations(client)
    by_ids = _stage_compare_operations(client, baseline_trace_id="base", candidate_trace_id="cand")

    # Then both see one added row and one replaced value, nothing positional, nothing volatile
    expected = [
        {"op": "add", "path": "/result/rows/0", "after": after["result"]["rows"][0]},
        {"op": "replace", "path": "/result/rows/2/host", "before": "h2", "after": "h2-renamed"},
    ]
    assert trace_diff == {"changed": True, "operation_count": 2, "counts": {"add": 1, "replace": 1},
                          "operations": expected, "truncated": []}
    assert by_ids == expected
