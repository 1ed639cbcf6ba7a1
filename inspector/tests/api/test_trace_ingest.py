"""POST /inspector/traces: create, idempotent re-send, conflicts, validation, limits, permissions."""

import json

import pytest
from django.test import override_settings

from inspector.models import StagePayload, StageRun, Trace, TraceAssetUsage
from testkit.factories import AssetVersionFactory, trace_body

URL = "/inspector/traces"


def _nothing_written():
    return (
        Trace.objects.count() == 0
        and StageRun.objects.count() == 0
        and StagePayload.objects.count() == 0
        and TraceAssetUsage.objects.count() == 0
    )


@pytest.mark.django_db
def test_ingest_creates_trace_with_stage_runs_payloads_and_bill_of_materials(editor_client):
    body = trace_body(trace_id="t-create")

    response = editor_client.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["url"] == "/inspector/traces/t-create?tenant=default" == response["Location"]
    data = editor_client.get("/inspector/traces/t-create").json()
    assert data["trace_id"] == "t-create"
    assert data["route"] == "plan" and data["status"] == "success"
    assert [s["stage"] for s in data["stages"]] == ["route_plan", "validate", "execute", "compose", "present"]
    assert data["applied_assets"] == {"prompt": {"name": "route_rules", "version": 1, "status": "published"}}
    assert data["duration_ms"] == 5 * 12
    run = StageRun.objects.get(trace__trace_id="t-create", stage="execute")
    assert run.references_count == 1 and run.payload.output["references"][0]["entity_id"] == "app-001"
    assert TraceAssetUsage.objects.filter(trace__trace_id="t-create", stage="route_plan").count() == 1


@pytest.mark.django_db
def test_ingest_generates_a_trace_id_when_none_is_given(editor_client):
    body = trace_body()
    del body["trace_id"]

    response = editor_client.post(URL, body, format="json")

    assert response.status_code == 201
    assert len(response.json()["trace_id"]) == 36


@pytest.mark.django_db
def test_ingest_links_bill_of_materials_to_registry_versions(editor_client):
    version = AssetVersionFactory(asset__asset_type="prompt", asset__name="route_rules", version=1)

    editor_client.post(URL, trace_body(trace_id="t-bom"), format="json")

    usage = TraceAssetUsage.objects.get(trace__trace_id="t-bom", stage="")
    assert usage.asset_version == version


@pytest.mark.django_db
def test_identical_resend_returns_200_and_writes_nothing_new(editor_client):
    body = trace_body(trace_id="t-same")
    assert editor_client.post(URL, body, format="json").status_code == 201

    again = editor_client.post(URL, json.loads(json.dumps(body)), format="json")

    assert again.status_code == 200
    assert again.json()["trace_id"] == "t-same"
    assert Trace.objects.count() == 1 and StageRun.objects.count() == 5


@pytest.mark.django_db
def test_resend_with_reordered_keys_and_explicit_nulls_is_identical(editor_client):
    body = trace_body(trace_id="t-order")
    assert editor_client.post(URL, body, format="json").status_code == 201
    reordered = dict(reversed(list(json.loads(json.dumps(body)).items())))
    reordered["stages"][0]["output"]["result"] = dict(reversed(list(reordered["stages"][0]["output"]["result"].items())))
    reordered["metadata"] = {"client": "tests"}
    reordered["stages"][1]["input"]["prev_output"] = None  # null means the default {}

    assert editor_client.post(URL, reordered, format="json").status_code == 200


@pytest.mark.django_db
def test_different_body_with_same_trace_id_is_409(editor_client):
    editor_client.post(URL, trace_body(trace_id="t-dup"), format="json")

    response = editor_client.post(URL, trace_body(trace_id="t-dup", question="Another question"), format="json")

    assert response.status_code == 409
    assert "different body" in response.json()["detail"]
    assert Trace.objects.get(trace_id="t-dup").question == "Which servers run checkout-api?"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["stages"][1].update(stage="deploy"), "stages.1.stage"),
        (lambda b: b["stages"][2]["output"].update(duration_ms=-1), "stages.2.output.duration_ms"),
        (lambda b: b.update(test_mode="sometimes"), "test_mode"),
        (lambda b: b["stages"][0]["output"].update(references="none"), "stages.0.output.references"),
        (lambda b: b.pop("question"), "question"),
        (lambda b: b.update(question="   "), "question"),
        (lambda b: b.update(stages={"stage": "validate"}), "stages"),
    ],
    ids=["unknown-stage", "negative-duration", "wrong-bool", "wrong-list", "missing-question", "blank-question",
         "stages-not-list"],
)
def test_malformed_trace_is_400_with_field_errors_and_writes_nothing(editor_client, mutate, field):
    body = trace_body()
    mutate(body)

    response = editor_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert _nothing_written()


@pytest.mark.django_db
def test_body_that_is_not_an_object_is_400(editor_client):
    response = editor_client.post(URL, [1, 2], format="json")
    assert response.status_code == 400
    assert _nothing_written()


@pytest.mark.django_db
def test_invalid_json_is_400(editor_client):
    response = editor_client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert _nothing_written()


@pytest.mark.django_db
@override_settings(OPS_INGEST_MAX_BYTES=20_000)
def test_body_over_the_limit_is_413_and_writes_nothing(editor_client):
    response = editor_client.post(URL, trace_body(padding=10_000), format="json")

    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert _nothing_written()


@pytest.mark.django_db
def test_failure_mid_write_leaves_nothing_half_written(editor_client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    # Payloads are compressed while they are written (COPY on PostgreSQL, bulk_create elsewhere).
    monkeypatch.setattr(StagePayload, "encode", explode)
    editor_client.raise_request_exception = False

    response = editor_client.post(URL, trace_body(trace_id="t-half"), format="json")

    assert response.status_code == 500
    assert _nothing_written()


@pytest.mark.django_db
def test_anonymous_ingest_is_401(anon_client):
    response = anon_client.post(URL, trace_body(), format="json")
    assert response.status_code == 401
    assert _nothing_written()


@pytest.mark.django_db
def test_user_without_add_permission_gets_403(viewer_client):
    response = viewer_client.post(URL, trace_body(), format="json")
    assert response.status_code == 403
    assert _nothing_written()


@pytest.mark.django_db
def test_token_authentication_works(editor):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")

    assert client.post(URL, trace_body(), format="json").status_code == 201


@pytest.mark.django_db
def test_status_and_route_are_derived_from_stages(editor_client):
    body = trace_body(trace_id="t-derived", stages=("route_plan", "present"))
    body["stages"][0]["output"]["result"]["kind"] = "direct"
    body["stages"][1]["output"]["diagnostics"]["status"] = "warning"

    data = editor_client.post(URL, body, format="json").json()

    assert data["route"] == "direct" and data["status"] == "warning" and data["stage_count"] == 2


@pytest.mark.django_db
def test_replanned_attempts_are_stored_as_separate_stage_runs(editor_client):
    body = trace_body(trace_id="t-replan")
    retry = json.loads(json.dumps(body["stages"][2]))
    retry["attempt"] = 2
    body["stages"].insert(3, retry)

    assert editor_client.post(URL, body, format="json").status_code == 201
    data = editor_client.get(URL + "/t-replan").json()

    assert [(s["stage"], s["attempt"]) for s in data["stages"]][2:4] == [("execute", 1), ("execute", 2)]
    assert data["replan_count"] == 1


def test_times_are_stored_in_utc_whatever_their_offset(editor_client):
    # Found by the schemathesis run: PostgreSQL rejects offsets beyond ±15:59 (a 500 before).
    response = editor_client.post(URL, trace_body(trace_id="odd-offset", started_at="2026-10-13T04:43:49-16:25"),
                                  format="json")
    assert response.status_code == 201, response.json()
    assert Trace.objects.get(trace_id="odd-offset").started_at.isoformat() == "2026-10-13T21:08:49+00:00"


def test_a_time_outside_the_calendar_is_400(editor_client):
    response = editor_client.post(URL, trace_body(started_at="0001-01-01T00:30:00+05:00"), format="json")
    assert response.status_code == 400 and "started_at" in response.json()
    _nothing_written()


def test_relaxed_commit_durability_still_stores_whole_traces(editor_client, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.OPS_INGEST_SYNCHRONOUS_COMMIT = False
    with CaptureQueriesContext(connection) as queries:
        response = editor_client.post(URL, trace_body(trace_id="async-commit"), format="json")
    assert response.status_code == 201
    assert StageRun.objects.filter(trace__trace_id="async-commit").count() == 5
    relaxed = any("synchronous_commit" in q["sql"] for q in queries.captured_queries)
    assert relaxed == (connection.vendor == "postgresql")
