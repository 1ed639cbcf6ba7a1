"""Seams the pipeline runner offers to higher apps: the replan loop, plugged in by dotted path.

The runner must not import the control loop (a higher app); the control loop
plugs itself in through ``settings.OPS_REPLAN_LOOP``, as stage handlers do
through ``OPS_STAGE_HANDLERS``. Unset, runs go straight through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from inspector.contracts import ExecutionContext, StageOutput


class ReplanLoop(Protocol):
    """The runner's view of a control loop: detect a trigger, ask for a decision, record outcomes."""

    enabled: bool
    pending: dict[str, Any]

    def detect(self, output: StageOutput, route: str) -> Any | None: ...

    def outcome(self, stage: str, trigger: Any | None) -> None: ...

    def ask(self, trigger: Any, plan: dict[str, Any]) -> Any: ...


class NoReplans:
    """No control loop installed: nothing is detected, nothing is replanned."""

    enabled = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.pending: dict[str, Any] = {}

    def detect(self, output: StageOutput, route: str) -> None:
        return None

    def outcome(self, stage: str, trigger: Any | None) -> None:
        return None

    def ask(self, trigger: Any, plan: dict[str, Any]) -> Any:
        raise RuntimeError("no control loop is installed (OPS_REPLAN_LOOP)")


def replan_loop_for(context: ExecutionContext, *, enabled: bool, started_at: datetime | None) -> ReplanLoop:
    path = getattr(settings, "OPS_REPLAN_LOOP", "")
    factory = import_string(path) if path else NoReplans
    return factory(context, enabled=enabled, started_at=started_at)
