"""Per-type validation of asset specs (SPEC §3).

Each asset type has a pydantic model; ``validate_spec`` returns the normalised
spec (defaults filled in) or raises ``pydantic.ValidationError``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from kernel.connections import CONNECTION_NAME, DEFAULT_CONNECTION
from kernel.contracts import Contract

_CONNECTION_DETAIL_KEYS = {
    "url", "uri", "dsn", "host", "hostname", "port", "path", "file", "filename", "database", "dbname", "engine",
    "user", "username", "password", "passwd", "secret", "token", "api_key", "apikey", "access_key", "options",
}
_ENV_REFERENCE = re.compile(r"^\s*env://", re.IGNORECASE)


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
    """A named connection the operator declared (``OPS_SOURCES``), never connection details.

    Hosts, ports, files, URLs and credentials are operator configuration: a
    spec that carries one is refused naming the field (docs/security.md).
    """

    connection: str = Field(default=DEFAULT_CONNECTION, pattern=CONNECTION_NAME.pattern,
                            description="Name of a connection declared in OPS_SOURCES.")
    description: str = Field(default="", max_length=2000)


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


class ModelPrice(Contract):
    """What a model's tokens cost, per million, in the table's currency."""

    input_per_million: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)
    output_per_million: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)


class PriceTableSpec(Contract):
    """Prices of model tokens; a stage usage without a cost is priced from it (docs/cost.md).

    Keys are model names, or patterns with ``*`` (``gpt-4o*``): a model's own
    entry wins, else the longest matching pattern.
    """

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    models: dict[Annotated[str, Field(min_length=1, max_length=200)], ModelPrice] = Field(min_length=1,
                                                                                          max_length=1000)


SPEC_MODELS: dict[str, type[Contract]] = {
    "prompt": PromptSpec,
    "policy": PolicySpec,
    "mapping": MappingSpec,
    "query": QuerySpec,
    "source": SourceSpec,
    "schema": SchemaSpec,
    "resolver": ResolverSpec,
    "screen": ScreenSpec,
    "price_table": PriceTableSpec,
}


def validate_spec(asset_type: str, spec: Any) -> dict[str, Any]:
    """Validate ``spec`` for ``asset_type`` and return it normalised.

    Raises ``KeyError`` for an unknown type and ``pydantic.ValidationError``
    for an invalid spec.
    """
    model = SPEC_MODELS[asset_type]
    _refuse_environment_references(spec, "spec")
    if asset_type == "source" and isinstance(spec, dict):
        for key in spec:
            if str(key).lower() in _CONNECTION_DETAIL_KEYS:
                raise _spec_error(f"spec.{key}", "connection details are operator configuration (OPS_SOURCES); "
                                                 "name a declared connection with 'connection'")
    return model.model_validate(spec).model_dump(mode="json")


def spec_json_schema(asset_type: str) -> dict[str, Any]:
    """The JSON schema a spec of ``asset_type`` must follow (pydantic's, of the model ``validate_spec`` uses).

    Raises ``KeyError`` for an unknown type. Shown beside the admin's spec editor.
    """
    return SPEC_MODELS[asset_type].model_json_schema()


def _refuse_environment_references(value: Any, where: str) -> None:
    """Nothing resolves ``env://`` any more; a spec naming one is refused rather than stored."""
    if isinstance(value, str) and _ENV_REFERENCE.match(value):
        raise _spec_error(where, "environment references (env://) are not allowed in asset specs")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_environment_references(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_environment_references(item, f"{where}[{index}]")


def _spec_error(where: str, message: str) -> ValidationError:
    return ValidationError.from_exception_data(
        "spec", [{"type": "value_error", "loc": tuple(where.split(".")[1:]) or ("spec",), "input": where,
                  "ctx": {"error": ValueError(f"{where}: {message}")}}],
    )
