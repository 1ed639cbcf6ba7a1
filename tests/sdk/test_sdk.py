"""The Python SDK (sdk/) against a live server, and its behaviour when the server refuses, throttles or is away."""

from __future__ import annotations

import asyncio
import contextvars
import http.server
import json
import socket
import threading
import time

import pytest
from ops_inspector_sdk import Client, stage
from rest_framework.authtoken.models import Token

from inspector.models import Trace
from testkit.factories import UserFactory
from testkit.plugin import grant


@pytest.fixture
def token(db) -> str:
    return Token.objects.create(user=grant(UserFactory(), "inspector.add_trace", "inspector.view_trace")).key


@stage("execute", assets={"query": "ci_lookup@1"})
def lookup(service: str) -> dict:
    return {"rows": [f"{service}-01", f"{service}-02"]}


@stage("compose")
async def write_answer(rows: list[str]) -> str:
    await asyncio.sleep(0)
    return f"{len(rows)} servers"


def run_apart(coroutine):
    """``asyncio.run`` in a thread of its own, in this context: this thread may already run Playwright's loop."""
    context = contextvars.copy_context()
    done: list = []
    worker = threading.Thread(target=lambda: done.append(context.run(asyncio.run, coroutine)))
    worker.start()
    worker.join(10)
    return done[0]


@pytest.mark.django_db(transaction=True)
def test_traces_from_context_managers_and_decorators_arrive(live_server, token):
    client = Client(live_server.url, token, flush_interval_s=0.05)
    with client.trace("Which servers run checkout-api?", session_id="s-9",
                      applied_assets={"prompt": "route_rules@1"}) as trace:
        with trace.stage("route_plan", input={"question": "Which servers run checkout-api?"}) as plan:
            plan.output = {"route": "plan"}
        with trace.stage("validate") as check:
            check.warning("slow plan")
        rows = lookup("checkout-api")["rows"]
        run_apart(write_answer(rows))
        with pytest.raises(KeyError), trace.stage("present"):
            raise KeyError("template")  # the application's own error goes on, and is recorded
    assert lookup("outside a trace") == {"rows": ["outside a trace-01", "outside a trace-02"]}
    assert client.flush(10) and client.stats.sent == 1 and client.stats.dropped == 0
    client.close()

    stored = Trace.objects.get(trace_id=trace.trace_id)
    assert stored.question == "Which servers run checkout-api?" and stored.session_id == "s-9"
    runs = {run.stage: run for run in stored.stage_runs.select_related("payload")}
    assert [r.stage for r in stored.stage_runs.order_by("sequence")] == [
        "route_plan", "validate", "execute", "compose", "present"]
    assert runs["validate"].status == "warning"
    assert runs["execute"].payload.input["params"] == {"service": "checkout-api"}
    assert runs["execute"].payload.output["result"]["rows"] == ["checkout-api-01", "checkout-api-02"]
    assert runs["compose"].payload.output["result"]["value"] == "2 servers"
    assert runs["present"].status == "error" and runs["present"].payload.output["diagnostics"]["errors"] == [
        "KeyError: 'template'"]
    assert stored.asset_usages.filter(stage="execute", asset_name="ci_lookup").exists()


@pytest.mark.django_db(transaction=True)
def test_a_bad_trace_in_a_batch_costs_only_itself(live_server, token):
    client = Client(live_server.url, token, flush_interval_s=0.2)
    for number in range(3):
        with client.trace("ok?" if number != 1 else "   ", trace_id=f"sdk-batch-{number}"):
            pass  # a blank question is refused by the contract
    assert client.flush(10)
    client.close()
    assert set(Trace.objects.values_list("trace_id", flat=True)) == {"sdk-batch-0", "sdk-batch-2"}
    assert client.stats.sent == 2 and client.stats.dropped_rejected == 1


class _Throttling(http.server.BaseHTTPRequestHandler):
    """Answers 429 with Retry-After: 1 to the first request, then 201; remembers when requests came."""

    seen: list[float] = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(time.monotonic())
        throttled = len(self.seen) == 1
        self.send_response(429 if throttled else 201)
        if throttled:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_429_waits_as_long_as_retry_after_says():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Throttling.seen = []
    try:
        client = Client(f"http://127.0.0.1:{server.server_port}", "t", flush_interval_s=0.05, backoff_s=0.01)
        with client.trace("throttled?"):
            pass
        assert client.flush(10)
        client.close()
    finally:
        server.shutdown()
    assert len(_Throttling.seen) == 2 and _Throttling.seen[1] - _Throttling.seen[0] >= 0.95
    assert client.stats.sent == 1 and client.stats.retries == 1


def test_an_unreachable_server_never_raises_into_the_app_and_drops_are_counted():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens here
    client = Client(f"http://127.0.0.1:{port}", "t", flush_interval_s=0.05, max_retries=2, backoff_s=0.01,
                    max_queue=2)
    blocked = threading.Event()
    original = client._send_batch
    client._send_batch = lambda batch: (blocked.wait(5), original(batch))  # hold the sender: the queue fills
    started = time.monotonic()
    for number in range(6):
        with client.trace(f"q{number}?") as trace:
            with trace.stage("execute", input=object()) as run:  # not JSON: sent as its str
                run.output = {"n": number}
    assert time.monotonic() - started < 0.5  # recording never waited for the network
    blocked.set()
    assert client.flush(10)
    client.close()
    assert client.stats.sent == 0 and client.stats.retries >= 2
    assert client.stats.dropped_queue_full >= 3 and client.stats.dropped == 6
    assert json.loads(json.dumps(trace.body()))["stages"][0]["input"]["params"]["value"].startswith("<object")
