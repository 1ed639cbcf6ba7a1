"""What ingest stores reads back exactly: payloads (binary COPY on PostgreSQL), stage runs and usage figures."""

import zlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inspector import selectors
from inspector.contracts import StageInput, StageOutput
from inspector.models import StagePayload, StageRun, TraceAssetUsage
from inspector.services import trace_ingest, trace_ingest_batch
from inspector.services.payloads import canonical_json
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db


def _awkward_body(trace_id: str) -> dict:
    """Payloads with non-ASCII text, escapes, empty containers, numbers and a large value."""
    body = trace_body(trace_id=trace_id, padding=300_000)
    result = body["stages"][2]["output"]["result"]
    result["text"] = "Größe ✓ — 日本語 \"quoted\" back\\slash\ttab\nnewline 🙂"
    result["numbers"] = [0, -1, 2**53, 1.5e-7, True, False, None]
    result["empty"] = {"list": [], "object": {}, "string": ""}
    body["stages"][0]["input"]["params"] = {"bytes_like": "\\x00ff", "nested": {"a": [{"b": "c"}]}}
    return body


def _expected_payloads(body: dict) -> list[tuple[dict, dict]]:
    return [(StageInput.model_validate(stage["input"]).model_dump(mode="json"),
             StageOutput.model_validate(stage["output"]).model_dump(mode="json")) for stage in body["stages"]]


def test_payloads_read_back_identically():
    body = _awkward_body("copy-1")

    with CaptureQueriesContext(connection) as queries:
        trace, _ = trace_ingest(payload=body)

    runs = StageRun.objects.filter(trace=trace).select_related("payload").order_by("sequence")
    assert [(run.payload.input, run.payload.output) for run in runs] == _expected_payloads(body)
    # Byte for byte: the stored bytes are the canonical JSON the size, preview and hash were computed from.
    for run, (expected_input, expected_output) in zip(runs, _expected_payloads(body), strict=True):
        assert zlib.decompress(bytes(run.payload.output_data)) == canonical_json(expected_output)
        assert run.output_size == len(canonical_json(expected_output))
        assert run.input_size == len(canonical_json(expected_input))
    copied = any(q["sql"].startswith("COPY") and "inspector_stagepayload" in q["sql"]
                 for q in queries.captured_queries)
    assert copied == (connection.vendor == "postgresql")


def test_batch_payloads_read_back_identically_and_belong_to_their_own_trace():
    bodies = [_awkward_body("copy-a"), trace_body(trace_id="copy-b", padding=10), _awkward_body("copy-c")]
    bodies[2]["stages"][4]["output"]["result"]["ui_model"] = {"title": "third"}

    trace_ingest_batch(payloads=bodies)

    for body in bodies:
        runs = StageRun.objects.filter(trace__trace_id=body["trace_id"]).select_related("payload").order_by("sequence")
        assert [(run.payload.input, run.payload.output) for run in runs] == _expected_payloads(body)
    assert StagePayload.objects.count() == 15


def test_stage_run_summaries_are_stored_as_sent():
    body = trace_body(trace_id="summary")
    body["stages"][1]["output"]["diagnostics"] = {"status": "warning", "warnings": ["slow", "é"], "errors": [],
                                                  "empty_flags": {"result_empty": True}, "counts": {"rows": 0}}

    trace, _ = trace_ingest(payload=body)

    validate = StageRun.objects.get(trace=trace, stage="validate")
    assert (validate.status, validate.warnings_count, validate.result_empty, validate.sequence) == (
        "warning", 2, True, 1)
    assert validate.diagnostics["warnings"] == ["slow", "é"]
    route_plan = selectors.stage_runs_with_previews(StageRun.objects.filter(trace=trace)).get(stage="route_plan")
    assert route_plan.applied_assets == {"prompt": "route_rules@1"}
    assert route_plan.input_preview.startswith('{"applied_assets":{"prompt":"route_rules@1"}')
    assert trace.metadata == {"client": "tests"} and trace.created_at is not None


def test_usage_rows_carry_the_figures_of_their_stage_and_trace():
    body = trace_body(trace_id="figures", started_at="2026-03-01T08:00:00Z")
    body["stages"][0]["output"]["duration_ms"] = 40
    body["stages"][2]["output"]["diagnostics"]["counts"] = {"rows": 7}
    retry = {**body["stages"][0], "attempt": 2}
    retry["output"] = {**retry["output"], "duration_ms": 30}
    body["stages"].insert(1, retry)

    trace_ingest_batch(payloads=[body])

    rows = {row.stage: row for row in TraceAssetUsage.objects.filter(trace__trace_id="figures")}
    assert set(rows) == {"", "route_plan"}
    stage = rows["route_plan"]
    assert (stage.duration_ms, stage.replanned, stage.status, stage.version_status) == (30, True, "ok", "published")
    whole = rows[""]
    assert (whole.duration_ms, whole.replanned, whole.rows_count, whole.references_count) == (40 + 30 + 4 * 12, True, 7, 0)
    assert whole.started_at.isoformat() == "2026-03-01T08:00:00+00:00" and whole.tenant_id == "default"
    assert whole.asset_version_id is None  # no such version in the registry
