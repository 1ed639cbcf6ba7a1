"""OTLP/HTTP request bodies to ``ExportTraceServiceRequest`` messages, with the protocol's published classes.

Protobuf bodies are parsed by ``opentelemetry-proto``. OTLP/JSON is protobuf's
JSON mapping with one difference the spec makes: trace and span ids are hex
strings, not base64, so they are rewritten before ``json_format`` reads them.
A gzip body is inflated up to the size limit and no further (a small bomb
must not become gigabytes in memory).
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


class UnreadableExport(ValueError):
    """The body is not an OTLP trace export this endpoint can read (a 400 with this message)."""


class ExportTooLarge(ValueError):
    """The body, or what it inflates to, is larger than the limit (a 413)."""


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def inflate(body: bytes, encoding: str, *, limit: int) -> bytes:
    """The body without its ``Content-Encoding`` (identity or gzip), at most ``limit`` bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        if len(body) > limit:
            raise ExportTooLarge(f"the export exceeds the limit of {limit} bytes")
        return body
    if encoding != "gzip":
        raise UnreadableExport(f"Content-Encoding {encoding!r} is not supported (gzip or none)")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise UnreadableExport(f"the gzip body is corrupt: {exc}") from exc
    if len(raw) > limit or inflater.unconsumed_tail:
        raise ExportTooLarge(f"the inflated export exceeds the limit of {limit} bytes")
    if not inflater.eof:
        raise UnreadableExport("the gzip body is truncated")
    return raw


def _hex_ids_to_base64(value: Any) -> Any:
    """OTLP/JSON's hex ids as protobuf JSON's base64, everywhere in the document."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _ID_FIELDS and isinstance(item, str):
                try:
                    item = base64.b64encode(bytes.fromhex(item)).decode() if item else ""
                except ValueError as exc:
                    raise UnreadableExport(f"{key} {item[:40]!r} is not a hex id") from exc
            out[key] = _hex_ids_to_base64(item)
        return out
    if isinstance(value, list):
        return [_hex_ids_to_base64(item) for item in value]
    return value


def decode_export(body: bytes, *, content_type: str) -> ExportTraceServiceRequest:
    """The export message of an (inflated) body of ``content_type`` (protobuf or JSON)."""
    kind = media_type(content_type)
    message = ExportTraceServiceRequest()
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise UnreadableExport(f"the protobuf body is not an ExportTraceServiceRequest: {exc}") from exc
        return message
    if kind == JSON:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise UnreadableExport(f"JSON parse error - {exc}") from exc
        if not isinstance(document, dict):
            raise UnreadableExport("the JSON body must be an object (an ExportTraceServiceRequest)")
        try:
            json_format.ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
        except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
            raise UnreadableExport(f"the JSON body is not an ExportTraceServiceRequest: {exc}") from exc
        return message
    raise UnreadableExport(f"Content-Type {kind or '(none)'!r} is not supported: {PROTOBUF} or {JSON}")
