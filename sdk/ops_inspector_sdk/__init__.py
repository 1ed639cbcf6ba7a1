"""Record a pipeline's runs as OPS Inspector traces and send them in the background.

    from ops_inspector_sdk import Client, stage

    client = Client("http://127.0.0.1:8000", token="…")
    with client.trace("Which servers run checkout-api?", session_id="s-1") as t:
        with t.stage("route_plan", input={"question": "…"}) as s:
            s.output = {"route": "plan"}

Sending never raises into, nor blocks, the instrumented application: traces go
to a bounded queue that a background thread sends in batches to
``POST /inspector/traces``, retrying with backoff (honouring ``Retry-After`` on
429 and 503); what it had to drop is counted in ``client.stats``.
"""

from ops_inspector_sdk.client import Client, Stats
from ops_inspector_sdk.recording import StageRecorder, TraceRecorder, stage

__all__ = ["Client", "StageRecorder", "Stats", "TraceRecorder", "stage"]
