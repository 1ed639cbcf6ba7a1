"""A stage served over HTTP by another service, run by the executor inside a pipeline."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from inspector.selectors import stage_run_with_payload


class _ComposeService(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        rows = [row for result in body["stage_input"]["prev_output"]["tool_results"] for row in result["rows"]]
        output = {"stage": "compose", "duration_ms": 1,
                  "result": {"blocks": [{"type": "text", "text": f"remote saw {len(rows)} rows"}], "references": []},
                  "diagnostics": {"status": "ok", "counts": {"blocks": 1}}}
        payload = json.dumps(output).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def compose_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ComposeService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/compose"
    server.shutdown()


@pytest.mark.usefixtures("reference_assets")
def test_remote_compose_stage_runs_inside_the_pipeline(settings, compose_service):
    settings.OPS_STAGE_HANDLERS = {**settings.OPS_STAGE_HANDLERS,
                                   "compose": "inspector.pipeline.http_handler.http_stage_handler"}
    settings.OPS_STAGE_HTTP_URLS = {"compose": compose_service}

    trace = pipeline_run(context=ExecutionContext(question="What is checkout-api?"))

    compose = stage_run_with_payload(trace_id=trace.trace_id, stage="compose").payload.output
    assert compose["result"]["blocks"] == [{"type": "text", "text": "remote saw 1 rows"}]
    present = stage_run_with_payload(trace_id=trace.trace_id, stage="present").payload.output
    assert present["result"]["ui_model"]["answer"] == "remote saw 1 rows"
    assert trace.status == "success"


@pytest.mark.usefixtures("reference_assets")
def test_unreachable_remote_stage_is_an_error_stage(settings):
    settings.OPS_STAGE_HANDLERS = {**settings.OPS_STAGE_HANDLERS,
                                   "compose": "inspector.pipeline.http_handler.http_stage_handler"}
    settings.OPS_STAGE_HTTP_URLS = {"compose": "http://127.0.0.1:9/compose"}
    trace = pipeline_run(context=ExecutionContext(question="What is checkout-api?"))
    compose = trace.stage_runs.filter(stage="compose").order_by("-attempt").first()
    assert compose.status == "error" and "cannot reach" in compose.diagnostics["errors"][0]
