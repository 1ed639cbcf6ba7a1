"""A replan's chain: request → decision → how its re-run went. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controlloop.chains import Decided, Executed, Requested, chain_outcome, replan_chain

AT = datetime(2026, 11, 27, 4, 4, 21, tzinfo=UTC)
REQUESTED = Requested(at=AT, trigger_type="empty_result", severity="medium", stage_name="execute",
                      reason="the query returned no rows")


def decided(decision: str = "auto_retry", *, approved: bool = True, veto: str = "", reason: str = "") -> Decided:
    return Decided(at=AT, decision=decision, approved=approved, veto=veto, reason=reason)


def executed(outcome: str) -> Executed:
    return Executed(at=AT + timedelta(milliseconds=16), outcome=outcome, detail=f"the re-run {outcome}")


@pytest.mark.parametrize(("decision", "execution", "outcome"), [
    (decided(), executed("succeeded"), "succeeded"),
    (decided(), executed("failed"), "failed"),
    (decided(), None, "no_outcome"),
    (decided("ask_user"), None, "asked_user"),
    (decided("stop_with_guidance"), None, "stopped"),
    (decided("stop_with_guidance", approved=False, veto="no_replans_left"), None, "denied"),
])
def test_the_outcome_is_what_happened_after_the_decision(decision, execution, outcome):
    assert chain_outcome(decision, execution) == outcome


def test_an_approved_replan_chains_request_decision_and_its_re_run():
    chain = replan_chain(decided(reason="approved: auto_retry from execute (replan 1 of 2)"), requested=REQUESTED,
                         executed=executed("succeeded"))

    assert chain.outcome == "succeeded"
    assert [(s.label, s.status) for s in chain.steps] == [("Requested", ""), ("Decided", ""),
                                                          ("Re-run", "succeeded")]
    assert chain.steps[0].text == "empty_result (medium) on execute: the query returned no rows"
    assert chain.steps[1].text == "auto_retry — approved: auto_retry from execute (replan 1 of 2)"
    assert chain.steps[2].text == "succeeded — the re-run succeeded"
    assert chain.steps[2].at == AT + timedelta(milliseconds=16)


def test_a_replan_without_a_recorded_re_run_says_so():
    chain = replan_chain(decided(), requested=REQUESTED)
    assert chain.steps[-1].label == "Re-run" and chain.steps[-1].at is None
    assert chain.steps[-1].text == "no outcome recorded"


def test_a_denied_replan_ends_in_its_veto_and_the_stop():
    chain = replan_chain(decided("stop_with_guidance", approved=False, veto="no_replans_left",
                                 reason="no replans left (2 of 2 used)"), requested=REQUESTED)
    assert chain.steps[-1].label == "Outcome" and chain.steps[-1].status == "denied"
    assert chain.steps[-1].text == "replan denied (no replans left) · stopped with guidance"


def test_stop_with_guidance_is_no_approval_to_retry():
    chain = replan_chain(decided("stop_with_guidance"), requested=REQUESTED)
    assert chain.steps[-1].text == "stopped with guidance"
    assert "approved" not in chain.steps[-1].text


def test_a_decision_without_its_request_row_starts_at_the_decision():
    chain = replan_chain(decided("ask_user"))
    assert [s.label for s in chain.steps] == ["Decided", "Outcome"]
    assert chain.steps[-1].text == "asked the user"
