"""The same kind of pipeline instrumented with OPS Inspector's own Python SDK (``pip install ./sdk``).

    OPS_URL=http://127.0.0.1:8000 OPS_TOKEN=… python docs/examples/sdk_pipeline.py "Which servers run checkout-api?"

Stages are recorded by the ``@stage`` decorator (sync and async functions) or
``with trace.stage(...)``; traces are sent in the background and flushed at exit.
"""

from __future__ import annotations

import asyncio
import os
import sys

from ops_inspector_sdk import Client, stage

INVENTORY = {"checkout-api": ["app-01", "app-02", "app-07"], "billing": ["app-03"]}


@stage("route_plan", assets={"prompt": "route_rules@1"})
def route(question: str) -> dict:
    service = next((name for name in INVENTORY if name in question), "")
    return {"route": "plan" if service else "reject", "service": service}


@stage("execute")
def lookup(plan: dict) -> dict:
    return {"rows": INVENTORY.get(plan["service"], [])}


@stage("compose")
async def compose(rows: list[str]) -> str:
    await asyncio.sleep(0)  # where a model would be called
    return f"{len(rows)} servers: {', '.join(rows)}." if rows else "I found no servers for that."


def main(questions: list[str]) -> None:
    client = Client(os.environ["OPS_URL"], os.environ["OPS_TOKEN"])
    for question in questions:
        with client.trace(question, session_id="example-session") as trace:
            plan = route(question)
            with trace.stage("validate", input=plan) as check:
                check.output = {"valid": plan["route"] != "reject"}
                if plan["route"] == "reject":
                    check.warning("no known service in the question")
            rows = lookup(plan)["rows"]
            text = asyncio.run(compose(rows))
            with trace.stage("present", input={"text": text}) as shown:
                shown.output = {"text": text}
        print(text)
    client.close()  # sends what is queued
    print(f"sent {client.stats.sent}, dropped {client.stats.dropped}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["Which servers run checkout-api?"])
