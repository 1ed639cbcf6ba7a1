"""The control loop as the pipeline runner sees it (plugged in by ``OPS_REPLAN_LOOP``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from controlloop.contracts import PastReplan, ReplanTrigger
from controlloop.services import (
    NEUTRAL,
    DecisionRecord,
    loop_snapshot,
    policy_for_tenant,
    replan_decide,
    replan_decide_isolated,
    replan_record_execution,
)
from controlloop.trigger_detection import trigger_for
from inspector.contracts import ExecutionContext, StageOutput


class ControlLoop:
    """Ask the control loop on a trigger, record each re-run's outcome; see inspector/pipeline/ports.py.

    A test-mode run (override tests, stage tests, golden and suite runs, the
    regression gate) is *isolated*: it decides against a snapshot taken here,
    at the run's start (the tenant's policy and version, a neutral breaker),
    and keeps its replan count in memory, so its verdict cannot depend on live
    traffic and live traffic cannot depend on it.
    """

    def __init__(self, context: ExecutionContext, *, enabled: bool, started_at: datetime | None) -> None:
        self.context = context
        self.enabled = enabled and bool(context.trace_id)
        self.pending: dict[str, Any] = {}  # stage → decision record awaiting its re-run's outcome
        self.records: list[DecisionRecord] = []
        self.snapshot = loop_snapshot(context.tenant_id) if self.enabled and context.test_mode else None
        self._replans: list[PastReplan] = []  # an isolated run's own ledger
        # Runs stamped in the past (seeding, imports) decide on their own clock,
        # so intervals, cooling and the breaker see the times the trace shows.
        self._origin = (started_at, time.perf_counter()) if started_at else None

    @property
    def isolated(self) -> bool:
        return self.snapshot is not None

    def now(self) -> datetime:
        if self._origin is None:
            return timezone.now()
        started_at, perf = self._origin
        return started_at + timedelta(seconds=time.perf_counter() - perf)

    def detect(self, output: StageOutput, route: str) -> ReplanTrigger | None:
        return trigger_for(output, route=route)

    def outcome(self, stage: str, trigger: ReplanTrigger | None) -> None:
        record = self.pending.pop(stage, None)
        if record is not None:
            same = trigger is not None and trigger.trigger_type == record.decision_event.trigger_type
            replan_record_execution(decision_event=record.decision_event, succeeded=not same, now=self.now())

    def ask(self, trigger: ReplanTrigger, plan: dict[str, Any]) -> DecisionRecord:
        trigger = trigger.model_copy(update={"timestamp": self.now()})
        ids = {"trace_id": self.context.trace_id, "tenant_id": self.context.tenant_id}
        if self.snapshot is None:
            record = replan_decide(**ids, trigger=trigger, plan=plan, now=trigger.timestamp)
        else:
            record = replan_decide_isolated(**ids, trigger=trigger, plan=plan, now=trigger.timestamp,
                                            snapshot=self.snapshot, trace_replans=list(self._replans))
            if record.decision.approved and record.decision.decision == "auto_retry":
                self._replans.append(PastReplan(timestamp=trigger.timestamp, trigger_type=trigger.trigger_type))
        self.records.append(record)
        return record

    def describe(self) -> dict[str, Any]:
        """What the run decided with, for the trace metadata ("control_loop")."""
        if self.snapshot is not None:
            return {"isolated": True, "policy": self.snapshot.name, "policy_version": self.snapshot.version,
                    "breaker": NEUTRAL}
        if self.records:
            event = self.records[0].decision_event
            name, version = (event.policy.name, event.policy_version) if event.policy else ("", 0)
        else:
            policy = policy_for_tenant(self.context.tenant_id)
            name, version = policy.name, policy.version
        seen = next((record.breaker for record in self.records if record.breaker), "closed")
        return {"isolated": False, "policy": name, "policy_version": version, "breaker": seen}
