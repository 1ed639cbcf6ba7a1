"""Spans made by the real OpenTelemetry SDK, for the OTLP endpoint's tests."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.authtoken.models import Token

from testkit.factories import UserFactory
from testkit.plugin import grant


class Pipeline:
    """An instrumented toy pipeline: each ``run`` records one trace's spans (children end before the root)."""

    def __init__(self, tenant: str = "") -> None:
        self.finished = InMemorySpanExporter()
        attributes = {"service.name": "shop"} | ({"ops.tenant_id": tenant} if tenant else {})
        self.provider = TracerProvider(resource=Resource.create(attributes))
        self.provider.add_span_processor(SimpleSpanProcessor(self.finished))
        self.tracer = self.provider.get_tracer("shop.pipeline")

    def run(self, question: str) -> list:
        before = len(self.finished.get_finished_spans())
        with self.tracer.start_as_current_span("handle question", attributes={
                "openinference.span.kind": "CHAIN", "input.value": question,
                "ops.applied_assets": '{"prompt": "route_rules@1"}', "session.id": "s-1"}):
            with self.tracer.start_as_current_span("plan", attributes={"ops.stage": "route_plan",
                                                                       "output.value": '{"route": "plan"}'}):
                pass
            with self.tracer.start_as_current_span("guard", attributes={"openinference.span.kind": "GUARDRAIL"}):
                pass
            with self.tracer.start_as_current_span("sql", attributes={"openinference.span.kind": "TOOL"}) as sql:
                sql.record_exception(TimeoutError("inventory slow"))
            with self.tracer.start_as_current_span("cache.get"):  # maps to no stage
                pass
            with self.tracer.start_as_current_span("answer", attributes={
                    "openinference.span.kind": "LLM", "gen_ai.request.model": "small-1",
                    "gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
                    "output.value": "Three servers run checkout-api."}):
                pass
            with self.tracer.start_as_current_span("render", attributes={"ops.stage": "present"}):
                pass
        return list(self.finished.get_finished_spans()[before:])


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline()


@pytest.fixture
def ingest_token(db) -> str:
    user = grant(UserFactory(), "inspector.add_trace", "inspector.view_trace")
    return Token.objects.create(user=user).key
