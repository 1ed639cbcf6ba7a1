"""Turning a question into a plan with the rules of a ``prompt`` asset (pure, no ORM).

Rules are tried in order; the first whose keyword occurs in the question
(whole words, case-insensitive) decides the intent and the kind. Parameters
— the configuration item, metric, time window, CI type, environment and row
limit — are read from the question with the ``resolver`` asset's aliases.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from reference.inventory import REFERENCE_TIME

ENTITY_INTENTS = {"lookup", "dependency_path", "metric_summary", "event_history"}

_HOSTNAME = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)+\b")
_WINDOW = re.compile(r"\b(?:last|past)\s+(\d{1,4})\s*(h|hours?|d|days?|w|weeks?)\b")
_COMPACT_WINDOW = re.compile(r"\b(\d{1,4})\s*(h|d)\b")
_LIMIT = re.compile(r"\b(?:top|first|limit)\s+(\d{1,6})\b")
_METRICS = {"cpu": "cpu_pct", "memory": "mem_pct", "mem": "mem_pct", "latency": "latency_ms",
            "error rate": "error_rate", "errors": "error_rate"}
_CI_TYPES = {"servers": "server", "server": "server", "hosts": "server", "databases": "database",
             "database": "database", "applications": "application", "apps": "application",
             "services": "application", "load balancers": "load_balancer", "queues": "queue"}
_ENVIRONMENTS = {"prod": "prod", "production": "prod", "staging": "staging", "dev": "dev"}


def _has_word(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase.lower())}(?![\w-])", text) is not None


def match_rule(question: str, rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    text = question.lower()
    for rule in rules:
        if any(_has_word(text, keyword) for keyword in rule.get("keywords", [])):
            return rule
    return None


def extract_entity(question: str, aliases: dict[str, str], case_sensitive: bool = False) -> dict[str, str]:
    """The configuration item named in the question: by alias first, else a hostname-like token."""
    text = question if case_sensitive else question.lower()
    for alias in sorted(aliases, key=len, reverse=True):
        if _has_word(text, alias if case_sensitive else alias.lower()):
            return {"ci_id": aliases[alias], "ci_name": "", "matched": alias}
    match = _HOSTNAME.search(question.lower())
    if match:
        return {"ci_id": "", "ci_name": match.group(0), "matched": match.group(0)}
    return {"ci_id": "", "ci_name": "", "matched": ""}


def extract_days(question: str, default: int) -> int:
    text = question.lower()
    match = _WINDOW.search(text) or _COMPACT_WINDOW.search(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)[0]
        return max(1, {"h": -(-amount // 24), "d": amount, "w": amount * 7}[unit])
    if "this week" in text or "past week" in text:
        return 7
    if "today" in text or "yesterday" in text:
        return 1
    return default


def _first(mapping: dict[str, str], text: str) -> str:
    for phrase in sorted(mapping, key=len, reverse=True):
        if _has_word(text, phrase):
            return mapping[phrase]
    return ""


def since_for(days: int) -> str:
    reference = datetime.fromisoformat(REFERENCE_TIME.replace("Z", "+00:00"))
    return (reference - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_question(question: str, prompt: dict[str, Any], resolver: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return ``(route_plan result, warnings)`` for a question."""
    text = question.lower()
    rule = match_rule(question, prompt.get("rules", []))
    if rule is None and prompt.get("default_intent"):
        rule = next((r for r in prompt["rules"] if r["intent"] == prompt["default_intent"]), None)
    if rule is None:
        return (
            {"kind": "direct", "plan": {}, "intent": "unknown", "matched_rule": "",
             "direct_answer": "I answer questions about servers, databases, applications, their "
                              "dependencies, metrics and events. Try naming a system, e.g. checkout-api."},
            ["no routing rule matched the question"],
        )
    if rule["kind"] != "plan":
        return {"kind": rule["kind"], "plan": {}, "intent": rule["intent"], "matched_rule": rule["intent"],
                "direct_answer": rule.get("answer", "")}, []
    warnings: list[str] = []
    entity = extract_entity(question, resolver.get("aliases", {}), resolver.get("case_sensitive", False))
    if rule["intent"] in ENTITY_INTENTS and not entity["matched"]:
        warnings.append("no configuration item recognised in the question")
    days = extract_days(question, default=7)
    limit_match = _LIMIT.search(text)
    params = {
        "ci_id": entity["ci_id"],
        "ci_name": entity["ci_name"],
        "metric": _first(_METRICS, text),
        "ci_type": _first(_CI_TYPES, text),
        "environment": _first(_ENVIRONMENTS, text),
        "days": days,
        "since": since_for(days),
        "limit": int(limit_match.group(1)) if limit_match else 50,
    }
    plan = {"intent": rule["intent"], "steps": [{"tool": "sql", "query": rule.get("query", "")}], "params": params}
    return {"kind": "plan", "plan": plan, "intent": rule["intent"], "matched_rule": rule["intent"],
            "direct_answer": ""}, warnings
