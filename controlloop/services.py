"""Control-loop writes: deciding on a trigger and recording every step as a ReplanEvent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from controlloop.contracts import EPOCH, DecisionInput, PastReplan, ReplanDecision, ReplanTrigger
from controlloop.decisions import decide, default_policy
from controlloop.models import ReplanEvent, ReplanLedger, ReplanPolicy


@dataclass
class DecisionRecord:
    decision: ReplanDecision
    request_event: ReplanEvent
    decision_event: ReplanEvent


def ensure_default_policy() -> ReplanPolicy:
    """The default policy; recreated from the documented defaults if it was removed.

    A migration creates it; this keeps the control loop working after a
    database flush (e.g. between transactional tests) or a manual delete.
    """
    policy = ReplanPolicy.objects.filter(is_default=True).first()
    if policy is None:
        policy, _ = ReplanPolicy.objects.get_or_create(
            is_default=True,
            defaults=default_policy().model_dump(mode="json", exclude={"policy_id"}),
        )
    return policy


def policy_for_tenant(tenant_id: str) -> ReplanPolicy:
    """The tenant's own policy, else the default one."""
    policy = ReplanPolicy.objects.filter(tenant_id=tenant_id).first() if tenant_id else None
    return policy or ensure_default_policy()


def _trigger_fields(trigger: ReplanTrigger) -> dict[str, Any]:
    return {
        "trigger_type": trigger.trigger_type,
        "stage_name": trigger.stage_name,
        "severity": trigger.severity,
        "trigger_reason": trigger.reason,
        "trigger_raw": trigger.trigger_raw,
        "trigger_metadata": trigger.metadata,
    }


def replan_decide(
    *, trace_id: str, tenant_id: str, trigger: ReplanTrigger, plan: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DecisionRecord:
    """Record the request, decide under the trace's ledger lock, record the decision.

    Concurrent deciders of one trace queue on the ledger row, so each sees the
    replans the others already approved and the limit holds.
    """
    now = now or timezone.now()
    policy = policy_for_tenant(tenant_id)
    with transaction.atomic():
        ReplanLedger.objects.get_or_create(trace_id=trace_id, tenant_id=tenant_id)
        ledger = ReplanLedger.objects.select_for_update().get(trace_id=trace_id, tenant_id=tenant_id)
        request = ReplanEvent.objects.create(kind=ReplanEvent.Kind.REQUEST, trace_id=trace_id, tenant_id=tenant_id,
                                             policy=policy, created_at=now, **_trigger_fields(trigger))
        snapshot = policy.snapshot()
        past = ReplanEvent.objects.filter(trace_id=trace_id, tenant_id=tenant_id, kind=ReplanEvent.Kind.DECISION,
                                          approved=True, decision="auto_retry").order_by("created_at")
        outcomes = list(
            ReplanEvent.objects.filter(policy=policy, kind=ReplanEvent.Kind.EXECUTION)
            .order_by("-created_at", "-id").values_list("outcome", "created_at")[: snapshot.breaker_window]
        )
        decision = decide(DecisionInput(
            trigger=trigger,
            policy=snapshot,
            trace_replans=[PastReplan(timestamp=e.created_at, trigger_type=e.trigger_type) for e in past],
            policy_outcomes=[outcome == "succeeded" for outcome, _ in reversed(outcomes)],
            last_outcome_at=outcomes[0][1] if outcomes else EPOCH,
            now=now,
            plan=plan or {},
        ))
        event = ReplanEvent.objects.create(
            kind=ReplanEvent.Kind.DECISION, trace_id=trace_id, tenant_id=tenant_id, policy=policy, request=request,
            created_at=now, decision=decision.decision, approved=decision.approved, veto=decision.veto,
            reason=decision.reason, attempt=decision.attempt, max_attempts=decision.max_attempts,
            scope=decision.scope, patch_before=decision.patch.before, patch_after=decision.patch.after,
            json_patch=decision.patch.json_patch(), **_trigger_fields(trigger),
        )
        if decision.approved and decision.decision == "auto_retry":
            ledger.replans_used += 1
            ledger.save(update_fields=["replans_used", "updated_at"])
    return DecisionRecord(decision=decision, request_event=request, decision_event=event)


def replan_record_execution(*, decision_event: ReplanEvent, succeeded: bool, now: datetime | None = None,
                            detail: str = "") -> ReplanEvent:
    """Record how an executed replan went; the breaker counts these outcomes."""
    return ReplanEvent.objects.create(
        kind=ReplanEvent.Kind.EXECUTION, trace_id=decision_event.trace_id, tenant_id=decision_event.tenant_id,
        policy=decision_event.policy, request=decision_event.request, created_at=now or timezone.now(),
        trigger_type=decision_event.trigger_type, stage_name=decision_event.stage_name,
        severity=decision_event.severity, trigger_reason=decision_event.trigger_reason,
        decision=decision_event.decision, approved=True, attempt=decision_event.attempt,
        max_attempts=decision_event.max_attempts, scope=decision_event.scope,
        patch_before=decision_event.patch_before, patch_after=decision_event.patch_after,
        json_patch=decision_event.json_patch, outcome="succeeded" if succeeded else "failed",
        reason=detail or ("the re-run cleared the trigger" if succeeded else "the re-run raised the trigger again"),
    )
