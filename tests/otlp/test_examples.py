"""docs/examples/ (OpenTelemetry and the SDK) run against a live server, and the traces they send are checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.models import Trace

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_the_opentelemetry_example_sends_one_trace_a_question(live_server, ingest_token):
    env = {**os.environ, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{live_server.url}/v1/traces",
           "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"Authorization=Token {ingest_token}"}
    done = subprocess.run([sys.executable, str(EXAMPLES / "otel_pipeline.py"), "Which servers run checkout-api?",
                           "Where is billing?", "Who owns payroll?"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "3 servers: app-01, app-02, app-07."
    traces = {trace.question: trace for trace in Trace.objects.all()}
    assert set(traces) == {"Which servers run checkout-api?", "Where is billing?", "Who owns payroll?"}
    first = traces["Which servers run checkout-api?"]
    assert [run.stage for run in first.stage_runs.order_by("sequence")] == [
        "route_plan", "validate", "execute", "compose", "present"]
    assert "unmapped_spans" not in first.metadata["otlp"]
    empty = traces["Who owns payroll?"].stage_runs.get(stage="execute")
    assert empty.status == "warning" and empty.payload.output["diagnostics"]["warnings"] == ["no rows"]


def test_the_sdk_example_sends_one_trace_a_question_in_one_session(live_server, ingest_token):
    env = {**os.environ, "OPS_URL": live_server.url, "OPS_TOKEN": ingest_token}
    done = subprocess.run([sys.executable, str(EXAMPLES / "sdk_pipeline.py"), "Which servers run checkout-api?",
                           "Who owns payroll?"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "sent 2, dropped 0"
    traces = {trace.question: trace for trace in Trace.objects.all()}
    assert set(traces) == {"Which servers run checkout-api?", "Who owns payroll?"}
    assert {trace.session_id for trace in traces.values()} == {"example-session"}
    assert [run.stage for run in traces["Who owns payroll?"].stage_runs.order_by("sequence")] == [
        "route_plan", "validate", "execute", "compose", "present"]
    assert traces["Who owns payroll?"].stage_runs.get(stage="validate").status == "warning"
