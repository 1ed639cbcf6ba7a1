"""Per-type validation of asset specs (SPEC §3).

Each asset type has a pydantic model; ``validate_spec`` returns the normalised
spec (defaults filled in) or raises ``pydantic.ValidationError``.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from inspector.contracts import Contract

_ENV_REF = re.compile(r"^env://[A-Z_][A-Z0-9_]*$")
_SECRET_KEYS = {"password", "secret", "token", "api_key", "apikey", "access_key"}


class RouteRule(Contract):
    """A routing rule of the prompt asset: keywords that select an intent."""

    intent: str = Field(min_length=1, max_length=64)
    kind: Literal["plan", "direct", "reject"] = "plan"
    keywords: list[str] = Field(default_factory=list, max_length=100)
    answer: str = Field(default="", max_length=2000)
    query: str = Field(default="", max_length=200, description="Query asset name the plan runs.")


class PromptSpec(Contract):
    template: str = Field(min_length=1, max_length=20_000)
    rules: list[RouteRule] = Field(default_factory=list, max_length=200)
    default_intent: str = Field(default="", max_length=64)
    description: str = Field(default="", max_length=2000)


class PolicySpec(Contract):
    allowed_tools: list[str] = Field(default_factory=lambda: ["sql"], max_length=50)
    max_steps: int = Field(default=5, ge=1, le=100)
    max_rows: int = Field(default=500, ge=1, le=100_000)
    max_time_range_days: int = Field(default=30, ge=1, le=3650)
    budget_ms: int = Field(default=1000, ge=1, le=600_000)


class MappingBlock(Contract):
    intent: str = Field(default="*", max_length=64)
    block_type: Literal["table", "metric_summary", "text", "graph_edges"]
    title: str = Field(default="", max_length=200)
    columns: list[str] = Field(default_factory=list, max_length=50)


class MappingSpec(Contract):
    blocks: list[MappingBlock] = Field(min_length=1, max_length=50)


class QuerySpec(Contract):
    sql: str = Field(min_length=1, max_length=20_000)
    params: list[str] = Field(default_factory=list, max_length=20)
    source: str = Field(default="inventory", min_length=1, max_length=200)
    row_limit: int = Field(default=200, ge=1, le=100_000)
    timeout_ms: int = Field(default=2000, ge=1, le=60_000)
    entity_column: str = Field(default="id", max_length=64)
    name_column: str = Field(default="name", max_length=64)


class SourceSpec(Contract):
    """Connection details; secrets only by ``env://VAR`` reference."""

    engine: Literal["sqlite", "postgresql", "bundled"] = "bundled"
    url: str = Field(default="", max_length=2000)
    password: str = Field(default="", max_length=200)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("password")
    @classmethod
    def _password_is_reference(cls, value: str) -> str:
        if value and not _ENV_REF.match(value):
            raise ValueError("password must be a reference like 'env://DB_PASSWORD', never the secret itself")
        return value

    @field_validator("url")
    @classmethod
    def _url_has_no_inline_password(cls, value: str) -> str:
        if value and urlsplit(value).password:
            raise ValueError("url must not contain a password; use the password field with 'env://VAR'")
        return value

    @field_validator("options")
    @classmethod
    def _options_hold_no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if key.lower() in _SECRET_KEYS and not (isinstance(item, str) and _ENV_REF.match(item)):
                raise ValueError(f"option {key!r} looks like a secret: use an 'env://VAR' reference")
        return value


class SchemaSpec(Contract):
    tables: dict[str, list[str]] = Field(default_factory=dict)
    json_schema: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_empty(self) -> SchemaSpec:
        if not self.tables and not self.json_schema:
            raise ValueError("a schema needs 'tables' or 'json_schema'")
        return self


class ResolverSpec(Contract):
    aliases: dict[str, str] = Field(min_length=1)
    case_sensitive: bool = False


class ScreenSpec(Contract):
    block_order: list[str] = Field(
        default_factory=lambda: ["text", "metric_summary", "table", "graph_edges"], max_length=10
    )
    max_blocks: int = Field(default=5, ge=1, le=50)
    max_rows_per_block: int = Field(default=20, ge=1, le=1000)
    answer_template: str = Field(default="{summary}", max_length=2000)


SPEC_MODELS: dict[str, type[Contract]] = {
    "prompt": PromptSpec,
    "policy": PolicySpec,
    "mapping": MappingSpec,
    "query": QuerySpec,
    "source": SourceSpec,
    "schema": SchemaSpec,
    "resolver": ResolverSpec,
    "screen": ScreenSpec,
}


def validate_spec(asset_type: str, spec: Any) -> dict[str, Any]:
    """Validate ``spec`` for ``asset_type`` and return it normalised.

    Raises ``KeyError`` for an unknown type and ``pydantic.ValidationError``
    for an invalid spec.
    """
    model = SPEC_MODELS[asset_type]
    return model.model_validate(spec).model_dump(mode="json")
