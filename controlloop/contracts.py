"""Control-loop contracts (SPEC §4): triggers, policies, decisions, patch diffs.

Pure pydantic models; no ORM. The decision function and trigger parser work
on these only, so they are testable without a database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

import jsonpatch
from pydantic import Field, model_validator

from kernel.contracts import Contract

# Each enumeration is written once, as a Literal (for the contracts and type
# checkers); the tuples for choices, filters and parsing are read off it.
TriggerType = Literal["error", "tool_error_fatal", "timeout", "empty_result", "policy_violation",
                      "low_evidence", "slot_missing", "present_limit", "manual", "unknown"]
Severity = Literal["low", "medium", "high", "critical"]  # in rising order
DecisionKind = Literal["auto_retry", "ask_user", "stop_with_guidance"]
VetoReason = Literal["trigger_not_allowed", "no_replans_left", "breaker_open", "severity_too_low", "interval", "cooling"]
Veto = Literal["", VetoReason]  # "" when nothing vetoed

TRIGGER_TYPES: tuple[str, ...] = get_args(TriggerType)
SEVERITIES: tuple[str, ...] = get_args(Severity)
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}
DECISIONS: tuple[str, ...] = get_args(DecisionKind)
VETOES: tuple[str, ...] = get_args(VetoReason)

StageScope = Literal["route_plan", "validate", "execute", "compose", "present"]
STAGE_SCOPES: tuple[str, ...] = get_args(StageScope)
BreakerPhase = Literal["closed", "open", "half_open"]  # the breaker's states (controlloop/breaker.py)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReplanTrigger(Contract):
    """Why a replan is requested. ``trigger_raw`` keeps the text it was parsed from."""

    trigger_type: TriggerType = "unknown"
    stage_name: str = Field(default="", max_length=32)
    severity: Severity = "medium"
    reason: str = Field(default="", max_length=2000)
    timestamp: datetime = EPOCH
    metadata: dict[str, Any] = Field(default_factory=dict)
    trigger_raw: str = Field(default="", max_length=2000)


class ReplanPatchDiff(Contract):
    """The plan before and after a replan's patch."""

    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)

    def json_patch(self) -> list[dict[str, Any]]:
        """The same change as RFC 6902 operations."""
        return jsonpatch.make_patch(self.before, self.after).patch


class PatchSpec(Contract):
    """A suggested change to the plan, applied to dotted paths (e.g. ``params.days``).

    ``multiply`` then ``cap`` numbers, ``set`` values, ``remove`` keys.
    """

    multiply: dict[str, float] = Field(default_factory=dict)
    cap: dict[str, float] = Field(default_factory=dict)
    set: dict[str, Any] = Field(default_factory=dict)
    remove: list[str] = Field(default_factory=list)


class TriggerRule(Contract):
    decision: DecisionKind = "stop_with_guidance"
    scope: StageScope = "execute"
    patch: PatchSpec = Field(default_factory=PatchSpec)
    guidance: str = Field(default="", max_length=2000)


class PolicySnapshot(Contract):
    """A policy as the decision function sees it."""

    policy_id: int = 0
    name: str = "default"
    max_replans: int = Field(default=2, ge=0)
    allowed_triggers: list[TriggerType] = Field(default_factory=lambda: list(TRIGGER_TYPES))
    min_severity: Severity = "low"
    min_interval_seconds: float = Field(default=0, ge=0)
    cooling_period_seconds: float = Field(default=0, ge=0)
    rules: dict[str, TriggerRule] = Field(default_factory=dict)
    breaker_window: int = Field(default=10, ge=1, description="How many recent replans of a breaker's scope count.")
    breaker_min_samples: int = Field(default=4, ge=1, description="Fewer recent replans never open the breaker.")
    breaker_failure_ratio: float = Field(default=0.5, gt=0, le=1)
    breaker_cooldown_seconds: float = Field(default=300, ge=0, description="Open breaker half-opens after this.")

    @model_validator(mode="after")
    def _interval_within_cooling(self) -> PolicySnapshot:
        if self.min_interval_seconds > self.cooling_period_seconds:
            raise ValueError("min_interval_seconds must not exceed cooling_period_seconds")
        return self

    def rule_for(self, trigger_type: str) -> TriggerRule:
        return self.rules.get(trigger_type) or TriggerRule()


class PastReplan(Contract):
    """An approved replan of the same trace, for replans-left, interval and cooling."""

    timestamp: datetime
    trigger_type: TriggerType = "unknown"


class BreakerState(Contract):
    """The replan breaker of one scope (tenant, policy, trigger type, stage); transitions in controlloop/breaker.py."""

    phase: BreakerPhase = "closed"
    # Outcomes of the scope's most recent executed replans, newest last (True = succeeded), at most the window.
    outcomes: list[bool] = Field(default_factory=list)
    opened_at: datetime = EPOCH  # when it last opened; the cool-down counts from here
    trial_started_at: datetime = EPOCH  # half-open: when the one trial replan was admitted; EPOCH = none in flight


class DecisionInput(Contract):
    trigger: ReplanTrigger
    policy: PolicySnapshot
    tenant_id: str = ""  # names the breaker's scope in a veto
    trace_replans: list[PastReplan] = Field(default_factory=list)
    # The breaker of (tenant, policy, trigger type, stage) as stored; a closed one with no history is neutral.
    breaker: BreakerState = Field(default_factory=BreakerState)
    now: datetime
    plan: dict[str, Any] = Field(default_factory=dict)


class ReplanDecision(Contract):
    approved: bool
    decision: DecisionKind
    reason: str
    veto: Veto = ""
    attempt: int = Field(ge=0, description="The replan number this would be (1 for the first replan).")
    max_attempts: int = Field(ge=0)
    scope: StageScope = "execute"
    patch: ReplanPatchDiff = Field(default_factory=ReplanPatchDiff)
    guidance: str = ""
