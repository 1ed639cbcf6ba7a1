"""The control loop as the pipeline runner sees it (plugged in by ``OPS_REPLAN_LOOP``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from controlloop.contracts import ReplanTrigger
from controlloop.services import replan_decide, replan_record_execution
from controlloop.trigger_detection import trigger_for
from inspector.contracts import ExecutionContext, StageOutput


class ControlLoop:
    """Ask the control loop on a trigger, record each re-run's outcome; see inspector/pipeline/ports.py."""

    def __init__(self, context: ExecutionContext, *, enabled: bool, started_at: datetime | None) -> None:
        self.context = context
        self.enabled = enabled and bool(context.trace_id)
        self.pending: dict[str, Any] = {}  # stage → decision record awaiting its re-run's outcome
        # Runs stamped in the past (seeding, imports) decide on their own clock,
        # so intervals, cooling and the breaker see the times the trace shows.
        self._origin = (started_at, time.perf_counter()) if started_at else None

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

    def ask(self, trigger: ReplanTrigger, plan: dict[str, Any]) -> Any:
        trigger = trigger.model_copy(update={"timestamp": self.now()})
        return replan_decide(trace_id=self.context.trace_id, tenant_id=self.context.tenant_id, trigger=trigger,
                             plan=plan, now=trigger.timestamp)
