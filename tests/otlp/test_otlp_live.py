"""Real OpenTelemetry SDK exports to a live server: several batches, out of order, repeated — each trace once."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from inspector.models import StageRun, Trace
from otlp.models import SpanStageRule

pytestmark = pytest.mark.django_db(transaction=True)


def exporter(live_server, token: str, compression=Compression.Gzip) -> OTLPSpanExporter:
    return OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers={"Authorization": f"Token {token}"},
                            compression=compression, timeout=10)


def test_batches_out_of_order_and_repeated_make_each_trace_once_with_every_stage(live_server, ingest_token, pipeline):
    first, second = pipeline.run("Which servers run checkout-api?"), pipeline.run("Who owns billing?")
    root_of_first = first[-1]  # the root ends last
    batches = [[root_of_first, *second[:3]], first[:4], first[:4], [*first[4:-1], *second[3:]], second]
    export = exporter(live_server, ingest_token)
    assert [export.export(batch) for batch in batches] == [SpanExportResult.SUCCESS] * len(batches)

    assert Trace.objects.count() == 2
    trace = Trace.objects.get(trace_id=format(root_of_first.context.trace_id, "032x"))
    assert trace.question == "Which servers run checkout-api?" and trace.tenant_id == "default"
    runs = list(StageRun.objects.filter(trace=trace).order_by("sequence").select_related("payload"))
    assert [(run.stage, run.attempt) for run in runs] == [
        ("route_plan", 1), ("validate", 1), ("execute", 1), ("compose", 1), ("present", 1)]
    execute, compose = runs[2], runs[3]
    assert execute.status == "error" and execute.errors_count == 1
    assert execute.payload.output["diagnostics"]["errors"] == ["TimeoutError: inventory slow"]
    assert compose.payload.output["result"]["usage"] == {"model": "small-1", "input_tokens": 120, "output_tokens": 30}
    assert trace.metadata["otlp"]["unmapped_spans"][0]["name"] == "cache.get"
    assert trace.session_id == "s-1" and trace.metadata["otlp"]["service"] == "shop"
    assert trace.asset_usages.filter(stage="", asset_name="route_rules", version=1).exists()


def test_without_compression_and_with_the_tenants_span_rules(live_server, ingest_token, pipeline):
    SpanStageRule.objects.create(tenant_id="default", pattern="cache.*", stage="execute")
    spans = pipeline.run("Where is billing deployed?")
    assert exporter(live_server, ingest_token, Compression.NoCompression).export(spans) == SpanExportResult.SUCCESS
    trace = Trace.objects.get()
    assert [(r.stage, r.attempt) for r in trace.stage_runs.order_by("sequence")][2:4] == [("execute", 1), ("execute", 2)]
    assert "unmapped_spans" not in trace.metadata["otlp"]


def test_a_bad_token_is_refused_and_nothing_is_stored(live_server, pipeline):
    assert exporter(live_server, "0" * 40).export(pipeline.run("Who?")) == SpanExportResult.FAILURE
    assert not Trace.objects.exists()
