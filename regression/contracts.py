"""Request bodies of the ``/inspector/regression`` API, as pydantic contracts.

The one input mechanism of the API (as for ingest, ask and stage-test): a
view validates its body with ``Model.model_validate``; a pydantic error is a
400 ``{"dotted.path": ["message"]}`` (``inspector/api_errors.py``). Scoring
options are validated by the one ``ScoringOptions`` type of the engine.
Strings are trimmed, as the DRF serializers these replace did. The engine's
own contracts are in ``regression/engine/contracts.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from inspector.contracts import Question, StageName
from kernel.contracts import Contract
from kernel.tenancy import SHARED_TENANT
from regression.engine import ScoringOptions

MAX_GROUP = 200  # trace ids a side of a group analysis

TraceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                        pattern=r"^[-a-zA-Z0-9_]+$")]
TenantId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RequestContract(Contract):
    """A request body: strings are trimmed (as DRF's CharField did)."""

    model_config = ConfigDict(str_strip_whitespace=True)


class AnalyzeRequest(RequestContract):
    """Body of ``POST /inspector/regression/analyze``: one pair of trace ids, or two groups."""

    baseline_trace_id: str = Field(default="", max_length=128)
    candidate_trace_id: str = Field(default="", max_length=128)
    baseline_trace_ids: list[TraceId] = Field(default_factory=list, max_length=MAX_GROUP)
    candidate_trace_ids: list[TraceId] = Field(default_factory=list, max_length=MAX_GROUP)
    options: ScoringOptions = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_form(self) -> AnalyzeRequest:
        given = self.model_fields_set
        single = bool(given & {"baseline_trace_id", "candidate_trace_id"})
        group = bool(given & {"baseline_trace_ids", "candidate_trace_ids"})
        if single == group:
            raise ValueError(
                "give either baseline_trace_id + candidate_trace_id or baseline_trace_ids + candidate_trace_ids")
        if single and not (self.baseline_trace_id and self.candidate_trace_id):
            raise ValueError("baseline_trace_id and candidate_trace_id are both required")
        if group and not (self.baseline_trace_ids and self.candidate_trace_ids):
            raise ValueError("baseline_trace_ids and candidate_trace_ids are both required")
        return self

    @property
    def baseline(self) -> list[str]:
        return self.baseline_trace_ids or [self.baseline_trace_id]

    @property
    def candidate(self) -> list[str]:
        return self.candidate_trace_ids or [self.candidate_trace_id]


class StageCompareRequest(RequestContract):
    """Body of ``POST /inspector/regression/stage-compare``: a stage and two trace ids, or two StageOutput bodies."""

    stage: StageName
    baseline_trace_id: str = Field(default="", max_length=128)
    candidate_trace_id: str = Field(default="", max_length=128)
    baseline: dict[str, Any] = Field(default_factory=dict, description="A StageOutput")
    candidate: dict[str, Any] = Field(default_factory=dict, description="A StageOutput")
    options: ScoringOptions = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ids_or_bodies(self) -> StageCompareRequest:
        if self.by_ids == self.by_bodies:
            raise ValueError("give baseline_trace_id + candidate_trace_id, or baseline + candidate StageOutput bodies")
        return self

    @property
    def by_ids(self) -> bool:
        return bool(self.baseline_trace_id and self.candidate_trace_id)

    @property
    def by_bodies(self) -> bool:
        return {"baseline", "candidate"} <= self.model_fields_set


class GoldenQueryIn(RequestContract):
    """Body of ``POST`` and ``PUT /inspector/regression/golden-queries[/{id}]``.

    On ``PUT`` an absent ``tenant_id`` or ``enabled`` keeps the stored value and
    absent ``options`` become ``{}``.
    """

    name: Slug = Field(description="Letters, digits, '-' and '_'; unique within the tenant.")
    question: Question
    tenant_id: TenantId = SHARED_TENANT
    options: ScoringOptions = Field(default_factory=dict)
    enabled: bool = True


def _no_default_in_schema(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class GoldenQueryPatch(RequestContract):
    """Body of ``PATCH /inspector/regression/golden-queries/{id}``: the fields to change, validated as on create."""

    # The defaults only stand for "absent": never validated, never applied (only the fields sent are).
    model_config = ConfigDict(validate_default=False)

    name: Slug = Field(default="", json_schema_extra=_no_default_in_schema)
    question: Question = Field(default="", json_schema_extra=_no_default_in_schema)
    tenant_id: TenantId = Field(default="", json_schema_extra=_no_default_in_schema)
    options: ScoringOptions = Field(default_factory=dict, json_schema_extra=_no_default_in_schema)
    enabled: bool = Field(default=True, json_schema_extra=_no_default_in_schema)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class SetBaselineRequest(RequestContract):
    """Body of ``POST …/golden-queries/{id}/baseline``."""

    trace_id: TraceId
    note: str = Field(default="", max_length=2000)


class RunRequest(RequestContract):
    """Body of ``POST …/golden-queries/{id}/run``: asset overrides (type → ``name@version``) for the re-run."""

    overrides: dict[str, NonBlank] = Field(default_factory=dict)
