"""Tokens and cost of a stage run (inspector/usage.py): reading usage, pricing it, showing it."""

from __future__ import annotations

import pytest

from inspector.usage import (
    CostSource,
    StageUsage,
    cost_text,
    model_price,
    needs_price_table,
    priced,
    tokens_text,
    usage_of,
)

TABLE = {"currency": "USD", "models": {
    "gpt-4o": {"input_per_million": 2.5, "output_per_million": 10.0},
    "gpt-4o*": {"input_per_million": 9.0, "output_per_million": 9.0},
    "gpt-*": {"input_per_million": 1.0, "output_per_million": 1.0},
}}


def test_usage_is_read_from_the_result_with_openai_names_too():
    assert usage_of({}) is None
    assert usage_of({"usage": "lots"}) is None
    assert usage_of({"usage": {"model": "m", "input_tokens": 3, "output_tokens": 4}}) == StageUsage("m", 3, 4, None)
    assert usage_of({"usage": {"prompt_tokens": 5, "completion_tokens": 6, "cost": 0.5}}) == StageUsage("", 5, 6, 0.5)


def test_a_models_own_price_wins_then_the_longest_pattern():
    models = TABLE["models"]
    assert model_price(models, "gpt-4o") == models["gpt-4o"]
    assert model_price(models, "gpt-4o-mini") == models["gpt-4o*"]  # longer than gpt-*
    assert model_price(models, "gpt-3.5") == models["gpt-*"]
    assert model_price(models, "claude") is None
    assert model_price(models, "") is None


def test_a_given_cost_is_kept_and_a_missing_one_is_priced():
    given = priced(StageUsage("gpt-4o", 1000, 1000, 0.123), TABLE)
    assert (given.cost, given.cost_source) == (0.123, CostSource.GIVEN)
    computed = priced(StageUsage("gpt-4o", 1_000, 500, None), TABLE)
    # 1,000 × 2.5 / 1M + 500 × 10 / 1M
    assert computed.cost == pytest.approx(0.0075) and computed.cost_source == CostSource.PRICE_TABLE
    assert computed.tokens == 1500 and not computed.unpriced


def test_tokens_nobody_priced_say_so_instead_of_costing_nothing():
    unknown = priced(StageUsage("claude", 10, 10, None), TABLE)
    assert (unknown.cost, unknown.cost_source, unknown.unpriced) == (0.0, CostSource.NONE, True)
    no_table = priced(StageUsage("gpt-4o", 10, 10, None), None)
    assert no_table.unpriced
    assert not priced(None, TABLE).unpriced and priced(None, TABLE).tokens == 0
    assert not priced(StageUsage("gpt-4o", 0, 0, None), TABLE).unpriced  # nothing used, nothing to price


def test_the_price_table_is_read_only_for_tokens_without_cost():
    assert not needs_price_table([{}, {"usage": {"input_tokens": 5, "cost": 0.1}}, {"usage": {"model": "m"}}])
    assert needs_price_table([{}, {"usage": {"input_tokens": 5}}])


@pytest.mark.parametrize(("cost", "unpriced", "shown"), [
    (0.0, 0, "—"), (0.0075, 0, "0.0075"), (0.00000123, 0, "0.000001"), (12.3456, 0, "12.35"),
    (1234.5, 0, "1,234.50"), (0.004, 1, "≥ 0.004 (1 run unpriced)"), (0.0, 2, "≥ 0 (2 runs unpriced)"),
])
def test_costs_read_as_people_write_them(cost, unpriced, shown):
    assert cost_text(cost, unpriced=unpriced) == shown


def test_tokens_read_in_and_out():
    assert tokens_text(0, 0) == "—"
    assert tokens_text(1234, 56) == "1,234 in · 56 out"
