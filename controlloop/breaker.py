"""The replan breaker of one scope as a pure state machine (docs/control-loop.md, "The breaker").

A breaker guards one scope — (tenant, policy, trigger type, stage) — so a
failing stage of one tenant cannot refuse the replans of another tenant,
stage or trigger. Its states and the only transitions between them:

    closed ──(window tripped)──▶ open ──(cool-down passed)──▶ half_open
      ▲                           ▲                             │ admits ONE trial replan
      │                           └──────(trial failed)─────────┤
      └───────(trial succeeded: the window is cleared)──────────┘

- closed: every automatic replan is admitted; each outcome joins the window
  (the last ``breaker_window``); it opens when at least
  ``breaker_min_samples`` outcomes are in the window and the failed share is
  at least ``breaker_failure_ratio``.
- open: nothing is admitted until ``breaker_cooldown_seconds`` after it opened.
- half_open: the first replan asked for is the trial; the others are refused
  while it is in flight. Only the trial's outcome moves the breaker. A trial
  whose outcome never comes (the run stopped before re-running the stage) is
  given up after ``trial_timeout`` and the next replan becomes the trial.

No ORM and no clock: ``now`` is passed in, so every transition is a function
of its arguments (``controlloop/tests/test_breaker_state_machine.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from controlloop.contracts import EPOCH, BreakerState

# A trial replan is one re-run of a stage: seconds. Waiting at least this long
# before giving it up keeps "one trial at a time" true even with no cool-down.
MIN_TRIAL_SECONDS = 60.0


class BreakerSettings(Protocol):
    """What a breaker needs of its policy (``PolicySnapshot`` has these)."""

    breaker_window: int
    breaker_min_samples: int
    breaker_failure_ratio: float
    breaker_cooldown_seconds: float


def failures(outcomes: list[bool], settings: BreakerSettings) -> tuple[int, int]:
    """``(failed, seen)`` among the last ``breaker_window`` outcomes."""
    recent = outcomes[-settings.breaker_window:]
    return sum(1 for ok in recent if not ok), len(recent)


def tripped(outcomes: list[bool], settings: BreakerSettings) -> bool:
    failed, seen = failures(outcomes, settings)
    return seen >= settings.breaker_min_samples and failed / seen >= settings.breaker_failure_ratio


def trial_timeout(settings: BreakerSettings) -> float:
    return max(settings.breaker_cooldown_seconds, MIN_TRIAL_SECONDS)


def trial_in_flight(state: BreakerState) -> bool:
    return state.phase == "half_open" and state.trial_started_at != EPOCH


def _seconds(since: datetime, now: datetime) -> float:
    return (now - since).total_seconds()


def advance(state: BreakerState, settings: BreakerSettings, now: datetime) -> BreakerState:
    """The transitions time alone makes: open → half_open after the cool-down; a lost trial is given up."""
    if state.phase == "open" and _seconds(state.opened_at, now) >= settings.breaker_cooldown_seconds:
        return state.model_copy(update={"phase": "half_open", "trial_started_at": EPOCH})
    if trial_in_flight(state) and _seconds(state.trial_started_at, now) >= trial_timeout(settings):
        return state.model_copy(update={"trial_started_at": EPOCH})
    return state


def admits(state: BreakerState, settings: BreakerSettings, now: datetime) -> bool:
    """Whether an automatic replan may run now: closed, or half-open with no trial in flight."""
    current = advance(state, settings, now)
    return current.phase == "closed" or (current.phase == "half_open" and not trial_in_flight(current))


def on_replan(state: BreakerState, settings: BreakerSettings, now: datetime) -> BreakerState:
    """An automatic replan was approved at ``now``: in half-open it is the trial."""
    current = advance(state, settings, now)
    if current.phase == "half_open" and not trial_in_flight(current):
        return current.model_copy(update={"trial_started_at": now})
    return current


def on_outcome(state: BreakerState, settings: BreakerSettings, *, succeeded: bool, admitted_at: datetime,
               now: datetime) -> BreakerState:
    """An executed replan, approved at ``admitted_at``, ``succeeded`` or not (reported at ``now``).

    In half-open only the trial's outcome (the replan admitted at
    ``trial_started_at``) moves the breaker; a replan admitted before the
    breaker opened that reports late joins the window and changes nothing.
    """
    current = advance(state, settings, now)
    window = (current.outcomes + [succeeded])[-settings.breaker_window:]
    if current.phase == "half_open" and trial_in_flight(current) and admitted_at == current.trial_started_at:
        if succeeded:
            # Cleared, so the failures that opened it cannot reopen it at the next outcome.
            return BreakerState()
        return BreakerState(phase="open", outcomes=window, opened_at=now)
    if current.phase == "closed" and tripped(window, settings):
        return BreakerState(phase="open", outcomes=window, opened_at=now)
    return current.model_copy(update={"outcomes": window})


def describe(state: BreakerState, settings: BreakerSettings, now: datetime) -> str:
    """The phase a decision at ``now`` sees (cool-down applied)."""
    return advance(state, settings, now).phase
