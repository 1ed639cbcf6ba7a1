"""POST /inspector/traces with a JSON array: a batch of traces, all or nothing, one result per item."""

import json

import pytest
from django.core.cache import cache

from inspector.models import StagePayload, StageRun, Trace, TraceAssetUsage
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db
URL = "/inspector/traces"


def _nothing_written():
    return not (Trace.objects.exists() or StageRun.objects.exists() or StagePayload.objects.exists()
                or TraceAssetUsage.objects.exists())


def _batch(*trace_ids: str, **fields) -> list[dict]:
    return [trace_body(trace_id=trace_id, **fields) for trace_id in trace_ids]


def test_batch_stores_every_trace_and_answers_one_result_per_item(editor_client):
    response = editor_client.post(URL, _batch("b-1", "b-2", "b-3"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "created": 3,
        "existing": 0,
        "results": [{"index": i, "trace_id": f"b-{i + 1}", "result": "created",
                     "url": f"/inspector/traces/b-{i + 1}?tenant=default"} for i in range(3)],
    }
    assert Trace.objects.count() == 3 and StageRun.objects.count() == 15 and StagePayload.objects.count() == 15
    # Each trace reads back like a singly ingested one.
    detail = editor_client.get("/inspector/traces/b-2").json()
    assert [s["stage"] for s in detail["stages"]] == ["route_plan", "validate", "execute", "compose", "present"]
    assert detail["applied_assets"] == {"prompt": {"name": "route_rules", "version": 1, "status": "published"}}
    stage = editor_client.get("/inspector/traces/b-3/stages/execute").json()
    assert stage["output"]["references"][0]["entity_id"] == "app-001"
    assert TraceAssetUsage.objects.filter(trace__trace_id="b-1").count() == 2


def test_items_without_trace_id_get_one_generated(editor_client):
    body = _batch("", "")

    results = editor_client.post(URL, body, format="json").json()["results"]

    assert len({item["trace_id"] for item in results}) == 2 and all(len(item["trace_id"]) == 36 for item in results)


def test_resending_a_stored_batch_is_200_and_writes_nothing(editor_client):
    assert editor_client.post(URL, _batch("r-1", "r-2"), format="json").status_code == 201

    again = editor_client.post(URL, json.loads(json.dumps(_batch("r-1", "r-2"))), format="json")

    assert again.status_code == 200
    assert again.json()["created"] == 0 and [item["result"] for item in again.json()["results"]] == ["existing"] * 2
    assert Trace.objects.count() == 2 and StageRun.objects.count() == 10


def test_a_batch_mixing_stored_and_new_traces_stores_only_the_new(editor_client):
    editor_client.post(URL, trace_body(trace_id="m-1"), format="json")

    response = editor_client.post(URL, _batch("m-1", "m-2"), format="json")

    assert response.status_code == 201
    assert [(item["trace_id"], item["result"]) for item in response.json()["results"]] == [
        ("m-1", "existing"), ("m-2", "created")]
    assert Trace.objects.count() == 2


def test_the_same_trace_twice_in_one_batch_is_stored_once(editor_client):
    response = editor_client.post(URL, _batch("twice", "twice"), format="json")

    assert response.status_code == 201
    assert [item["result"] for item in response.json()["results"]] == ["created", "existing"]
    assert Trace.objects.count() == 1 and StageRun.objects.count() == 5


def test_a_stored_trace_id_with_a_different_body_is_409_naming_the_item_and_nothing_is_written(editor_client):
    editor_client.post(URL, trace_body(trace_id="c-1"), format="json")

    response = editor_client.post(URL, [trace_body(trace_id="c-2"), trace_body(trace_id="c-1", question="Other?")],
                                  format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("item 1: trace 'c-1' already exists with a different body")
    assert list(Trace.objects.values_list("trace_id", flat=True)) == ["c-1"]


def test_one_trace_id_with_two_different_bodies_in_a_batch_is_409(editor_client):
    response = editor_client.post(URL, [trace_body(trace_id="d-1"), trace_body(trace_id="d-1", question="Other?")],
                                  format="json")

    assert response.status_code == 409 and "item 1" in response.json()["detail"] and "item 0" in response.json()["detail"]
    assert _nothing_written()


def test_a_malformed_item_is_400_naming_its_index_and_nothing_is_written(editor_client):
    body = _batch("ok-1", "bad", "ok-2")
    body[1]["stages"][2]["output"]["duration_ms"] = -1

    response = editor_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert "1.stages.2.output.duration_ms" in response.json(), response.json()
    assert _nothing_written()


def test_an_item_that_is_not_an_object_is_400(editor_client):
    response = editor_client.post(URL, [trace_body(trace_id="x-1"), 5], format="json")

    assert response.status_code == 400 and "1" in response.json()
    assert _nothing_written()


def test_an_empty_batch_is_400(editor_client):
    response = editor_client.post(URL, [], format="json")

    assert response.status_code == 400 and "empty" in response.json()["detail"]


def test_more_traces_than_the_batch_limit_is_413_and_nothing_is_written(editor_client, settings):
    settings.OPS_INGEST_BATCH_MAX = 3

    response = editor_client.post(URL, _batch("l-1", "l-2", "l-3", "l-4"), format="json")

    assert response.status_code == 413 and "at most 3 traces" in response.json()["detail"]
    assert _nothing_written()
    assert editor_client.post(URL, _batch("l-1", "l-2", "l-3"), format="json").status_code == 201


def test_the_whole_batch_body_is_bounded_by_the_ingest_limit(editor_client, settings):
    settings.OPS_INGEST_MAX_BYTES = 30_000

    response = editor_client.post(URL, [trace_body(padding=2_000) for _ in range(4)], format="json")

    assert response.status_code == 413 and "30000 bytes" in response.json()["detail"]
    assert _nothing_written()


def test_an_item_of_a_tenant_the_user_is_not_a_member_of_is_403_and_nothing_is_written(editor_client):
    body = [trace_body(trace_id="t-own"), trace_body(trace_id="t-other", tenant_id="acme")]

    response = editor_client.post(URL, body, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "item 1: you are not a member of tenant 'acme'"
    assert _nothing_written()


def test_a_user_without_add_permission_gets_403(viewer_client):
    assert viewer_client.post(URL, _batch("v-1"), format="json").status_code == 403
    assert _nothing_written()


def test_anonymous_batch_is_401(anon_client):
    assert anon_client.post(URL, _batch("a-1"), format="json").status_code == 401
    assert _nothing_written()


def test_a_failure_mid_write_leaves_nothing_of_the_batch(editor_client, monkeypatch):
    calls = []

    def encode_then_fail(data):
        calls.append(data)
        if len(calls) > 20:  # the third trace's payloads
            raise RuntimeError("disk full")
        return b"x"

    monkeypatch.setattr(StagePayload, "encode", encode_then_fail)
    editor_client.raise_request_exception = False

    response = editor_client.post(URL, _batch("f-1", "f-2", "f-3"), format="json")

    assert response.status_code == 500
    assert _nothing_written()


def test_a_batch_counts_as_its_number_of_traces_against_the_rate_limit(editor_client, settings):
    cache.clear()
    settings.OPS_THROTTLE_RATES = {"ingest": "5/minute", "pipeline": "none"}
    try:
        assert editor_client.post(URL, _batch("q-1", "q-2", "q-3"), format="json").status_code == 201
        assert editor_client.post(URL, _batch("q-4", "q-5", "q-6"), format="json").status_code == 429  # 3 + 3 > 5
        assert editor_client.post(URL, _batch("q-4", "q-5"), format="json").status_code == 201  # 3 + 2 = 5
        assert editor_client.post(URL, trace_body(trace_id="q-6"), format="json").status_code == 429
    finally:
        cache.clear()
    assert Trace.objects.count() == 5


def test_the_batch_tells_the_roll_ups_every_written_start_time_once(editor_client, monkeypatch):
    noted = []
    monkeypatch.setattr("inspector.services.traces.note_traces_written", lambda stamps: noted.append(list(stamps)))
    editor_client.post(URL, trace_body(trace_id="n-0", started_at="2026-01-02T00:00:00Z"), format="json")
    noted.clear()

    editor_client.post(URL, [trace_body(trace_id="n-0", started_at="2026-01-02T00:00:00Z"),
                             trace_body(trace_id="n-1", started_at="2026-01-03T00:00:00Z"),
                             trace_body(trace_id="n-2", started_at="2026-01-04T05:00:00Z")], format="json")

    assert [[stamp.isoformat() for stamp in call] for call in noted] == [
        ["2026-01-03T00:00:00+00:00", "2026-01-04T05:00:00+00:00"]]


def test_a_single_trace_still_gets_the_single_answer(editor_client):
    response = editor_client.post(URL, trace_body(trace_id="single"), format="json")

    assert response.status_code == 201 and response["Location"] == "/inspector/traces/single?tenant=default"
    assert response.json()["trace_id"] == "single" and "results" not in response.json()
