"""How screens word a replan: its outcome, its place among the trace's replans, its times.

Pure: plain values in, text out. A decision's ``approved`` only says that no
veto stopped the policy's answer, and that answer may be to stop or to ask
the user; the words here say what actually happened instead.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

# outcome → (label, glyph); the order is the legend's. See ``chains.chain_outcome``.
OUTCOMES: dict[str, tuple[str, str]] = {
    "succeeded": ("replanned · re-run succeeded", "✓"),
    "failed": ("replanned · re-run failed", "✕"),
    "no_outcome": ("replanned · no outcome recorded", "…"),
    "asked_user": ("asked the user", "?"),
    "stopped": ("stopped with guidance", "■"),
    "denied": ("replan denied", "⊘"),
}

VETO_TEXT: dict[str, str] = {
    "trigger_not_allowed": "trigger not allowed by the policy",
    "no_replans_left": "no replans left",
    "breaker_open": "breaker open",
    "severity_too_low": "severity below the policy's minimum",
    "interval": "too soon after the last replan",
    "cooling": "cooling down after the last replan",
}


def outcome_label(outcome: str, *, veto: str = "") -> str:
    """The headline of a decision's chain, e.g. ``replan denied (no replans left) · stopped with guidance``."""
    label = OUTCOMES[outcome][0]
    if outcome == "denied":
        # A veto always turns the answer into stop_with_guidance (decisions.decide).
        return f"{label} ({VETO_TEXT.get(veto, veto or 'vetoed')}) · stopped with guidance"
    return label


def replan_count_text(*, decision: str, approved: bool, veto: str, attempt: int, max_attempts: int) -> str:
    """Where the decision stands among the trace's replans, never "attempt 3 of 2".

    ``attempt`` is the replan this would have been (replans used + 1) on
    every decision, including those that made no replan at all.
    """
    used = max(attempt - 1, 0)
    if approved and decision == "auto_retry":
        return f"replan {attempt} of {max_attempts}"
    if veto == "no_replans_left" or attempt > max_attempts:
        return f"none left: {used} of {max_attempts} replans already used"
    if veto:
        return f"would have been replan {attempt} of {max_attempts}; not made"
    return f"no replan made ({used} of {max_attempts} used before)"


def moment_text(moment: datetime, tz: tzinfo) -> str:
    """``27 Nov 2026, 23:52:21 UTC``: to the second, in ``tz``, with its name."""
    local = moment.astimezone(tz)
    return f"{local:%d %b %Y, %H:%M:%S} {local.tzname()}"


def moment_input_text(moment: datetime, tz: tzinfo) -> str:
    """``2026-11-27 23:52`` (seconds when not zero), in ``tz``: what a filter field shows and reads back."""
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M}" + (f":{local:%S}" if local.second else "")


def delta_text(seconds: float) -> str:
    """``+16 ms``, ``+2.4 s``, ``+3 min``, ``+2.5 h``: the time from one step of a chain to the next."""
    if seconds < 1:
        return f"+{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"+{seconds:.1f} s"
    if seconds < 3600:
        return f"+{seconds / 60:.0f} min"
    return f"+{seconds / 3600:.1f} h"
