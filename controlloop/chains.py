"""One replan as a chain: the request, the decision on it, and how its re-run went.

Pure: the caller reads the three ``ReplanEvent`` rows (``selectors.replan_followups``);
here they become steps and one outcome. An approved ``auto_retry`` re-runs
its scope and ``ControlLoop.outcome`` records that re-run as an execution
event (succeeded, or failed when it raised the same trigger again); every
other decision ends the run, so there is nothing to wait for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from controlloop.wording import outcome_label


@dataclass(frozen=True)
class Requested:
    at: datetime
    trigger_type: str
    severity: str
    stage_name: str
    reason: str


@dataclass(frozen=True)
class Decided:
    at: datetime
    decision: str
    approved: bool
    veto: str
    reason: str


@dataclass(frozen=True)
class Executed:
    at: datetime
    outcome: str  # succeeded | failed
    detail: str


@dataclass(frozen=True)
class ChainStep:
    label: str
    at: datetime | None  # None: a step that did not (or not yet) happen
    text: str
    status: str = ""  # the outcome, on the step that ends the chain


@dataclass(frozen=True)
class ReplanChain:
    outcome: str  # a key of ``wording.OUTCOMES``
    steps: tuple[ChainStep, ...]


def chain_outcome(decided: Decided, executed: Executed | None) -> str:
    """succeeded / failed / no_outcome for a replan made; denied, asked_user or stopped otherwise."""
    if decided.veto or not decided.approved:
        return "denied"
    if decided.decision == "ask_user":
        return "asked_user"
    if decided.decision != "auto_retry":
        return "stopped"
    if executed is not None and executed.outcome in ("succeeded", "failed"):
        return executed.outcome
    return "no_outcome"


def replan_chain(decided: Decided, *, requested: Requested | None = None,
                 executed: Executed | None = None) -> ReplanChain:
    """The steps request → decision → outcome; a missing request (older rows) is left out."""
    outcome = chain_outcome(decided, executed)
    steps = []
    if requested is not None:
        where = f" on {requested.stage_name}" if requested.stage_name else ""
        steps.append(ChainStep("Requested", requested.at, f"{requested.trigger_type} ({requested.severity}){where}"
                                                          + (f": {requested.reason}" if requested.reason else "")))
    steps.append(ChainStep("Decided", decided.at, f"{decided.decision} — {decided.reason}" if decided.reason
                           else decided.decision))
    if outcome in ("succeeded", "failed") and executed is not None:
        steps.append(ChainStep("Re-run", executed.at, f"{executed.outcome} — {executed.detail}", status=outcome))
    elif outcome == "no_outcome":
        # The run may still be going, or ended before the re-run reported back.
        steps.append(ChainStep("Re-run", None, "no outcome recorded", status=outcome))
    else:
        steps.append(ChainStep("Outcome", None, outcome_label(outcome, veto=decided.veto), status=outcome))
    return ReplanChain(outcome=outcome, steps=tuple(steps))
