"""GET /inspector/traces/{id}/diff?baseline= — stage-by-stage comparison."""

import copy

import pytest

from inspector.services import trace_ingest
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(db):
    baseline = trace_body(trace_id="base")
    candidate = copy.deepcopy(baseline)
    candidate["trace_id"] = "cand"
    execute = candidate["stages"][2]["output"]
    execute["diagnostics"].update(status="error", errors=["timeout"], counts={"rows": 0})
    execute["result"]["tool_results"] = []
    execute["duration_ms"] = 40
    del candidate["stages"][3]  # no compose in the candidate
    trace_ingest(payload=baseline)
    trace_ingest(payload=candidate)


def test_diff_aligns_stages_and_reports_deltas(viewer_client, pair):
    response = viewer_client.get("/inspector/traces/cand/diff?baseline=base")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["baseline"]["trace_id"] == "base" and data["candidate"]["trace_id"] == "cand"
    rows = {row["stage"]: row for row in data["stages"]}
    assert list(rows) == ["route_plan", "validate", "execute", "compose", "present"]
    execute = rows["execute"]
    assert execute["status"] == {"baseline": "ok", "candidate": "error", "changed": True}
    assert execute["duration_ms"] == {"baseline": 12, "candidate": 40, "delta": 28, "percent": 233.3}
    assert execute["counts"]["rows"]["delta"] == -1
    assert execute["new_errors"] == ["timeout"]
    removed = {"op": "remove", "path": "/result/tool_results/0",
               "before": trace_body()["stages"][2]["output"]["result"]["tool_results"][0]}
    assert execute["output_diff"]["operations"] == [removed]  # diagnostics and duration_ms are not output changes
    assert rows["compose"]["presence"] == "baseline_only"
    assert rows["route_plan"]["output_diff"]["changed"] is False


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/inspector/traces/cand/diff", 400),
        ("/inspector/traces/cand/diff?baseline=cand", 400),
        ("/inspector/traces/cand/diff?baseline=missing", 404),
        ("/inspector/traces/missing/diff?baseline=base", 404),
    ],
)
def test_diff_errors(viewer_client, pair, url, status):
    assert viewer_client.get(url).status_code == status


def test_diff_permissions(anon_client, plain_client, pair):
    assert anon_client.get("/inspector/traces/cand/diff?baseline=base").status_code == 401
    assert plain_client.get("/inspector/traces/cand/diff?baseline=base").status_code == 403
