"""Demo traces of an instrumented assistant: what a pipeline we did not write sends, with tokens and sessions.

The reference pipeline calls no model, so it reports no tokens. These traces
stand for a customer's pipeline sending its own traces (as the SDK does):
``route_plan`` → ``compose`` (a model call reporting its tokens, no cost) →
``present``, in short conversations (sessions). Their cost is not made up
here: ingest prices the tokens with the ``model_prices`` table, whose
version 2 (cheaper ``gpt-4o``) is published half-way, so the impact page
can compare the two versions' cost per trace. Token counts follow the text
lengths (about four characters a token), deterministically.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from inspector.models import Asset, Trace
from inspector.services import asset_create, asset_version_create, asset_version_publish
from inspector.services.traces import trace_ingest
from kernel.tenancy import SHARED_TENANT

PRICE_TABLE = "model_prices"
# Illustrative list prices per million tokens: edit the asset to your contract.
PRICES_V1 = {"currency": "USD", "models": {
    "gpt-4o": {"input_per_million": 2.5, "output_per_million": 10.0},
    "gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.6},
    "claude-*": {"input_per_million": 3.0, "output_per_million": 15.0},
}}
PRICES_V2 = {**PRICES_V1, "models": {**PRICES_V1["models"],
                                     "gpt-4o": {"input_per_million": 1.25, "output_per_million": 5.0}}}
CONVERSATIONS = [
    ("Why did checkout-api page last night?", "Show the error budget for checkout-api"),
    ("Summarise this week's incidents on pg-orders-prod", "Which of them were caused by deploys?",
     "Draft a post-mortem outline"),
    ("What changed in billing-service yesterday?", "Roll back to the previous release?"),
    ("Explain the dependency path from lb-edge-01 to pg-orders-prod",),
    ("Which queues are backing up?", "Who owns mq-events-prod?"),
]
MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet")


def price_table_install() -> None:
    """Version 1 of ``model_prices``, published; idempotent."""
    if Asset.objects.filter(asset_type="price_table", name=PRICE_TABLE).exists():
        return
    asset = asset_create(tenant_id=SHARED_TENANT, asset_type="price_table", name=PRICE_TABLE, spec=PRICES_V1, note="List prices",
                         description="What model tokens cost: prices traces whose usage carries no cost")
    asset_version_publish(version=asset.versions.get(version=1))


def price_table_v2_install() -> None:
    asset = Asset.objects.get(asset_type="price_table", name=PRICE_TABLE)
    version = asset.versions.filter(version=2).first() or asset_version_create(
        asset=asset, spec=PRICES_V2, note="gpt-4o price cut")
    if version.status == "draft":
        asset_version_publish(version=version)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _trace(trace_id: str, session: str, question: str, model: str, turn: int, started_at: datetime) -> dict[str, Any]:
    answer = f"Answer to: {question} " + "details " * (20 + 15 * turn)
    context = 900 + 350 * turn  # earlier turns ride along in the prompt
    stage = {"route_plan": {"kind": "direct", "plan": {"intent": "assistant"}, "direct_answer": ""},
             "compose": {"blocks": [{"type": "text", "text": answer}], "references": [],
                         "usage": {"model": model, "input_tokens": context + _tokens(question),
                                   "output_tokens": _tokens(answer)}},
             "present": {"ui_model": {"title": question, "answer": answer}, "final_blocks": [],
                         "final_references": [], "final_attributions": []}}
    durations = {"route_plan": 12, "compose": 600 + 40 * _tokens(answer) // 10, "present": 3}
    return {
        "trace_id": trace_id, "session_id": session, "question": question, "route": "direct",
        "started_at": started_at.isoformat(), "metadata": {"seeded": "example_assistant"},
        "stages": [{"stage": name, "input": {"stage": name, "params": {"question": question}},
                    "output": {"stage": name, "result": result, "duration_ms": durations[name]}}
                   for name, result in stage.items()],
    }


def seed_assistant_traces(*, now: datetime, days: int = 7) -> int:
    """About 40 assistant traces over ``days`` days, in sessions; returns how many were created."""
    price_table_install()
    created, index = 0, 0
    rounds = 4
    total = rounds * sum(len(turns) for turns in CONVERSATIONS)
    for round_number in range(rounds):
        if round_number == rounds // 2:
            price_table_v2_install()
        for number, turns in enumerate(CONVERSATIONS):
            session = f"demo-session-{round_number}-{number}"
            model = MODELS[(round_number + number) % len(MODELS)]
            for turn, question in enumerate(turns):
                started_at = now - timedelta(days=days) + timedelta(days=days) * index / total + timedelta(seconds=turn)
                trace_id = f"demo-assistant-{index:03d}"
                index += 1
                if Trace.objects.filter(trace_id=trace_id).exists():
                    continue
                trace_ingest(payload=_trace(trace_id, session, question, model, turn, started_at))
                created += 1
    price_table_v2_install()
    return created
