"""Pipeline stage contracts (SPEC §2) as pydantic v2 models.

No field is ever null: lists default to ``[]``, objects to ``{}``, strings to
``""``; an incoming ``null`` for a field with a default becomes that default.
Convert at the edges only: HTTP in → ``model_validate``, out → ``model_dump``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from inspector.params import is_natural
from kernel.contracts import Contract
from kernel.tenancy import SHARED_TENANT

# Structural limits of one trace (docs/limits.md): far above what a real run
# produces, low enough that one request cannot make the server walk millions
# of rows. Request-wide limits (bytes, depth, string and list sizes) live in
# inspector/parsers.py.
MAX_STAGE_RUNS = 50  # five stages, up to ten attempts each
MAX_REFERENCES = 1000  # per stage output
# The largest value of the integer columns ingest fills (PositiveIntegerField:
# PostgreSQL ``integer``). Above it PostgreSQL's binary COPY would wrap the
# value or fail, so every such integer is bounded here and answers 400.
INT_COLUMN_MAX = 2**31 - 1
ASSET_NAME_MAX = 200  # Asset.name and TraceAssetUsage.asset_name


def _to_utc(value: datetime) -> datetime:
    # Stored and compared in UTC; an offset PostgreSQL cannot hold (beyond
    # ±15:59) or an instant outside the calendar becomes a 400, not a 500.
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError as exc:
        raise ValueError("date out of range") from exc


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("question must not be blank")
    return value


# A question a run or a trace is about: required, never only white space.
QUESTION_MAX = 10_000
Question = Annotated[str, Field(min_length=1, max_length=QUESTION_MAX), AfterValidator(_not_blank)]
# A conversation's id (Trace.session_id): a trace's, an answer's (AskRequest).
SessionId = Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9._:\-]*$")]


class StageName(StrEnum):
    ROUTE_PLAN = "route_plan"
    VALIDATE = "validate"
    EXECUTE = "execute"
    COMPOSE = "compose"
    PRESENT = "present"


STAGE_ORDER: tuple[str, ...] = tuple(s.value for s in StageName)
STAGE_INDEX: dict[str, int] = {name: i for i, name in enumerate(STAGE_ORDER)}

# Keys every stage result carries; a missing or null key is filled with the
# empty value of its type so consumers never branch on absence.
REQUIRED_RESULT_KEYS: dict[str, dict[str, Any]] = {
    "route_plan": {"kind": "", "plan": dict, "direct_answer": ""},
    "validate": {"validation_passed": False, "violations": list},
    "execute": {"tool_results": list, "references": list},
    "compose": {"blocks": list, "references": list},
    "present": {
        "ui_model": dict,
        "final_blocks": list,
        "final_references": list,
        "final_attributions": list,
    },
}

# The asset types, written once: the Literal types the asset contracts, the tuple is read off it.
AssetTypeName = Literal["prompt", "policy", "mapping", "query", "source", "schema", "resolver", "screen",
                        "price_table"]
ASSET_TYPES: tuple[str, ...] = get_args(AssetTypeName)


def _null_to_empty(value: Any, empty: Any) -> Any:
    return empty if value is None else value


class Reference(Contract):
    """External evidence a stage used (a row, a document, an API response, a graph node)."""

    type: Literal["db_row", "document", "api_response", "graph_node"]
    source: str = ""
    entity_id: str = ""
    entity_name: str = ""
    snippet: str = ""
    url: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("entity_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # Row ids are often integers; the contract keeps them as text.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Attribution(Contract):
    """Internal evidence: which policy, rule or fallback produced something."""

    type: Literal["policy", "rule", "system", "cached", "fallback"]
    source_id: str = ""
    description: str = ""
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


class StageDiagnostics(Contract):
    status: Literal["ok", "warning", "error"] = "ok"
    warnings: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    empty_flags: dict[str, bool] = Field(default_factory=lambda: {"result_empty": False})
    counts: dict[str, int] = Field(default_factory=dict)

    @field_validator("empty_flags", mode="after")
    @classmethod
    def _always_has_result_empty(cls, value: dict[str, bool]) -> dict[str, bool]:
        value.setdefault("result_empty", False)
        return value

    @field_validator("counts", mode="after")
    @classmethod
    def _counts_in_column_range(cls, value: dict[str, int]) -> dict[str, int]:
        # counts["rows"] fills an integer column (the bill of materials' rows_count).
        bad = [key for key, count in value.items() if count < 0]
        if bad:
            raise ValueError(f"counts must be >= 0 (negative: {', '.join(sorted(bad))})")
        bad = [key for key, count in value.items() if count > INT_COLUMN_MAX]
        if bad:
            raise ValueError(f"counts must be <= {INT_COLUMN_MAX} (too large: {', '.join(sorted(bad))})")
        return value


class StageInput(Contract):
    stage: StageName
    applied_assets: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    prev_output: dict[str, Any] = Field(default_factory=dict)
    trace_id: str = ""

    @field_validator("applied_assets", mode="after")
    @classmethod
    def _known_asset_refs(cls, value: dict[str, str]) -> dict[str, str]:
        for asset_type, ref in value.items():
            if asset_type not in ASSET_TYPES:
                raise ValueError(f"unknown asset type {asset_type!r}; expected one of {', '.join(ASSET_TYPES)}")
            parse_asset_ref(ref)
        return value


class UsageIn(Contract):
    """``result.usage`` of a stage output: what its model call used (inspector/usage.py, docs/cost.md).

    Other keys a provider adds (cached tokens, …) are kept as sent. OpenAI's
    ``prompt_tokens`` / ``completion_tokens`` are read as input and output tokens.
    """

    model_config = ConfigDict(extra="allow")

    model: str = Field(default="", max_length=200)
    input_tokens: int = Field(default=0, ge=0, le=INT_COLUMN_MAX)
    output_tokens: int = Field(default=0, ge=0, le=INT_COLUMN_MAX)
    prompt_tokens: int = Field(default=0, ge=0, le=INT_COLUMN_MAX)
    completion_tokens: int = Field(default=0, ge=0, le=INT_COLUMN_MAX)
    cost: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False,
                               description="What the call cost; computed from the price table when absent.")


class StageOutput(Contract):
    stage: StageName
    result: dict[str, Any] = Field(default_factory=dict)
    diagnostics: StageDiagnostics = Field(default_factory=StageDiagnostics)
    references: list[Reference] = Field(default_factory=list, max_length=MAX_REFERENCES)
    duration_ms: int = Field(default=0, ge=0, le=INT_COLUMN_MAX)

    @field_validator("result", mode="after")
    @classmethod
    def _usage_is_typed(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Checked, never rewritten: the stored output is what the stage gave out.
        if "usage" in value:
            try:
                UsageIn.model_validate(value["usage"])
            except ValidationError as exc:
                problems = "; ".join(f"usage.{'.'.join(map(str, e['loc'])) or 'usage'}: {e['msg']}"
                                     for e in exc.errors())
                raise ValueError(problems.replace("usage.usage", "usage")) from None
        return value

    @model_validator(mode="after")
    def _fill_required_result_keys(self) -> StageOutput:
        for key, empty in REQUIRED_RESULT_KEYS[str(self.stage)].items():
            if self.result.get(key) is None:
                self.result[key] = empty() if callable(empty) else empty
        return self


class ExecutionContext(Contract):
    tenant_id: str = SHARED_TENANT
    question: str = ""
    trace_id: str = ""
    user_id: str = ""
    test_mode: bool = False
    asset_overrides: dict[str, str] = Field(default_factory=dict)
    baseline_trace_id: str = ""
    rerun_context: dict[str, Any] = Field(default_factory=dict)


class AssetRef(BaseModel):
    """A parsed ``name@version`` reference (version is a positive integer)."""

    name: str
    version: int


def parse_asset_ref(ref: str) -> AssetRef:
    """Parse ``name@version``; raise ``ValueError`` with a readable message otherwise."""
    if not isinstance(ref, str) or ref.count("@") != 1:
        raise ValueError(f"asset reference {ref!r} must look like 'name@version'")
    name, _, version = ref.partition("@")
    version = version.lstrip("v")
    if not name or not is_natural(version, minimum=1):
        raise ValueError(f"asset reference {ref!r} must look like 'name@version' with a version >= 1")
    if int(version) > INT_COLUMN_MAX:
        raise ValueError(f"asset reference {ref!r} has a version above {INT_COLUMN_MAX}")
    if len(name) > ASSET_NAME_MAX:
        raise ValueError(f"asset reference names must be at most {ASSET_NAME_MAX} characters")
    return AssetRef(name=name, version=int(version))


class AppliedAsset(Contract):
    """One line of a trace's asset bill of materials."""

    name: str = Field(min_length=1, max_length=ASSET_NAME_MAX)
    version: int = Field(ge=1, le=INT_COLUMN_MAX)
    status: Literal["draft", "published", "archived", ""] = ""


class StageRunIn(Contract):
    """One stage execution (one attempt) as sent to the ingest endpoint."""

    stage: StageName
    attempt: int = Field(default=1, ge=1, le=100)
    started_at: UtcDatetime | None = None
    input: StageInput
    output: StageOutput

    @model_validator(mode="after")
    def _stages_agree(self) -> StageRunIn:
        if self.input.stage != self.stage or self.output.stage != self.stage:
            raise ValueError(
                f"stage {self.stage!r} does not match input.stage {self.input.stage!r} "
                f"or output.stage {self.output.stage!r}"
            )
        return self


class TraceIn(Contract):
    """A whole trace as sent to ``POST /inspector/traces``."""

    trace_id: str = Field(default="", max_length=128, pattern=r"^[A-Za-z0-9._:\-]*$")
    parent_trace_id: str = Field(default="", max_length=128)
    session_id: SessionId = Field(default="", description="The conversation this trace belongs to; its traces are "
                                                           "listed in order.")
    tenant_id: str = Field(default=SHARED_TENANT, min_length=1, max_length=64)
    question: Question
    route: Literal["plan", "direct", "reject", ""] = ""
    status: Literal["success", "warning", "error", ""] = ""
    started_at: UtcDatetime | None = None
    duration_ms: int | None = Field(default=None, ge=0, le=INT_COLUMN_MAX)
    test_mode: bool = False
    applied_assets: dict[str, AppliedAsset] = Field(default_factory=dict)
    stages: list[StageRunIn] = Field(default_factory=list, max_length=MAX_STAGE_RUNS)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("applied_assets", mode="before")
    @classmethod
    def _accept_short_refs(cls, value: Any) -> Any:
        # Clients may send the compact form {"prompt": "route_rules@2"}.
        if isinstance(value, dict):
            expanded = {}
            for asset_type, item in value.items():
                if isinstance(item, str):
                    ref = parse_asset_ref(item)
                    item = {"name": ref.name, "version": ref.version}
                expanded[asset_type] = item
            return expanded
        return value

    @field_validator("applied_assets", mode="after")
    @classmethod
    def _known_types(cls, value: dict[str, AppliedAsset]) -> dict[str, AppliedAsset]:
        unknown = sorted(set(value) - set(ASSET_TYPES))
        if unknown:
            raise ValueError(f"unknown asset type(s): {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _unique_stage_attempts(self) -> TraceIn:
        seen: set[tuple[str, int]] = set()
        for run in self.stages:
            key = (str(run.stage), run.attempt)
            if key in seen:
                raise ValueError(f"stage {key[0]!r} attempt {key[1]} appears twice")
            seen.add(key)
        return self

    @model_validator(mode="after")
    def _summed_duration_fits(self) -> TraceIn:
        # Without a duration of its own, the trace stores the sum of its stages' durations.
        if self.duration_ms is None and sum(run.output.duration_ms for run in self.stages) > INT_COLUMN_MAX:
            # A ValidationError (not a ValueError) so that the error names duration_ms, not the whole trace.
            error = PydanticCustomError(
                "less_than_equal", "the stages' durations add up to more than {le} ms; send the trace's duration_ms",
                {"le": INT_COLUMN_MAX},
            )
            raise ValidationError.from_exception_data(
                type(self).__name__, [InitErrorDetails(type=error, loc=("duration_ms",), input=None)]
            )
        return self


class TraceBatchIn(RootModel[list[TraceIn]]):
    """A batch of traces as sent to ``POST /inspector/traces``: a JSON array of ``TraceIn``.

    Its length limit is a setting (``OPS_INGEST_BATCH_MAX``), checked by the
    service before the items are validated.
    """


class AskRequest(Contract):
    """Body of ``POST /ops/ask``."""

    question: Question
    tenant_id: str = Field(default=SHARED_TENANT, min_length=1, max_length=64)
    test_mode: bool = False
    asset_overrides: dict[str, str] = Field(default_factory=dict, max_length=len(ASSET_TYPES))
    baseline_trace_id: str = Field(default="", max_length=128)
    reply_to: str = Field(default="", max_length=128,
                          description="The trace whose ask_user card this question answers (its action card's "
                                      "reply_to); the question is then the answer. The new trace joins that "
                                      "trace's session.")
    session_id: SessionId = Field(default="", description="The conversation the new trace belongs to; with "
                                                           "reply_to it must be that trace's session.")


class StageTestRequest(Contract):
    """Body of ``POST /ops/stage-test``: a stage and exactly one of trace_id or question."""

    stage: StageName
    trace_id: str = Field(default="", max_length=128)
    question: str = Field(default="", max_length=10_000)
    tenant_id: str = Field(default=SHARED_TENANT, min_length=1, max_length=64)
    asset_overrides: dict[str, str] = Field(default_factory=dict, max_length=len(ASSET_TYPES))

    @model_validator(mode="after")
    def _one_source(self) -> StageTestRequest:
        if bool(self.trace_id) == bool(self.question.strip()):
            raise ValueError("give exactly one of trace_id or question")
        return self
