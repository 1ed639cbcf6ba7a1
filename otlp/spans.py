"""The spans of an export as plain records: ids in hex, attribute values as Python values.

A record is what the buffer stores (JSON) and what ``mapping`` turns into a
trace, so it keeps only what the mapping reads: ids, name, kind, times,
attributes (the resource's under ``resource``), events and status.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

# An attribute value may nest arrays and maps; deeper than this is cut (a hostile export must not recurse).
MAX_VALUE_DEPTH = 16


def any_value(value: AnyValue, depth: int = 0) -> Any:
    kind = value.WhichOneof("value")
    if kind is None or depth > MAX_VALUE_DEPTH:
        return None
    if kind == "array_value":
        return [any_value(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values, depth + 1)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(pairs: list[KeyValue], depth: int = 0) -> dict[str, Any]:
    return {pair.key: any_value(pair.value, depth) for pair in pairs}


STATUS = {Status.STATUS_CODE_UNSET: "unset", Status.STATUS_CODE_OK: "ok", Status.STATUS_CODE_ERROR: "error"}


def span_records(export: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """Every span of the export, in order, as a JSON-ready record."""
    records = []
    for resource_spans in export.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                records.append({
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": int(span.kind),
                    "start_ns": int(span.start_time_unix_nano),
                    "end_ns": int(span.end_time_unix_nano),
                    "attributes": attributes(span.attributes),
                    "resource": resource,
                    "events": [{"name": event.name, "time_ns": int(event.time_unix_nano),
                                "attributes": attributes(event.attributes)} for event in span.events],
                    "status": STATUS.get(span.status.code, "unset"),
                    "status_message": span.status.message,
                })
    return records
