"""The reference pipeline's assets: version 1 of every type, plus the demo's version 2s.

``reference_assets_install`` is idempotent: it creates and publishes what is
missing and leaves existing assets alone.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction

from inspector.models import Asset
from inspector.services import asset_create, asset_version_create, asset_version_publish
from kernel.tenancy import SHARED_TENANT

ROUTE_RULES: list[dict[str, Any]] = [
    {"intent": "refuse_write", "kind": "reject",
     "keywords": ["delete", "drop", "shutdown", "shut down", "reboot", "wipe", "password", "credentials"],
     "answer": "I only read the inventory; I cannot change systems or reveal secrets."},
    {"intent": "greeting", "kind": "direct", "keywords": ["hello", "hi", "hey", "thanks", "thank you"],
     "answer": "Hello! Ask me about servers, databases, applications, their dependencies, metrics and events."},
    {"intent": "dependency_path", "kind": "plan", "query": "dependency_path",
     "keywords": ["depend", "depends", "dependencies", "dependency", "upstream", "downstream", "runs on", "connected"]},
    {"intent": "metric_summary", "kind": "plan", "query": "metric_summary",
     "keywords": ["cpu", "memory", "latency", "error rate", "metrics", "load"]},
    {"intent": "event_history", "kind": "plan", "query": "event_history",
     "keywords": ["events", "incidents", "incident", "alerts", "deploys", "history", "changes"]},
    {"intent": "aggregate", "kind": "plan", "query": "ci_count", "keywords": ["how many", "count", "breakdown"]},
    {"intent": "list", "kind": "plan", "query": "ci_list", "keywords": ["list", "all", "which", "show all"]},
    {"intent": "lookup", "kind": "plan", "query": "ci_lookup",
     "keywords": ["what is", "show", "describe", "who owns", "where is"]},
]

QUERIES: dict[str, dict[str, Any]] = {
    "ci_lookup": {"sql": "SELECT id, name, ci_type, environment, owner_team, location, status FROM ci "
                         "WHERE id = :ci_id OR name = :ci_name", "params": ["ci_id", "ci_name"], "row_limit": 20},
    "ci_list": {"sql": "SELECT id, name, ci_type, environment, status FROM ci "
                       "WHERE (:ci_type = '' OR ci_type = :ci_type) AND (:environment = '' OR environment = :environment) "
                       "ORDER BY name LIMIT :limit", "params": ["ci_type", "environment"], "row_limit": 100},
    "ci_count": {"sql": "SELECT ci_type, environment, COUNT(*) AS count FROM ci "
                        "WHERE (:environment = '' OR environment = :environment) "
                        "GROUP BY ci_type, environment ORDER BY count DESC, ci_type", "params": ["environment"],
                 "row_limit": 50, "entity_column": "ci_type", "name_column": "environment"},
    "dependency_path": {"sql": "WITH RECURSIVE start(id) AS (SELECT id FROM ci WHERE id = :ci_id OR name = :ci_name), "
                               "deps(source_id, target_id, relation_type, depth) AS ("
                               "SELECT r.source_id, r.target_id, r.relation_type, 1 FROM ci_relation r "
                               "JOIN start s ON r.source_id = s.id "
                               "UNION SELECT r.source_id, r.target_id, r.relation_type, d.depth + 1 FROM ci_relation r "
                               "JOIN deps d ON r.source_id = d.target_id WHERE d.depth < 3) "
                               "SELECT d.source_id, s.name AS source_name, d.relation_type, d.target_id, "
                               "t.name AS target_name, d.depth FROM deps d JOIN ci s ON s.id = d.source_id "
                               "JOIN ci t ON t.id = d.target_id ORDER BY d.depth, s.name, t.name",
                        "params": ["ci_id", "ci_name"], "row_limit": 100, "entity_column": "target_id",
                        "name_column": "target_name"},
    "metric_summary": {"sql": "SELECT c.id, c.name, m.metric, COUNT(*) AS samples, ROUND(AVG(m.value), 2) AS avg, "
                              "MIN(m.value) AS min, MAX(m.value) AS max FROM metric_sample m JOIN ci c ON c.id = m.ci_id "
                              "WHERE (c.id = :ci_id OR c.name = :ci_name) AND (:metric = '' OR m.metric = :metric) "
                              "AND m.ts >= :since GROUP BY c.id, c.name, m.metric ORDER BY m.metric",
                       "params": ["ci_id", "ci_name", "metric", "since"], "row_limit": 20},
    "event_history": {"sql": "SELECT e.id AS event_id, c.id, c.name, e.ts, e.severity, e.kind, e.message FROM event e "
                             "JOIN ci c ON c.id = e.ci_id WHERE (c.id = :ci_id OR c.name = :ci_name) AND e.ts >= :since "
                             "ORDER BY e.ts DESC", "params": ["ci_id", "ci_name", "since"], "row_limit": 50},
}

REFERENCE_ASSETS: dict[tuple[str, str], dict[str, Any]] = {
    ("prompt", "route_rules"): {"template": "Classify the ops question and plan the lookup: {question}",
                                "rules": ROUTE_RULES, "description": "Keyword routing for the reference pipeline"},
    ("resolver", "ci_aliases"): {"aliases": {"checkout": "app-001", "checkout service": "app-001",
                                             "billing": "app-002", "orders db": "db-001", "orders database": "db-001",
                                             "edge lb": "lb-001", "events queue": "mq-001", "web01": "srv-001"}},
    ("policy", "budget"): {"allowed_tools": ["sql"], "max_steps": 3, "max_rows": 200, "max_time_range_days": 30,
                           "budget_ms": 500},
    ("source", "inventory"): {"connection": "inventory"},
    ("schema", "inventory_schema"): {"tables": {"ci": ["id", "name", "ci_type", "environment", "owner_team",
                                                       "location", "status", "created_at"],
                                                "ci_relation": ["id", "source_id", "target_id", "relation_type"],
                                                "metric_sample": ["id", "ci_id", "metric", "ts", "value"],
                                                "event": ["id", "ci_id", "ts", "severity", "kind", "message"]}},
    ("mapping", "answer_blocks"): {"blocks": [
        {"intent": "*", "block_type": "text", "title": "Summary"},
        {"intent": "lookup", "block_type": "table", "title": "Configuration item"},
        {"intent": "list", "block_type": "table", "title": "Configuration items"},
        {"intent": "aggregate", "block_type": "table", "title": "Counts"},
        {"intent": "event_history", "block_type": "table", "title": "Events",
         "columns": ["ts", "severity", "kind", "message"]},
        {"intent": "metric_summary", "block_type": "metric_summary", "title": "Metrics"},
        {"intent": "dependency_path", "block_type": "graph_edges", "title": "Dependencies"},
    ]},
    ("screen", "answer_card"): {"block_order": ["text", "metric_summary", "table", "graph_edges"], "max_blocks": 4,
                                "max_rows_per_block": 25, "answer_template": "{summary}"},
    **{("query", name): spec for name, spec in QUERIES.items()},
}

DESCRIPTIONS = {
    "route_rules": "Routing rules: which intent and query a question maps to",
    "ci_aliases": "Human aliases of configuration items",
    "budget": "Plan limits: tools, steps, rows, time range, latency budget",
    "inventory": "The bundled sample ops inventory (SQLite, read-only)",
    "inventory_schema": "Tables and columns queries may read",
    "answer_blocks": "Which blocks each intent's answer is made of",
    "answer_card": "Order and size of the blocks in the final answer",
}


def _v2_specs() -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    """Version 2s whose behaviour really differs, for the demo and regression examples."""
    events = copy.deepcopy(QUERIES["event_history"])
    events["sql"] = events["sql"].replace("AND e.ts >= :since", "AND e.ts >= :since AND e.severity != 'info'")
    rules = copy.deepcopy(ROUTE_RULES)
    metric_rule = next(rule for rule in rules if rule["intent"] == "metric_summary")
    metric_rule["keywords"] += ["slow", "performance", "health"]
    screen = copy.deepcopy(REFERENCE_ASSETS[("screen", "answer_card")])
    screen.update(max_blocks=2, max_rows_per_block=10)
    return {
        ("query", "event_history"): (events, "Hide info-level events"),
        ("prompt", "route_rules"): ({**REFERENCE_ASSETS[("prompt", "route_rules")], "rules": rules},
                                    "Route performance and health questions to metrics"),
        ("screen", "answer_card"): (screen, "Compact answer card"),
    }


@transaction.atomic
def reference_assets_install(*, tenant_id: str = SHARED_TENANT) -> int:
    """Create and publish version 1 of each reference asset that is missing; returns how many were created."""
    created = 0
    for (asset_type, name), spec in REFERENCE_ASSETS.items():
        if Asset.objects.filter(tenant_id=tenant_id, asset_type=asset_type, name=name).exists():
            continue
        asset = asset_create(tenant_id=tenant_id, asset_type=asset_type, name=name, spec=spec,
                             description=DESCRIPTIONS.get(name, f"Query {name}"), note="Reference pipeline v1")
        asset_version_publish(version=asset.versions.get(version=1))
        created += 1
    return created


@transaction.atomic
def reference_v2_install(*, tenant_id: str = SHARED_TENANT, publish: bool = True) -> list[str]:
    """Add the version 2s (published unless ``publish`` is false); idempotent."""
    refs = []
    for (asset_type, name), (spec, note) in _v2_specs().items():
        asset = Asset.objects.get(tenant_id=tenant_id, asset_type=asset_type, name=name)
        version = asset.versions.filter(version=2).first() or asset_version_create(asset=asset, spec=spec, note=note)
        if publish and version.status == "draft":
            asset_version_publish(version=version)
        refs.append(f"{asset_type}:{name}@2")
    return refs
