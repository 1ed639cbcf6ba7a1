"""Tokens and cost of a stage run: read from its output's ``result.usage``, priced when it gave no cost.

Pure: no ORM. A stage reports what its model call used as
``result.usage = {"model", "input_tokens", "output_tokens", "cost"}`` (the
contract checks the types, ``inspector.contracts.StageOutput``). A usage
without ``cost`` is priced from a price table (a ``price_table`` asset, so
every price change is a version: ``inspector.asset_specs.PriceTableSpec``);
a model the table does not list stays unpriced, and says so, rather than
costing 0. docs/cost.md has the rules.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

USAGE_KEY = "usage"
# OpenAI-style names some pipelines send; read as their OpenTelemetry GenAI equivalents.
TOKEN_ALIASES = {"input_tokens": ("input_tokens", "prompt_tokens"),
                 "output_tokens": ("output_tokens", "completion_tokens")}
COST_DIGITS = 8  # a millionth of a cent: below any price a table can state per token


class CostSource:
    GIVEN = "given"  # the stage reported its cost
    PRICE_TABLE = "price_table"  # computed from the price table
    NONE = ""  # no usage, or tokens the table has no price for


@dataclass(frozen=True)
class StageUsage:
    """What one stage run used; ``cost`` None when the stage did not say."""

    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class PricedUsage:
    """A stage run's usage with its cost and where the cost came from (``CostSource``)."""

    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cost_source: str = CostSource.NONE

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def unpriced(self) -> bool:
        """Tokens were used but nothing says what they cost."""
        return self.tokens > 0 and self.cost_source == CostSource.NONE


NO_USAGE = PricedUsage()


def usage_of(result: dict[str, Any]) -> StageUsage | None:
    """The usage a stage result reports, or None. The contract has checked its types."""
    usage = result.get(USAGE_KEY)
    if not isinstance(usage, dict):
        return None
    tokens = {name: next((int(usage[key]) for key in keys if usage.get(key) is not None), 0)
              for name, keys in TOKEN_ALIASES.items()}
    cost = usage.get("cost")
    return StageUsage(model=str(usage.get("model") or ""), cost=None if cost is None else float(cost), **tokens)


def model_price(models: dict[str, dict[str, float]], model: str) -> dict[str, float] | None:
    """The price of ``model``: its own entry, else the longest ``*`` pattern that matches it."""
    if not model:
        return None
    if model in models:
        return models[model]
    patterns = [key for key in models if "*" in key and fnmatch.fnmatchcase(model, key)]
    return models[max(patterns, key=len)] if patterns else None


def priced(usage: StageUsage | None, table: dict[str, Any] | None) -> PricedUsage:
    """``usage`` with its cost: as given, else from the table (``PriceTableSpec`` as a dict), else unpriced."""
    if usage is None:
        return NO_USAGE
    base = {"model": usage.model, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
    if usage.cost is not None:
        return PricedUsage(**base, cost=round(usage.cost, COST_DIGITS), cost_source=CostSource.GIVEN)
    price = model_price((table or {}).get("models", {}), usage.model)
    if price is None or not usage.tokens:
        return PricedUsage(**base)
    cost = (usage.input_tokens * price["input_per_million"] + usage.output_tokens * price["output_per_million"]) / 1e6
    return PricedUsage(**base, cost=round(cost, COST_DIGITS), cost_source=CostSource.PRICE_TABLE)


def needs_price_table(results: list[dict[str, Any]]) -> bool:
    """True when a stage reported tokens without a cost: only then is a price table read."""
    for result in results:
        usage = usage_of(result)
        if usage is not None and usage.cost is None and usage.tokens:
            return True
    return False


def cost_text(cost: float, *, unpriced: int = 0) -> str:
    """A cost as people read it: ``0.0123``, ``1.25``, ``≥ 0.004 (1 run unpriced)``; ``—`` for none known."""
    if not cost and not unpriced:
        return "—"
    shown = f"{cost:,.2f}" if cost >= 1 else (f"{cost:.6f}".rstrip("0").rstrip(".") or "0")
    if unpriced:
        return f"≥ {shown} ({unpriced} run{'s' if unpriced != 1 else ''} unpriced)"
    return shown


def tokens_text(input_tokens: int, output_tokens: int) -> str:
    """``1,234 in · 567 out``; ``—`` when no tokens were reported."""
    if not input_tokens and not output_tokens:
        return "—"
    return f"{input_tokens:,} in · {output_tokens:,} out"
