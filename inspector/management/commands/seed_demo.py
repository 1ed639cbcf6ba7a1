"""Seed demo data: one published version of every asset type and a few hand-made traces.

The traces are plain ingests through ``trace_ingest`` (the same path as the
API); the pipeline issue replaces them with real pipeline runs.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from inspector.models import Asset, Trace
from inspector.services import asset_create, asset_version_publish, trace_ingest

DEMO_SPECS = {
    "prompt": ("route_rules", {"template": "Classify the ops question: {question}",
                               "rules": [{"intent": "lookup", "keywords": ["show", "what is"], "query": "ci_lookup"}]}),
    "policy": ("budget", {"allowed_tools": ["sql"], "max_steps": 4, "max_rows": 200, "budget_ms": 800}),
    "mapping": ("blocks", {"blocks": [{"block_type": "table", "title": "Results"}]}),
    "query": ("ci_lookup", {"sql": "SELECT id, name, ci_type FROM ci WHERE name = :name", "params": ["name"]}),
    "source": ("inventory", {"engine": "bundled"}),
    "schema": ("inventory_schema", {"tables": {"ci": ["id", "name", "ci_type"]}}),
    "resolver": ("ci_aliases", {"aliases": {"checkout": "app-001", "orders db": "db-001"}}),
    "screen": ("answer_card", {"max_blocks": 3}),
}

QUESTIONS = [
    ("What is checkout-api?", "plan", "ok"),
    ("Show the database pg-orders-prod", "plan", "ok"),
    ("Which servers run billing-service?", "plan", "warning"),
    ("Latency of checkout-api last 24h", "plan", "ok"),
    ("Events on mq-events-prod this week", "plan", "error"),
    ("Hello!", "direct", "ok"),
    ("Delete all servers", "reject", "ok"),
    ("Show the unknown host zz-404", "plan", "ok"),
]


class Command(BaseCommand):
    help = "Create demo assets and traces (idempotent)."

    def handle(self, *args, **options) -> None:
        for asset_type, (name, spec) in DEMO_SPECS.items():
            if not Asset.objects.filter(tenant_id="default", asset_type=asset_type, name=name).exists():
                asset = asset_create(tenant_id="default", asset_type=asset_type, name=name, spec=spec,
                                     note="Seeded by seed_demo")
                asset_version_publish(version=asset.versions.get(version=1))
        now = timezone.now()
        created = 0
        for index, (question, route, status) in enumerate(QUESTIONS):
            trace_id = f"demo-{index:03d}"
            if Trace.objects.filter(trace_id=trace_id).exists():
                continue
            trace_ingest(payload=_trace(trace_id, question, route, status, now - timedelta(hours=3 * index)))
            created += 1
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {created} new traces, {Trace.objects.count()} in all."))


def _trace(trace_id: str, question: str, route: str, status: str, started_at) -> dict:
    stages = ["route_plan", "validate", "execute", "compose", "present"] if route == "plan" else ["route_plan", "present"]
    assets = {t: f"{name}@1" for t, (name, _) in DEMO_SPECS.items()}
    rows = [] if "zz-404" in question else [{"id": "app-001", "name": "checkout-api", "ci_type": "application"}]
    results = {
        "route_plan": {"kind": route, "plan": {"intent": "lookup"} if route == "plan" else {},
                       "direct_answer": "Hello! Ask me about servers, databases and apps." if route == "direct" else ""},
        "validate": {"validation_passed": True, "violations": []},
        "execute": {"tool_results": [{"query": "ci_lookup", "rows": rows}], "references": []},
        "compose": {"blocks": [{"type": "table", "rows": rows}] if rows else [], "references": []},
        "present": {"ui_model": {"title": question}, "final_blocks": [], "final_references": [],
                    "final_attributions": [{"type": "policy", "source_id": "budget@1", "description": "row limit"}]},
    }
    stage_types = {"route_plan": ["prompt", "resolver"], "validate": ["policy"], "execute": ["query", "source", "schema"],
                   "compose": ["mapping"], "present": ["screen"]}
    body_stages = []
    for stage in stages:
        stage_status = status if stage == ("execute" if route == "plan" else "present") else "ok"
        empty = stage == "execute" and not rows
        body_stages.append({
            "stage": stage,
            "input": {"stage": stage, "applied_assets": {t: assets[t] for t in stage_types[stage]},
                      "params": {"question": question}},
            "output": {
                "stage": stage,
                "result": results[stage],
                "diagnostics": {
                    "status": "warning" if empty else stage_status,
                    "warnings": ["query returned no rows"] if empty else (["slow query"] if stage_status == "warning" else []),
                    "errors": ["statement timeout"] if stage_status == "error" else [],
                    "empty_flags": {"result_empty": empty},
                    "counts": {"rows": len(rows)} if stage == "execute" else {},
                },
                "references": [{"type": "db_row", "source": "inventory", "entity_id": r["id"], "entity_name": r["name"]}
                               for r in rows] if stage == "execute" else [],
                "duration_ms": 5 + 7 * len(stage),
            },
        })
    return {"trace_id": trace_id, "question": question, "started_at": started_at.isoformat(),
            "applied_assets": {t: {"name": n, "version": 1, "status": "published"} for t, (n, _) in DEMO_SPECS.items()},
            "stages": body_stages, "metadata": {"seeded": True}}
