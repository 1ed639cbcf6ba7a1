"""The control loop's part of the trace page: its replan decisions, worded as the timeline words them.

Registered in ``ControlLoopConfig.ready`` as ``trace_panels.REPLAN_DECISIONS``.
A decision's ``approved`` only says no veto stopped the policy's answer, which
may itself be to stop or to ask the user, and ``attempt`` is the replan the
decision would have been: the rows carry the outcome and the replan count as
words (``controlloop.wording``), never "approved" on a stop or "3 / 2".
"""

from __future__ import annotations

from typing import Any

from controlloop.chains import Decided, Executed, chain_outcome
from controlloop.selectors import replan_decisions_for_trace, replan_followups
from controlloop.wording import OUTCOMES, VETO_TEXT, outcome_label, replan_count_text

# The pill colour of each outcome (the admin's ops-status-* classes).
OUTCOME_TONES = {"succeeded": "ok", "failed": "error", "no_outcome": "muted", "asked_user": "warning",
                 "stopped": "warning", "denied": "error"}


def replan_panel_rows(trace) -> list[dict[str, Any]]:
    """The trace's replan decisions in order (at most 100), each with its outcome and replan count in words.

    Three queries: the decisions, then their requests' executions.
    """
    decisions = replan_decisions_for_trace(trace)
    _, executions = replan_followups(decisions)
    rows = []
    for e in decisions:
        execution = executions.get(e.request_id)
        outcome = chain_outcome(
            Decided(at=e.created_at, decision=e.decision, approved=bool(e.approved), veto=e.veto, reason=e.reason),
            execution and Executed(at=execution.created_at, outcome=execution.outcome, detail=execution.reason))
        rows.append({
            "created_at": e.created_at, "trigger_type": e.trigger_type, "stage_name": e.stage_name,
            "severity": e.severity, "decision": e.decision, "reason": e.reason,
            "veto": e.veto, "veto_text": VETO_TEXT.get(e.veto, e.veto),
            "outcome": outcome, "outcome_glyph": OUTCOMES[outcome][1], "outcome_tone": OUTCOME_TONES[outcome],
            "outcome_text": outcome_label(outcome, veto=e.veto),
            "count_text": replan_count_text(decision=e.decision, approved=bool(e.approved), veto=e.veto,
                                            attempt=e.attempt, max_attempts=e.max_attempts),
        })
    return rows
