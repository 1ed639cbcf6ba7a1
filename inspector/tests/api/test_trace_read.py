"""Trace list filters and paging, detail without payloads, full stage payloads."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inspector.payload_preview import compressed_head_bytes
from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body
from testkit.plugin import client_for, grant

LIST = "/inspector/traces"


@pytest.fixture
def viewer_client(db):
    """A viewer in both tenants these tests use (tenant isolation: tests/access)."""
    return client_for(grant(UserFactory(tenants=["default", "acme"]), "inspector.view_trace",
                            "inspector.view_asset", "inspector.view_assetversion"))


def ingest(**kwargs):
    trace, _ = trace_ingest(payload=trace_body(**kwargs))
    return trace


@pytest.fixture
def traces(db):
    ingest(trace_id="a", question="CPU of web-prod-01", tenant_id="acme", started_at="2026-11-01T10:00:00Z")
    ingest(trace_id="b", question="Events on pg-orders-prod", status="error", started_at="2026-11-02T10:00:00Z")
    body = trace_body(trace_id="c", question="Hello there", stages=("route_plan", "present"),
                      started_at="2026-11-03T10:00:00Z", test_mode=True,
                      applied_assets={"prompt": "route_rules@2"})
    body["stages"][0]["output"]["result"]["kind"] = "direct"
    body["stages"][0]["input"]["applied_assets"] = {"prompt": "route_rules@2"}
    trace_ingest(payload=body)
    replanned = trace_body(trace_id="d", question="Dependencies of checkout", started_at="2026-11-04T10:00:00Z")
    retry = {**replanned["stages"][2], "attempt": 2}
    replanned["stages"].insert(3, retry)
    trace_ingest(payload=replanned)
    ingest(trace_id="zz-exact-id", question="Old question", started_at="2026-10-01T10:00:00Z")


def ids(response):
    return [item["trace_id"] for item in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["d", "c", "b", "a", "zz-exact-id"]),
        ("?q=pg-orders", ["b"]),
        ("?q=CHECKOUT", ["d"]),
        ("?q=zz-exact-id", ["zz-exact-id"]),
        ("?tenant=acme", ["a"]),
        ("?status=error", ["b"]),
        ("?route=direct", ["c"]),
        ("?test_mode=true", ["c"]),
        ("?from=2026-11-02T00:00:00Z&to=2026-11-03T23:00:00Z", ["c", "b"]),
        ("?asset=route_rules@2", ["c"]),
        ("?asset=prompt:route_rules@1", ["d", "b", "a", "zz-exact-id"]),
        ("?asset=policy:route_rules", []),
        ("?has_replan=true", ["d"]),
        ("?has_replan=false", ["c", "b", "a", "zz-exact-id"]),
    ],
)
def test_list_filters(viewer_client, traces, query, expected):
    response = viewer_client.get(LIST + query)
    assert response.status_code == 200, response.json()
    assert ids(response) == expected


@pytest.mark.parametrize("query", ["?status=fine", "?from=yesterday", "?route=sideways", "?test_mode=maybe",
                                   "?has_replan=yes-please"])
def test_bad_filter_values_are_400(viewer_client, traces, query):
    response = viewer_client.get(LIST + query)
    assert response.status_code == 400


def test_cursor_paging_walks_all_traces_once(viewer_client, traces):
    seen, url = [], LIST + "?limit=3"
    while url:
        page = viewer_client.get(url).json()
        seen += [item["trace_id"] for item in page["results"]]
        url = page.get("next")  # absent on the last page
    assert seen == ["d", "c", "b", "a", "zz-exact-id"]


def test_list_items_carry_no_payload_or_preview(viewer_client, traces):
    item = viewer_client.get(LIST).json()["results"][0]
    assert "stages" not in item and "metadata" not in item


def test_detail_has_stage_summaries_previews_and_bill_of_materials(viewer_client, traces):
    data = viewer_client.get(f"{LIST}/d").json()
    assert [(s["stage"], s["attempt"]) for s in data["stages"]] == [
        ("route_plan", 1), ("validate", 1), ("execute", 1), ("execute", 2), ("compose", 1), ("present", 1)
    ]
    execute = data["stages"][2]
    assert execute["references_count"] == 1
    assert '"stage":"execute"' in execute["output_preview"]
    assert execute["payload_url"] == "/inspector/traces/d/stages/execute?attempt=1&tenant=default"
    assert data["applied_assets"]["prompt"]["version"] == 1


def test_detail_previews_are_cut_for_large_payloads(viewer_client, db, settings):
    settings.OPS_PREVIEW_CHARS = 200
    ingest(trace_id="big", padding=50_000)
    stage = viewer_client.get(f"{LIST}/big").json()["stages"][0]
    assert len(stage["output_preview"]) == 201 and stage["output_truncated"] is True
    assert stage["output_size"] > 50_000
    assert stage["input_truncated"] is False and stage["input_preview"].startswith('{"applied_assets":')


def test_detail_preview_of_a_small_payload_is_the_whole_canonical_json(viewer_client, db):
    ingest(trace_id="small")
    stage = viewer_client.get(f"{LIST}/small").json()["stages"][0]
    whole = viewer_client.get(f"{LIST}/small/stages/route_plan").json()["output"]
    assert json.loads(stage["output_preview"]) == whole
    assert len(stage["output_preview"].encode()) == stage["output_size"] and stage["output_truncated"] is False


def test_detail_reads_only_payload_heads_and_uses_few_queries(viewer_client, traces, settings):
    with CaptureQueriesContext(connection) as captured:
        response = viewer_client.get(f"{LIST}/d")
    assert response.status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    head = compressed_head_bytes(settings.OPS_PREVIEW_CHARS)
    heads = re.compile(rf'SUBSTR(ING)?\("inspector_stagepayload"\."(input|output)_data", 1, {head}\)')
    assert sum(len(heads.findall(statement)) for statement in sql) == 2, sql
    assert not any(re.search(r'stagepayload"\."(input|output)_data"', heads.sub("", statement)) for statement in sql), sql
    # auth + session-less permission lookups + trace + stage runs + usages; independent of stage count
    assert len(sql) <= 6, sql


def test_detail_query_count_does_not_grow_with_stages(viewer_client, traces):
    counts = []
    viewer_client.get(f"{LIST}/a")  # warm the user's permission cache
    for trace_id in ("c", "d"):  # 2 stage runs vs 6 stage runs
        with CaptureQueriesContext(connection) as captured:
            viewer_client.get(f"{LIST}/{trace_id}")
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_list_never_selects_payload_columns(viewer_client, traces):
    with CaptureQueriesContext(connection) as captured:
        viewer_client.get(LIST)
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "inspector_stagepayload" not in sql and "input_preview" not in sql and '"metadata"' not in sql


def test_unknown_trace_is_404(viewer_client, db):
    assert viewer_client.get(f"{LIST}/nope").status_code == 404


def test_stage_endpoint_returns_full_payloads_latest_attempt_by_default(viewer_client, traces):
    data = viewer_client.get(f"{LIST}/d/stages/execute").json()
    assert data["attempt"] == 2
    assert data["input"]["params"] == {"limit": 10}
    assert data["output"]["result"]["tool_results"][0]["rows"][0]["name"] == "checkout-api"
    first = viewer_client.get(f"{LIST}/d/stages/execute?attempt=1").json()
    assert first["attempt"] == 1


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/d/stages/deploy", 404),
        ("/c/stages/execute", 404),
        ("/zzz/stages/execute", 404),
        ("/d/stages/execute?attempt=9", 404),
        ("/d/stages/execute?attempt=zero", 400),
    ],
)
def test_stage_endpoint_errors(viewer_client, traces, path, status):
    response = viewer_client.get(LIST + path)
    assert response.status_code == status
    assert "detail" in response.json() or "attempt" in response.json()


@pytest.mark.parametrize("path", ["", "/d", "/d/stages/execute"])
def test_reads_need_authentication_and_view_permission(anon_client, plain_client, traces, path):
    assert anon_client.get(LIST + path).status_code == 401
    assert plain_client.get(LIST + path).status_code == 403


def test_include_payloads_gives_every_stage_input_and_output_in_one_answer(viewer_client, traces):
    data = viewer_client.get(f"{LIST}/d?include=payloads").json()
    for stage in data["stages"]:
        alone = viewer_client.get(stage["payload_url"]).json()
        assert (stage["input"], stage["output"]) == (alone["input"], alone["output"])
    assert data["payloads"]["capped"] is False and data["payloads"]["omitted"] == []
    assert data["payloads"]["included_bytes"] == sum(s["input_size"] + s["output_size"] for s in data["stages"])


def test_include_payloads_reads_them_in_one_query(viewer_client, traces):
    viewer_client.get(f"{LIST}/d")  # warm the user's permission cache
    counts = []
    for query in ("", "?include=payloads"):
        with CaptureQueriesContext(connection) as captured:
            viewer_client.get(f"{LIST}/d{query}")
        counts.append(len(captured.captured_queries))
    assert counts[1] == counts[0] + 1


def test_the_default_answer_stays_light(viewer_client, traces):
    data = viewer_client.get(f"{LIST}/d").json()
    assert "payloads" not in data and not any("input" in s or "output" in s for s in data["stages"])


def test_payloads_past_the_limit_are_named_with_where_to_read_them(viewer_client, db, settings):
    body = trace_body(trace_id="capped")
    body["stages"][2]["output"]["result"]["padding"] = "x" * 20_000
    trace_ingest(payload=body)
    settings.OPS_TRACE_PAYLOADS_MAX_BYTES = 10_000
    data = viewer_client.get(f"{LIST}/capped?include=payloads").json()
    execute = next(s for s in data["stages"] if s["stage"] == "execute")
    assert "output" not in execute and "input" not in execute
    assert all("output" in s for s in data["stages"] if s["stage"] != "execute")  # smaller later stages still in
    summary = data["payloads"]
    assert summary["capped"] is True and summary["limit_bytes"] == 10_000 and summary["included_bytes"] <= 10_000
    assert summary["omitted"] == [{"stage": "execute", "attempt": 1,
                                   "size_bytes": execute["input_size"] + execute["output_size"],
                                   "payload_url": execute["payload_url"]}]


@pytest.mark.parametrize("value", ["everything", "payload", "payloads,stages"])
def test_an_unknown_include_is_400(viewer_client, traces, value):
    response = viewer_client.get(f"{LIST}/d?include={value}")
    assert response.status_code == 400 and response.json() == {"include": ["include must be 'payloads' or absent"]}


def test_include_payloads_keeps_tenant_walls(db):
    trace_ingest(payload=trace_body(trace_id="walled", tenant_id="acme"))
    outsider = client_for(grant(UserFactory(tenants=["default"]), "inspector.view_trace"))
    assert outsider.get(f"{LIST}/walled?include=payloads").status_code == 404
    anonymous = APIClient()
    assert anonymous.get(f"{LIST}/walled?include=payloads").status_code in (401, 403)
