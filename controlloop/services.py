"""Control-loop writes: deciding on a trigger and recording every step as a ReplanEvent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from controlloop import breaker
from controlloop.contracts import BreakerState, DecisionInput, PastReplan, PolicySnapshot, ReplanDecision, ReplanTrigger
from controlloop.decisions import decide, default_policy
from controlloop.models import ReplanBreaker, ReplanEvent, ReplanLedger, ReplanPolicy

NEUTRAL = "neutral"  # the breaker a test-mode run decides with: closed, no history, never fed


@dataclass
class DecisionRecord:
    decision: ReplanDecision
    request_event: ReplanEvent
    decision_event: ReplanEvent

    @property
    def breaker(self) -> str:
        """The breaker the decision saw: closed, open, half_open, neutral; empty when none was asked."""
        return self.decision_event.breaker_state


@dataclass(frozen=True)
class LoopSnapshot:
    """The control loop as a test-mode run sees it from its start to its end.

    The tenant's policy as it was when the run started (id and version) and a
    neutral breaker, so the same input decides the same way whatever live
    traffic does meanwhile; nothing of the run feeds the live breaker or ledger.
    """

    policy_pk: int
    name: str
    version: int
    policy: PolicySnapshot


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


def loop_snapshot(tenant_id: str) -> LoopSnapshot:
    policy = policy_for_tenant(tenant_id)
    return LoopSnapshot(policy_pk=policy.pk, name=policy.name, version=policy.version, policy=policy.snapshot())


def _automatic(policy: PolicySnapshot, trigger: ReplanTrigger) -> bool:
    # The breaker guards automatic replans only; asking the user or stopping is never refused by it.
    return policy.rule_for(trigger.trigger_type).decision == "auto_retry"


def _locked_breaker(tenant_id: str, policy_pk: int, trigger_type: str, stage_name: str) -> ReplanBreaker:
    scope = {"tenant_id": tenant_id, "policy_id": policy_pk, "trigger_type": trigger_type, "stage_name": stage_name}
    ReplanBreaker.objects.get_or_create(**scope)
    return ReplanBreaker.objects.select_for_update().get(**scope)


def _record_decision(*, trace_id: str, tenant_id: str, trigger: ReplanTrigger, policy_pk: int | None,
                     policy_version: int, now: datetime, data: DecisionInput, breaker_seen: str,
                     isolated: bool) -> DecisionRecord:
    fields = {"trace_id": trace_id, "tenant_id": tenant_id, "policy_id": policy_pk, "policy_version": policy_version,
              "isolated": isolated, "created_at": now, **_trigger_fields(trigger)}
    request = ReplanEvent.objects.create(kind=ReplanEvent.Kind.REQUEST, **fields)
    decision = decide(data)
    event = ReplanEvent.objects.create(
        kind=ReplanEvent.Kind.DECISION, request=request, decision=decision.decision, approved=decision.approved,
        veto=decision.veto, reason=decision.reason, attempt=decision.attempt, max_attempts=decision.max_attempts,
        scope=decision.scope, patch_before=decision.patch.before, patch_after=decision.patch.after,
        json_patch=decision.patch.json_patch(), breaker_state=breaker_seen, **fields,
    )
    return DecisionRecord(decision=decision, request_event=request, decision_event=event)


def _started_replan(decision: ReplanDecision) -> bool:
    return decision.approved and decision.decision == "auto_retry"


def replan_decide(
    *, trace_id: str, tenant_id: str, trigger: ReplanTrigger, plan: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DecisionRecord:
    """Record the request, decide under the trace's ledger lock and the scope's breaker lock, record the decision.

    Concurrent deciders of one trace queue on the ledger row, so each sees the
    replans the others already approved and the limit holds; deciders of one
    breaker scope queue on its row, so a half-open breaker admits one trial.
    Locks are always taken ledger first, then breaker.
    """
    now = now or timezone.now()
    policy = policy_for_tenant(tenant_id)
    snapshot = policy.snapshot()
    with transaction.atomic():
        ReplanLedger.objects.get_or_create(trace_id=trace_id, tenant_id=tenant_id)
        ledger = ReplanLedger.objects.select_for_update().get(trace_id=trace_id, tenant_id=tenant_id)
        past = ReplanEvent.objects.filter(trace_id=trace_id, tenant_id=tenant_id, kind=ReplanEvent.Kind.DECISION,
                                          approved=True, decision="auto_retry", isolated=False).order_by("created_at")
        row = (_locked_breaker(tenant_id, policy.pk, trigger.trigger_type, trigger.stage_name)
               if _automatic(snapshot, trigger) else None)
        state = row.breaker_state() if row is not None else BreakerState()
        record = _record_decision(
            trace_id=trace_id, tenant_id=tenant_id, trigger=trigger, policy_pk=policy.pk,
            policy_version=policy.version, now=now, isolated=False,
            breaker_seen=breaker.describe(state, snapshot, now) if row is not None else "",
            data=DecisionInput(trigger=trigger, policy=snapshot, tenant_id=tenant_id, breaker=state, now=now,
                               trace_replans=[PastReplan(timestamp=e.created_at, trigger_type=e.trigger_type)
                                              for e in past], plan=plan or {}),
        )
        if row is not None:
            started = _started_replan(record.decision)
            row.store(breaker.on_replan(state, snapshot, now) if started else breaker.advance(state, snapshot, now))
        if _started_replan(record.decision):
            ledger.replans_used += 1
            ledger.save(update_fields=["replans_used", "updated_at"])
    return record


def replan_decide_isolated(
    *, trace_id: str, tenant_id: str, trigger: ReplanTrigger, snapshot: LoopSnapshot, trace_replans: list[PastReplan],
    plan: dict[str, Any] | None = None, now: datetime | None = None,
) -> DecisionRecord:
    """Decide for a test-mode run against ``snapshot`` and the run's own ``trace_replans`` (kept by the caller).

    The decision is recorded (``isolated=True``) for the trace page, but no
    ledger or breaker row is read or written: the live control loop neither
    changes this run's verdict nor is changed by it.
    """
    now = now or timezone.now()
    # The policy may have been deleted since the run started; the snapshot still decides.
    policy_pk = snapshot.policy_pk if ReplanPolicy.objects.filter(pk=snapshot.policy_pk).exists() else None
    with transaction.atomic():
        return _record_decision(
            trace_id=trace_id, tenant_id=tenant_id, trigger=trigger, policy_pk=policy_pk,
            policy_version=snapshot.version, now=now, isolated=True,
            breaker_seen=NEUTRAL if _automatic(snapshot.policy, trigger) else "",
            data=DecisionInput(trigger=trigger, policy=snapshot.policy, tenant_id=tenant_id, breaker=BreakerState(),
                               now=now, trace_replans=trace_replans, plan=plan or {}),
        )


def replan_record_execution(*, decision_event: ReplanEvent, succeeded: bool, now: datetime | None = None,
                            detail: str = "") -> ReplanEvent:
    """Record how an executed replan went and, for a live one, feed its scope's breaker."""
    now = now or timezone.now()
    with transaction.atomic():
        execution = ReplanEvent.objects.create(
            kind=ReplanEvent.Kind.EXECUTION, trace_id=decision_event.trace_id, tenant_id=decision_event.tenant_id,
            policy=decision_event.policy, request=decision_event.request, created_at=now,
            trigger_type=decision_event.trigger_type, stage_name=decision_event.stage_name,
            severity=decision_event.severity, trigger_reason=decision_event.trigger_reason,
            decision=decision_event.decision, approved=True, attempt=decision_event.attempt,
            max_attempts=decision_event.max_attempts, scope=decision_event.scope,
            patch_before=decision_event.patch_before, patch_after=decision_event.patch_after,
            json_patch=decision_event.json_patch, outcome="succeeded" if succeeded else "failed",
            policy_version=decision_event.policy_version, isolated=decision_event.isolated,
            reason=detail or ("the re-run cleared the trigger" if succeeded else "the re-run raised the trigger again"),
        )
        if not decision_event.isolated and decision_event.policy_id is not None:
            row = _locked_breaker(decision_event.tenant_id, decision_event.policy_id, decision_event.trigger_type,
                                  decision_event.stage_name)
            settings = decision_event.policy.snapshot()
            row.store(breaker.on_outcome(row.breaker_state(), settings, succeeded=succeeded,
                                         admitted_at=decision_event.created_at, now=now))
    return execution
