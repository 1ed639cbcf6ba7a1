"""Request bodies of the ``/controlloop`` API, as pydantic contracts (the control loop's own are in contracts.py).

A view validates its body with ``Model.model_validate``; a pydantic error is
a 400 ``{"dotted.path": ["message"]}`` (``inspector/api_errors.py``). Strings
are trimmed, as the DRF serializers these replace did. A policy is then
checked whole by ``ReplanPolicy.clean`` (its ``PolicySnapshot``), as before.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from controlloop.contracts import Severity, TriggerType
from kernel.contracts import Contract

SMALLINT_MAX = 32767  # PositiveSmallIntegerField on PostgreSQL

Count = Annotated[int, Field(ge=0, le=SMALLINT_MAX)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PolicyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RequestContract(Contract):
    """A request body: strings are trimmed (as DRF's CharField did)."""

    model_config = ConfigDict(str_strip_whitespace=True)


class DecideRequest(RequestContract):
    """Body of ``POST /controlloop/decide``."""

    trace_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    tenant_id: str = Field(default="", max_length=64,
                           description="The trace's tenant, for users of several tenants that each have a trace "
                                       "with this id; without it, the first stored of them.")
    # Any form ``controlloop.triggers.safe_parse_trigger`` accepts, null too (an unknown trigger): the key is
    # required, its value is never refused.
    trigger: Any = Field(description="A type, 'type stage reason…', a JSON string, an object, or null (an unknown "
                                     "trigger): any form the trigger parser accepts.")
    plan: dict[str, Any] = Field(default_factory=dict)


class ReplanPolicyIn(RequestContract):
    """Body of ``POST`` and ``PUT /controlloop/policies[/{id}]``; on ``PUT`` absent fields keep their values."""

    name: PolicyName
    tenant_id: str = Field(default="", max_length=64, description="Empty for the default policy.")
    is_default: bool = False
    max_replans: Count = 2
    allowed_triggers: list[TriggerType] = Field(default_factory=list)
    min_severity: Severity = "low"
    min_interval_seconds: Seconds = 0
    cooling_period_seconds: Seconds = 0
    rules: dict[str, Any] = Field(default_factory=dict, description="trigger type → {decision, scope, patch, guidance}")
    breaker_window: Count = 10
    breaker_min_samples: Count = 4
    breaker_failure_ratio: Annotated[float, Field(ge=0.01, le=1)] = 0.5
    breaker_cooldown_seconds: Annotated[float, Field(allow_inf_nan=False)] = Field(
        default=300, description="An open breaker allows one trial after this.")

    def changes(self) -> dict[str, Any]:
        """The fields the body sent (the others keep their stored values, or the model's defaults on create)."""
        return self.model_dump(include=self.model_fields_set)


def _no_default_in_schema(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class ReplanPolicyPatch(ReplanPolicyIn):
    """Body of ``PATCH /controlloop/policies/{id}``: the fields to change."""

    model_config = ConfigDict(validate_default=False)  # name's default only stands for "absent"

    name: PolicyName = Field(default="", json_schema_extra=_no_default_in_schema)
