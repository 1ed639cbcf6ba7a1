"""Limits on bad input (body size, JSON depth, string and list lengths, stages and references per trace) and rate limits."""

import json

import pytest
from django.core.cache import cache

from inspector.contracts import MAX_REFERENCES, MAX_STAGE_RUNS
from inspector.models import StageRun, Trace
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db
LIST = "/inspector/traces"


def post_raw(client, url, raw: str):
    return client.post(url, raw, content_type="application/json")


def assert_nothing_stored():
    assert Trace.objects.count() == 0 and StageRun.objects.count() == 0


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b["metadata"].update(deep=json.loads('{"a":' * 80 + "1" + "}" * 80)), "nesting deeper than 64"),
        (lambda b: b["metadata"].update(long="x" * 1_000_001), "longer than 1000000 characters"),
        (lambda b: b["metadata"].update(many=list(range(10_001))), "more than 10000 items"),
    ],
)
def test_hostile_json_is_400_before_anything_runs(editor_client, mutate, message):
    body = trace_body()
    mutate(body)
    response = editor_client.post(LIST, body, format="json")
    assert response.status_code == 400 and message in response.json()["detail"]
    assert_nothing_stored()


def test_nesting_beyond_the_parser_is_400_not_500(editor_client):
    response = post_raw(editor_client, LIST, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert_nothing_stored()


def test_malformed_json_is_400(editor_client):
    response = post_raw(editor_client, LIST, '{"trace_id": ')
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]


def test_stage_runs_and_references_per_trace_are_bounded(editor_client):
    body = trace_body()
    body["stages"] = [dict(body["stages"][0], attempt=n + 1) for n in range(MAX_STAGE_RUNS + 1)]
    response = editor_client.post(LIST, body, format="json")
    assert response.status_code == 400 and "stages" in response.json()
    body = trace_body()
    reference = {"type": "db_row", "source": "ci", "entity_id": "1", "entity_name": "x"}
    body["stages"][2]["output"]["references"] = [reference] * (MAX_REFERENCES + 1)
    response = editor_client.post(LIST, body, format="json")
    assert response.status_code == 400 and "stages.2.output.references" in response.json()
    assert_nothing_stored()


def test_other_endpoints_have_a_smaller_body_limit(operator_client, settings):
    settings.OPS_REQUEST_MAX_BYTES = 2048
    response = operator_client.post("/ops/ask", {"question": "x" * 4000}, format="json")
    assert response.status_code == 413 and "2048 bytes" in response.json()["detail"]
    assert_nothing_stored()


def test_ingest_limit_is_its_own(editor_client, settings):
    settings.OPS_REQUEST_MAX_BYTES = 2048  # does not apply to ingest
    assert editor_client.post(LIST, trace_body(padding=5000), format="json").status_code == 201


@pytest.fixture
def rates(settings):
    cache.clear()
    settings.OPS_THROTTLE_RATES = {"ingest": "3/minute", "pipeline": "2/minute"}
    yield
    cache.clear()


def test_ingest_is_rate_limited_per_user_but_reads_are_not(editor_client, viewer_client, rates):
    codes = [editor_client.post(LIST, trace_body(), format="json").status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    limited = editor_client.post(LIST, trace_body(), format="json")
    assert int(limited["Retry-After"]) > 0 and "throttled" in limited.json()["detail"].lower()
    assert Trace.objects.count() == 3
    assert all(editor_client.get(LIST).status_code == 200 for _ in range(5))


def test_pipeline_runs_are_rate_limited(operator_client, reference_assets, rates):
    codes = [operator_client.post("/ops/ask", {"question": "What is checkout-api?"}, format="json").status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]
    trace_id = Trace.objects.first().trace_id
    # Stage re-runs share the pipeline budget.
    assert operator_client.post("/ops/stage-test", {"stage": "execute", "trace_id": trace_id},
                                format="json").status_code == 429


def test_rate_limit_can_be_switched_off(editor_client, settings):
    cache.clear()
    settings.OPS_THROTTLE_RATES = {"ingest": "none", "pipeline": "none"}
    assert all(editor_client.post(LIST, trace_body(), format="json").status_code == 201 for _ in range(5))


def test_nul_characters_are_400_not_a_database_error(editor_client):
    # Found by the schemathesis run on PostgreSQL (jsonb refuses \u0000).
    body = trace_body()
    body["metadata"] = {"k\u0000ey": 1}
    response = editor_client.post(LIST, body, format="json")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert_nothing_stored()
