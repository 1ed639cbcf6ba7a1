"""What higher apps add to the trace pages, registered in their ``AppConfig.ready``.

The trace page lives in inspector, but its replan list comes from the control
loop and its verdict from regression, which inspector must not import. Each of
those apps registers a provider here by name; a page asks by name and gets the
default when no app provides it (e.g. the app is not installed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PROVIDERS: dict[str, Callable[..., Any]] = {}

# (trace) -> the control loop's decisions, in order, as mappings with created_at, trigger_type, stage_name,
# severity, decision, reason, veto, veto_text, outcome, outcome_glyph, outcome_tone, outcome_text, count_text.
REPLAN_DECISIONS = "replan_decisions"
LATEST_ANALYSIS = "latest_analysis"  # (baseline_id, candidate_id, tenant_id) -> analysis or None


def register(name: str, provider: Callable[..., Any]) -> None:
    _PROVIDERS[name] = provider


def provide(name: str, *args: Any, default: Any = None) -> Any:
    provider = _PROVIDERS.get(name)
    return default if provider is None else provider(*args)
