"""Question → plan routing of the reference pipeline (pure)."""

import pytest

from reference.assets import REFERENCE_ASSETS
from reference.routing import extract_days, extract_entity, plan_question

PROMPT = REFERENCE_ASSETS[("prompt", "route_rules")]
RESOLVER = REFERENCE_ASSETS[("resolver", "ci_aliases")]


@pytest.mark.parametrize(
    ("question", "kind", "intent"),
    [
        ("What is checkout-api?", "plan", "lookup"),
        ("List all servers in prod", "plan", "list"),
        ("How many databases in prod?", "plan", "aggregate"),
        ("What does checkout depend on?", "plan", "dependency_path"),
        ("CPU of checkout-api last 24h", "plan", "metric_summary"),
        ("Incidents on pg-orders-prod this week", "plan", "event_history"),
        ("hello", "direct", "greeting"),
        ("Delete all servers", "reject", "refuse_write"),
        ("banana bread", "direct", "unknown"),
    ],
)
def test_intents_and_kinds(question, kind, intent):
    result, _ = plan_question(question, PROMPT, RESOLVER)
    assert (result["kind"], result["intent"]) == (kind, intent)


def test_plan_carries_parameters():
    result, warnings = plan_question("Latency of checkout last 3 days, top 5", PROMPT, RESOLVER)
    params = result["plan"]["params"]
    assert params["ci_id"] == "app-001" and params["metric"] == "latency_ms"
    assert params["days"] == 3 and params["since"] == "2026-01-12T00:00:00Z" and params["limit"] == 5
    assert result["plan"]["steps"] == [{"tool": "sql", "query": "metric_summary"}]
    assert warnings == []


def test_missing_entity_is_a_warning():
    result, warnings = plan_question("What is it?", PROMPT, RESOLVER)
    assert result["kind"] == "plan" and warnings == ["no configuration item recognised in the question"]


def test_keywords_match_whole_words_only():
    # "hi" must not match inside "which"
    result, _ = plan_question("which queues exist", PROMPT, RESOLVER)
    assert result["intent"] == "list"


@pytest.mark.parametrize(
    ("text", "days"),
    [("last 24h", 1), ("past 3 days", 3), ("last 2 weeks", 14), ("this week", 7), ("today", 1), ("ever", 9)],
)
def test_time_windows(text, days):
    assert extract_days(text, default=9) == days


def test_aliases_win_over_hostnames_and_longest_alias_first():
    assert extract_entity("orders database and web-prod-01", {"orders": "x", "orders database": "db-001"})["ci_id"] == "db-001"
    assert extract_entity("web-prod-01 cpu", {})["ci_name"] == "web-prod-01"
