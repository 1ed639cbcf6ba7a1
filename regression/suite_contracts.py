"""Request bodies of the golden-suite API (``/inspector/regression/suites…``), as pydantic contracts.

Same rules as ``regression/contracts.py``: strings trimmed, unknown keys
refused, a pydantic error is a 400 ``{"dotted.path": ["message"]}``. Scoring
options are the engine's one ``ScoringOptions`` type; assertions are
``regression.assertions.Assertions`` (each op's own contract). What needs the
database (a stage item's stored trace, a unique name, a cron line) is checked
by the services.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from inspector.contracts import STAGE_ORDER
from kernel.tenancy import SHARED_TENANT
from regression.assertions import Assertions
from regression.contracts import NonBlank, RequestContract, Slug, TenantId
from regression.engine import ScoringOptions
from regression.suite_models import MAX_REPEATS

Repeats = Field(default=5, ge=1, le=MAX_REPEATS,
                description=f"How many times each item runs per suite run (1–{MAX_REPEATS}); pass^k is over these k.")


class SuiteItemKind(StrEnum):
    """What an item runs (a named enum: an inline one would clash in the schema with other fields named kind)."""

    QUESTION = "question"
    STAGE = "stage"


def _known_stage(stage: str) -> str:
    if stage and stage not in STAGE_ORDER:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGE_ORDER)}")
    return stage


# A plain string checked against the stages: an enum with "" would clash in the schema with StageEnum.
ItemStage = Annotated[str, AfterValidator(_known_stage),
                      Field(max_length=32, description=f"kind=stage: the stage re-run ({', '.join(STAGE_ORDER)}).")]


def _no_default_in_schema(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class _Patch(RequestContract):
    """A PATCH body: only the fields sent are validated and applied (the defaults stand for "absent")."""

    model_config = ConfigDict(validate_default=False)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set, by_alias=True)


class SuiteIn(RequestContract):
    """Body of ``POST /inspector/regression/suites``."""

    name: Slug = Field(description="Letters, digits, '-' and '_'; unique within the tenant.")
    tenant_id: TenantId = SHARED_TENANT
    description: str = Field(default="", max_length=5000)
    repeats: int = Repeats
    options: ScoringOptions = Field(default_factory=dict)
    enabled: bool = True
    schedule: str = Field(default="", max_length=100,
                          description='Cron "minute hour day-of-month month day-of-week" (UTC); "" = not scheduled.')


class SuitePatch(_Patch):
    """Body of ``PATCH /inspector/regression/suites/{id}``: the fields to change, validated as on create."""

    name: Slug = Field(default="", json_schema_extra=_no_default_in_schema)
    tenant_id: TenantId = Field(default="", json_schema_extra=_no_default_in_schema)
    description: str = Field(default="", max_length=5000, json_schema_extra=_no_default_in_schema)
    repeats: int = Field(default=5, ge=1, le=MAX_REPEATS, json_schema_extra=_no_default_in_schema)
    options: ScoringOptions = Field(default_factory=dict, json_schema_extra=_no_default_in_schema)
    enabled: bool = Field(default=True, json_schema_extra=_no_default_in_schema)
    schedule: str = Field(default="", max_length=100, json_schema_extra=_no_default_in_schema)


class SuiteItemIn(RequestContract):
    """Body of ``POST …/suites/{id}/items``: a question, or one stage of a stored trace re-run."""

    name: Slug = Field(description="Unique within the suite.")
    kind: SuiteItemKind = SuiteItemKind.QUESTION
    question: str = Field(default="", max_length=10_000, description="kind=question: the question asked.")
    stage: ItemStage = ""
    trace_id: str = Field(default="", max_length=128,
                          description="kind=stage: the stored trace (of the suite's tenant) whose stage is re-run.")
    assertions: Assertions = Field(default_factory=list,
                                   description="Expected-output checks on every candidate (docs/regression.md).")
    position: int = Field(default=0, ge=0, le=1_000_000, description="Items run in ascending position.")

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> SuiteItemIn:
        if self.kind == "question" and not self.question:
            raise ValueError("a question item needs a question")
        if self.kind == "stage" and not (self.stage and self.trace_id):
            raise ValueError("a stage item needs a stage and the trace_id of a stored trace")
        return self


class SuiteItemPatch(_Patch):
    """Body of ``PATCH …/suites/{id}/items/{item_id}``; the item as changed is checked again as a whole."""

    name: Slug = Field(default="", json_schema_extra=_no_default_in_schema)
    kind: SuiteItemKind = Field(default=SuiteItemKind.QUESTION, json_schema_extra=_no_default_in_schema)
    question: str = Field(default="", max_length=10_000, json_schema_extra=_no_default_in_schema)
    stage: ItemStage = Field(default="", json_schema_extra=_no_default_in_schema)
    trace_id: str = Field(default="", max_length=128, json_schema_extra=_no_default_in_schema)
    assertions: Assertions = Field(default_factory=list, json_schema_extra=_no_default_in_schema)
    position: int = Field(default=0, ge=0, le=1_000_000, json_schema_extra=_no_default_in_schema)


class SuiteRunRequest(RequestContract):
    """Body of ``POST …/suites/{id}/runs``: asset overrides (type → ``name@version``) for the candidates."""

    overrides: dict[str, NonBlank] = Field(default_factory=dict)
