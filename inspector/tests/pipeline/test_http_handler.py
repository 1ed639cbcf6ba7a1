"""The HTTP stage handler against a real local server, one path per behaviour."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from inspector.contracts import ExecutionContext, StageInput, StageOutput
from inspector.pipeline.base import HandlerError, ResolvedAsset, StageRequest
from inspector.pipeline.http_handler import http_stage_handler

TOKEN = "s3cret-token"


class _StageService(BaseHTTPRequestHandler):
    """Fake remote stage service; the request path picks its behaviour."""

    server: _RecordingServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.last_headers = dict(self.headers.items())
        self.server.last_body = json.loads(raw)
        stage = self.server.last_body["stage_input"]["stage"]
        question = self.server.last_body["context"]["question"]
        ok = {"stage": stage, "result": {"echo": question}, "duration_ms": 3}
        try:
            self._answer(ok)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the timeout test)

    def _answer(self, ok: dict[str, Any]) -> None:
        if self.path == "/ok":
            self._send(200, json.dumps(ok))
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, json.dumps(ok))
        elif self.path == "/fail":
            self._send(500, "boom", content_type="text/plain")
        elif self.path == "/invalid":
            self._send(200, json.dumps({"stage": "execute", "duration_ms": -1}))
        elif self.path == "/notjson":
            self._send(200, "not json", content_type="text/plain")
        elif self.path == "/wrongstage":
            self._send(200, json.dumps({**ok, "stage": "compose"}))
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, "no such path", content_type="text/plain")

    def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


class _RecordingServer(ThreadingHTTPServer):
    last_body: dict[str, Any] | None = None
    last_headers: dict[str, str] | None = None


@pytest.fixture
def stage_server() -> Iterator[tuple[str, _RecordingServer]]:
    server = _RecordingServer(("127.0.0.1", 0), _StageService)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


class _NoAssets:
    def get(self, asset_type: str, name: str | None = None) -> ResolvedAsset:
        raise KeyError(asset_type)


@pytest.fixture
def stage_request() -> StageRequest:
    request = StageRequest(
        stage_input=StageInput(stage="execute", params={"x": 1}),
        context=ExecutionContext(question="What is checkout-api?"),
        assets=_NoAssets(),
    )
    request.applied["query"] = ResolvedAsset(
        asset_type="query", name="ci_lookup", version=2, status="published", spec={"sql": "SELECT 1"}
    )
    return request


@pytest.fixture
def point_execute_at(settings, stage_server):
    """Configure the ``execute`` stage to call ``path`` on the local server."""
    base_url, _ = stage_server

    def configure(path: str, timeout: float = 5.0) -> str:
        url = base_url + path
        settings.OPS_STAGE_HTTP_URLS = {"execute": url}
        settings.OPS_STAGE_HTTP_TIMEOUT_S = timeout
        settings.OPS_STAGE_HTTP_TOKEN = TOKEN
        return url

    return configure


def test_success_returns_output_and_sends_full_request(point_execute_at, stage_server, stage_request):
    point_execute_at("/ok")

    output = http_stage_handler(stage_request)

    assert isinstance(output, StageOutput)
    assert output.stage == "execute"
    assert output.result["echo"] == "What is checkout-api?"
    assert output.duration_ms == 3
    _, server = stage_server
    assert server.last_body["stage_input"]["stage"] == "execute"
    assert server.last_body["stage_input"]["params"] == {"x": 1}
    assert server.last_body["context"]["question"] == "What is checkout-api?"
    assert server.last_body["assets"] == {"query": {"name": "ci_lookup", "version": 2, "spec": {"sql": "SELECT 1"}}}
    headers = {key.lower(): value for key, value in server.last_headers.items()}
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"


def test_no_authorization_header_without_token(point_execute_at, stage_server, stage_request, settings):
    point_execute_at("/ok")
    settings.OPS_STAGE_HTTP_TOKEN = ""

    http_stage_handler(stage_request)

    _, server = stage_server
    assert "authorization" not in {key.lower() for key in server.last_headers}


def test_slow_service_times_out_quickly(point_execute_at, stage_request):
    url = point_execute_at("/slow", timeout=0.5)

    started = time.monotonic()
    with pytest.raises(HandlerError, match="timed out") as excinfo:
        http_stage_handler(stage_request)

    assert time.monotonic() - started < 1.5
    assert str(excinfo.value) == f"timed out after 0.5 s calling {url}"


def test_server_error_reports_status_and_body(point_execute_at, stage_request):
    url = point_execute_at("/fail")

    with pytest.raises(HandlerError) as excinfo:
        http_stage_handler(stage_request)

    assert str(excinfo.value) == f"HTTP 500 from {url}: boom"


def test_invalid_stage_output_names_the_field(point_execute_at, stage_request):
    point_execute_at("/invalid")

    with pytest.raises(HandlerError, match="invalid StageOutput") as excinfo:
        http_stage_handler(stage_request)

    assert "duration_ms" in str(excinfo.value)


def test_non_json_body_is_rejected(point_execute_at, stage_request):
    url = point_execute_at("/notjson")

    with pytest.raises(HandlerError, match="invalid JSON") as excinfo:
        http_stage_handler(stage_request)

    assert url in str(excinfo.value)


def test_output_for_another_stage_is_rejected(point_execute_at, stage_request):
    point_execute_at("/wrongstage")

    with pytest.raises(HandlerError, match="stage mismatch"):
        http_stage_handler(stage_request)


def test_redirect_is_not_followed(point_execute_at, stage_request):
    point_execute_at("/redirect")

    with pytest.raises(HandlerError, match="HTTP 302"):
        http_stage_handler(stage_request)


def test_missing_url_is_reported(settings, stage_request):
    settings.OPS_STAGE_HTTP_URLS = {"compose": "http://127.0.0.1:1/compose"}

    with pytest.raises(HandlerError) as excinfo:
        http_stage_handler(stage_request)

    assert str(excinfo.value) == "no URL configured for stage 'execute' (OPS_STAGE_HTTP_URLS)"


def test_unreachable_port_is_reported(settings, stage_request):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.OPS_STAGE_HTTP_URLS = {"execute": f"http://127.0.0.1:{port}/stage"}
    settings.OPS_STAGE_HTTP_TIMEOUT_S = 2.0

    with pytest.raises(HandlerError, match="cannot reach") as excinfo:
        http_stage_handler(stage_request)

    assert f"127.0.0.1:{port}" in str(excinfo.value)
