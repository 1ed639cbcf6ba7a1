"""OTLP bodies in every encoding the endpoint accepts, and the ones it refuses."""

from __future__ import annotations

import gzip
import json

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp.decoding import ExportTooLarge, UnreadableExport, decode_export, inflate
from otlp.spans import span_records

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def export() -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    service = resource_spans.resource.attributes.add()
    service.key, service.value.string_value = "service.name", "shop"
    span = resource_spans.scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes.fromhex(TRACE), bytes.fromhex(SPAN), "ask"
    span.start_time_unix_nano, span.end_time_unix_nano = 1_700_000_000_000_000_000, 1_700_000_000_250_000_000
    for key, setter in (("input.value", lambda v: setattr(v, "string_value", "Which servers?")),
                        ("gen_ai.usage.input_tokens", lambda v: setattr(v, "int_value", 12))):
        attribute = span.attributes.add()
        attribute.key = key
        setter(attribute.value)
    return message


def test_protobuf_body_gives_records_with_hex_ids_and_plain_values():
    (record,) = span_records(decode_export(export().SerializeToString(), content_type="application/x-protobuf"))
    assert (record["trace_id"], record["span_id"], record["parent_span_id"]) == (TRACE, SPAN, "")
    assert record["attributes"] == {"input.value": "Which servers?", "gen_ai.usage.input_tokens": 12}
    assert record["resource"] == {"service.name": "shop"} and record["end_ns"] - record["start_ns"] == 250_000_000


def test_otlp_json_has_hex_ids_not_base64():
    document = json_format.MessageToDict(export())  # protobuf's JSON mapping: ids in base64
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] != TRACE
    span["traceId"], span["spanId"] = TRACE, SPAN  # OTLP/JSON writes them in hex
    (record,) = span_records(decode_export(json.dumps(document).encode(), content_type="application/json; charset=utf-8"))
    assert (record["trace_id"], record["span_id"]) == (TRACE, SPAN)


def test_gzip_is_inflated_up_to_the_limit_and_no_further():
    body = export().SerializeToString()
    assert inflate(gzip.compress(body), "gzip", limit=len(body)) == body
    with pytest.raises(ExportTooLarge):
        inflate(gzip.compress(b"\0" * 5_000_000), "gzip", limit=1_000_000)  # a 5 KB bomb stops at 1 MB
    with pytest.raises(UnreadableExport, match="corrupt"):
        inflate(b"not gzip", "gzip", limit=1000)
    with pytest.raises(UnreadableExport, match="truncated"):
        inflate(gzip.compress(body)[:-12], "gzip", limit=10_000)
    with pytest.raises(UnreadableExport, match="br"):
        inflate(body, "br", limit=10_000)
    with pytest.raises(ExportTooLarge):
        inflate(body, "", limit=10)


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"\xff\xff\xff", "application/x-protobuf", "not an ExportTraceServiceRequest"),
    (b"[1, 2]", "application/json", "must be an object"),
    (b"{", "application/json", "JSON parse error"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', "application/json", "not a hex id"),
    (b'{"resourceSpans": "no"}', "application/json", "not an ExportTraceServiceRequest"),
    (b"{}", "text/plain", "not supported"),
])
def test_unreadable_bodies_are_refused_with_a_reason(body, content_type, message):
    with pytest.raises(UnreadableExport, match=message):
        decode_export(body, content_type=content_type)
