"""A small question-answering pipeline instrumented with the plain OpenTelemetry SDK, exporting to OPS Inspector.

    pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:8000/v1/traces \\
    OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Token $TOKEN" \\
    python docs/examples/otel_pipeline.py "Which servers run checkout-api?"

Each question is one trace: the root span carries the question, and the five
stages are spans the product recognises by their ``ops.stage`` attribute (or
by OpenInference's span kinds, as ``answer`` shows). Nothing here imports OPS
Inspector: any OTLP/HTTP backend could receive these spans.
"""

from __future__ import annotations

import json
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

INVENTORY = {"checkout-api": ["app-01", "app-02", "app-07"], "billing": ["app-03"]}

# Endpoint and headers come from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _HEADERS, as for any OTLP exporter.
provider = TracerProvider(resource=Resource.create({"service.name": "example-qa"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(compression=Compression.Gzip)))
tracer = provider.get_tracer("example.qa")


def route(question: str) -> dict:
    with tracer.start_as_current_span("route", attributes={"ops.stage": "route_plan", "input.value": question}) as span:
        service = next((name for name in INVENTORY if name in question), "")
        plan = {"route": "plan" if service else "reject", "service": service}
        span.set_attribute("output.value", json.dumps(plan))
        return plan


def validate(plan: dict) -> None:
    with tracer.start_as_current_span("check plan", attributes={"openinference.span.kind": "GUARDRAIL",
                                                                "output.value": json.dumps({"valid": True})}):
        pass


def execute(plan: dict) -> list[str]:
    with tracer.start_as_current_span("lookup", attributes={"ops.stage": "execute",
                                                            "input.value": json.dumps(plan)}) as span:
        rows = INVENTORY.get(plan["service"], [])
        if not rows:
            span.add_event("no rows")
        span.set_attribute("output.value", json.dumps({"rows": rows}))
        return rows


def compose(question: str, rows: list[str]) -> str:
    with tracer.start_as_current_span("answer", attributes={
            "openinference.span.kind": "LLM", "gen_ai.request.model": "example-small",
            "gen_ai.usage.input_tokens": 40 + 3 * len(rows), "gen_ai.usage.output_tokens": 12}) as span:
        text = f"{len(rows)} servers: {', '.join(rows)}." if rows else "I found no servers for that."
        span.set_attribute("output.value", text)
        return text


def present(text: str) -> None:
    with tracer.start_as_current_span("render", attributes={"ops.stage": "present",
                                                            "output.value": json.dumps({"text": text})}):
        pass


def answer(question: str) -> str:
    with tracer.start_as_current_span("qa", attributes={"input.value": question,
                                                        "ops.applied_assets": '{"prompt": "route_rules@1"}'}):
        plan = route(question)
        validate(plan)
        rows = execute(plan)
        text = compose(question, rows)
        present(text)
        return text


if __name__ == "__main__":
    for asked in sys.argv[1:] or ["Which servers run checkout-api?"]:
        print(answer(asked))
    provider.shutdown()  # flushes the batch processor: every span is sent before the process ends
