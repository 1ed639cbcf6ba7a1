"""POST /v1/traces through the API client: answers, refusals, tenants, the sweep of rootless traces."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from rest_framework.test import APIClient

from access.models import TenantMembership
from inspector.models import Trace
from otlp.models import BufferedSpan
from otlp.services import otlp_sweep
from testkit.factories import UserFactory
from testkit.plugin import grant
from tests.otlp.conftest import Pipeline

pytestmark = pytest.mark.django_db
PROTOBUF = "application/x-protobuf"


def body(spans) -> bytes:
    return encode_spans(spans).SerializeToString()


def otlp_json(spans) -> bytes:
    """OTLP/JSON: protobuf's JSON mapping with hex trace and span ids."""
    document = json_format.MessageToDict(encode_spans(spans))
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(document).encode()


@pytest.fixture
def client(ingest_token) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ingest_token}")
    return api


def post(client, data: bytes, content_type: str = PROTOBUF, **headers):
    return client.generic("POST", "/v1/traces", data, content_type=content_type, **headers)


def test_protobuf_answer_carries_the_unmapped_spans_as_a_warning(client, pipeline):
    response = post(client, body(pipeline.run("Which servers?")))
    assert response.status_code == 200 and response["Content-Type"] == PROTOBUF
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 0
    assert "1 span(s) map to no stage (cache.get)" in answer.partial_success.error_message
    assert Trace.objects.count() == 1


def test_otlp_json_gzipped(client, pipeline):
    response = post(client, gzip.compress(otlp_json(pipeline.run("Which servers?"))), "application/json",
                    HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["partialSuccess"]["errorMessage"].startswith("trace ")
    assert Trace.objects.get().question == "Which servers?"


def test_resending_an_export_changes_nothing(client, pipeline):
    data = body(pipeline.run("Which servers?"))
    post(client, data)
    first = Trace.objects.values_list("pk", "content_hash").get()
    assert post(client, data).status_code == 200
    assert Trace.objects.values_list("pk", "content_hash").get() == first
    assert BufferedSpan.objects.count() == 7


def test_spans_without_valid_ids_are_rejected_and_counted(client):
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "0" * 32, "spanId": "1" * 16, "name": "zero trace id"},
        {"traceId": "1" * 32, "spanId": "", "name": "no span id"}]}]}]}
    response = post(client, json.dumps(document).encode(), "application/json")
    assert response.status_code == 200
    assert int(response.json()["partialSuccess"]["rejectedSpans"]) == 2  # int64: a string in protobuf's JSON
    assert not BufferedSpan.objects.exists()


@pytest.mark.parametrize(("data", "content_type", "headers", "status"), [
    (b"\xff\xff", PROTOBUF, {}, 400),
    (b"{", "application/json", {}, 400),
    (b"{}", "text/plain", {}, 415),
    (b"{}", "application/json", {"HTTP_CONTENT_ENCODING": "br"}, 400),
    (gzip.compress(b"\0" * 3_000_000), PROTOBUF, {"HTTP_CONTENT_ENCODING": "gzip"}, 413),
])
def test_unreadable_or_oversized_bodies_are_refused(client, data, content_type, headers, status, settings):
    settings.OPS_INGEST_MAX_BYTES = 2_000_000
    response = post(client, data, content_type, **headers)
    assert response.status_code == status and response.json()["detail"]
    assert not BufferedSpan.objects.exists()


def test_who_may_export(pipeline):
    data = body(pipeline.run("Who?"))
    assert post(APIClient(), data).status_code == 401
    reader = APIClient()
    reader.force_authenticate(grant(UserFactory(), "inspector.view_trace"))
    assert post(reader, data).status_code == 403
    assert not BufferedSpan.objects.exists()


def test_a_tenant_the_caller_is_not_a_member_of_refuses_the_whole_export():
    user = grant(UserFactory(tenants=[]), "inspector.add_trace")
    TenantMembership.objects.create(user=user, tenant_id="acme")
    member = APIClient()
    member.force_authenticate(user)
    own, foreign = Pipeline(tenant="acme").run("Ours?"), Pipeline(tenant="globex").run("Theirs?")
    assert post(member, body(foreign + own)).status_code == 403
    assert not BufferedSpan.objects.exists()
    assert post(member, body(own)).status_code == 200
    assert Trace.objects.get().tenant_id == "acme"
    # Without ops.tenant_id, a member of one tenant exports into it.
    assert post(member, body(Pipeline().run("Unnamed?"))).status_code == 200
    assert set(Trace.objects.values_list("tenant_id", flat=True)) == {"acme"}


def test_a_trace_whose_root_never_comes_is_assembled_after_the_quiet_period(client, pipeline, settings):
    spans = pipeline.run("Rootless?")[:-1]  # everything but the root
    assert post(client, body(spans)).status_code == 200
    assert not Trace.objects.exists()
    now = timezone.now()
    assert otlp_sweep(now=now).assembled == 0  # still within the quiet period
    later = now + timedelta(seconds=settings.OPS_OTLP_QUIET_SECONDS + 1)
    assert otlp_sweep(now=later).assembled == 1
    trace = Trace.objects.get()
    assert trace.metadata["otlp"]["root_missing"] is True and trace.question
    assert otlp_sweep(now=later).assembled == 0  # stored: not assembled again
    assert otlp_sweep(now=later + timedelta(hours=settings.OPS_OTLP_BUFFER_HOURS)).deleted_spans == len(spans)
