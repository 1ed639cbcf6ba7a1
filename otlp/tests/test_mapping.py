"""Which stage a span is, and the trace body a trace's spans make (pure)."""

from __future__ import annotations

import pytest

from inspector.contracts import TraceIn
from otlp.mapping import StageRule, assemble, stage_of

TRACE = "0af7651916cd43dd8448eb211c80319c"


def span(span_id: str, name: str, *, parent: str = "a" * 16, start: int = 0, end: int = 5_000_000, status: str = "unset",
         events: list | None = None, **attributes) -> dict:
    return {"trace_id": TRACE, "span_id": span_id.ljust(16, "0"), "parent_span_id": parent, "name": name, "kind": 1,
            "start_ns": 1_700_000_000_000_000_000 + start, "end_ns": 1_700_000_000_000_000_000 + end,
            "attributes": attributes, "resource": {"service.name": "shop"}, "events": events or [],
            "status": status, "status_message": ""}


ROOT = span("a", "handle question", parent="", end=90_000_000, **{"input.value": '{"question": "Which servers?"}',
                                                                  "ops.applied_assets": '{"prompt": "route_rules@2"}'})


def test_the_span_attribute_wins_then_the_tenants_rules_then_the_conventions():
    rules = [StageRule("sql.*", "execute"), StageRule("*", "compose")]
    assert stage_of(span("b", "sql.select", **{"ops.stage": "validate"}), rules) == "validate"
    assert stage_of(span("b", "sql.select", **{"openinference.span.kind": "LLM"}), rules) == "execute"
    assert stage_of(span("b", "anything"), rules) == "compose"
    assert stage_of(span("b", "x", **{"openinference.span.kind": "retriever"})) == "execute"
    assert stage_of(span("b", "x", **{"gen_ai.operation.name": "chat"})) == "compose"
    assert stage_of(span("b", "x", **{"ops.stage": "not-a-stage"})) is None


def test_a_trace_body_that_ingest_accepts():
    spans = [
        ROOT,
        span("c", "plan", start=1_000_000, **{"ops.stage": "route_plan", "output.value": '{"route": "plan"}'}),
        span("d", "llm", start=30_000_000, end=80_000_000,
             **{"openinference.span.kind": "LLM", "gen_ai.request.model": "m-1", "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 40, "output.value": "Three servers."}),
        span("e", "tool", start=10_000_000, status="error", **{"openinference.span.kind": "TOOL"},
             events=[{"name": "exception", "time_ns": 0, "attributes": {"exception.type": "Timeout",
                                                                       "exception.message": "db slow"}}]),
        span("f", "tool", start=20_000_000, **{"openinference.span.kind": "TOOL"}),
        span("g", "http.get", start=21_000_000),
    ]
    assembly = assemble(list(reversed(spans)) + spans[:2], tenant_id="acme")  # any order, repeats
    body = TraceIn.model_validate(assembly.body).model_dump()
    assert body["trace_id"] == TRACE and body["tenant_id"] == "acme" and body["question"] == "Which servers?"
    assert body["duration_ms"] == 90 and body["applied_assets"]["prompt"]["version"] == 2
    assert [(s["stage"], s["attempt"]) for s in body["stages"]] == [
        ("route_plan", 1), ("execute", 1), ("execute", 2), ("compose", 1)]
    failed = body["stages"][1]["output"]["diagnostics"]
    assert failed["status"] == "error" and failed["errors"] == ["Timeout: db slow", "span status ERROR"]
    compose = body["stages"][3]["output"]
    assert compose["result"]["value"] == "Three servers."
    assert compose["result"]["usage"] == {"model": "m-1", "input_tokens": 120, "output_tokens": 40}
    assert compose["duration_ms"] == 50
    assert assembly.unmapped == [{"span_id": "g".ljust(16, "0"), "name": "http.get"}]
    assert body["metadata"]["otlp"]["unmapped_spans"] == assembly.unmapped
    assert body["metadata"]["otlp"]["spans"] == 6


def test_the_same_spans_in_any_order_give_the_same_body():
    spans = [ROOT, span("c", "plan", **{"ops.stage": "route_plan"}), span("d", "x", start=1, **{"ops.stage": "compose"})]
    assert assemble(spans, tenant_id="t").body == assemble(spans[::-1] + spans, tenant_id="t").body


def test_without_a_root_there_is_nothing_to_assemble_unless_one_is_named():
    child = span("c", "plan", **{"ops.stage": "route_plan", "input.value": "Why?"})
    with pytest.raises(ValueError, match="root"):
        assemble([child], tenant_id="t")
    body = assemble([child], tenant_id="t", root=child).body
    assert body["question"] == "Why?" and [s["stage"] for s in body["stages"]] == ["route_plan"]


def test_usage_attributes_of_the_wrong_type_are_left_out_rather_than_refusing_the_trace():
    spans = [ROOT, span("d", "llm", **{"openinference.span.kind": "LLM", "llm.model_name": "m-2",
                                       "llm.token_count.prompt": "77", "llm.token_count.completion": -3,
                                       "llm.cost.total": 0.0042}),
             span("e", "llm2", start=1, **{"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": "many",
                                           "gen_ai.usage.cost": float("nan")})]
    body = TraceIn.model_validate(assemble(spans, tenant_id="t").body).model_dump()
    first, second = (stage["output"]["result"].get("usage") for stage in body["stages"])
    assert first == {"model": "m-2", "input_tokens": 77, "cost": 0.0042}
    assert second is None
