"""The breaker's state machine (controlloop/breaker.py): properties over random histories, then examples.

The machine below drives one breaker through random interleavings of replan
requests, outcomes (of the trial and of replans admitted earlier) and time,
and checks after every step that only the documented transitions happened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from controlloop import breaker
from controlloop.contracts import EPOCH, BreakerState, DecisionInput, PolicySnapshot, ReplanTrigger
from controlloop.decisions import decide, default_policy

START = datetime(2026, 1, 1, tzinfo=UTC)

# (from, to) pairs the documented state machine allows; staying put is always allowed.
ALLOWED = {("closed", "open"), ("open", "half_open"), ("half_open", "closed"), ("half_open", "open")}


class BreakerMachine(RuleBasedStateMachine):
    @initialize(window=st.integers(1, 12), min_samples=st.integers(1, 12),
                ratio=st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0]), cooldown=st.sampled_from([0.0, 30.0, 300.0]))
    def configure(self, window: int, min_samples: int, ratio: float, cooldown: float) -> None:
        self.settings = PolicySnapshot(breaker_window=window, breaker_min_samples=min_samples,
                                       breaker_failure_ratio=ratio, breaker_cooldown_seconds=cooldown)
        self.state = BreakerState()
        self.now = START
        self.in_flight: list[datetime] = []  # admission times of replans not reported yet
        self.trial: datetime | None = None  # the trial the model believes is running

    def _move(self, new: BreakerState, event: str) -> None:
        old = breaker.advance(self.state, self.settings, self.now)
        # Time alone may only move open → half_open (or give up a lost trial).
        assert (self.state.phase, old.phase) in ALLOWED | {(self.state.phase, self.state.phase)}
        assert (old.phase, new.phase) in ALLOWED | {(old.phase, old.phase)}, (event, old, new)
        if (old.phase, new.phase) == ("closed", "open"):
            # Closed with fewer than min_samples outcomes, or under the ratio, never opens.
            failed, seen = breaker.failures(new.outcomes, self.settings)
            assert seen >= self.settings.breaker_min_samples
            assert failed / seen >= self.settings.breaker_failure_ratio
        self.state = new

    @rule(seconds=st.sampled_from([0.0, 1.0, 29.0, 61.0, 400.0]))
    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        before = self.state
        self._move(breaker.advance(self.state, self.settings, self.now), "wait")
        if before.phase == "open" and self.state.phase == "half_open":
            assert (self.now - before.opened_at).total_seconds() >= self.settings.breaker_cooldown_seconds

    @rule()
    def request(self) -> None:
        self.now += timedelta(seconds=0.5)
        current = breaker.advance(self.state, self.settings, self.now)
        admitted = breaker.admits(self.state, self.settings, self.now)
        assert admitted == (current.phase == "closed" or (current.phase == "half_open"
                                                         and current.trial_started_at == EPOCH))
        if breaker.trial_in_flight(current):
            assert not admitted  # a half-open breaker admits ONE trial; the others wait for its outcome
        if admitted:
            new = breaker.on_replan(self.state, self.settings, self.now)
            if current.phase == "half_open":
                assert new.trial_started_at == self.now
                self.trial = self.now
            self.in_flight.append(self.now)
            self._move(new, "request")

    @precondition(lambda self: self.trial is not None and self.state.trial_started_at == self.trial)
    @rule(succeeded=st.booleans())
    def trial_reports(self, succeeded: bool) -> None:
        self.now += timedelta(seconds=0.5)
        if not breaker.trial_in_flight(breaker.advance(self.state, self.settings, self.now)):
            return  # given up as lost just now; its outcome is a late one (covered by late_outcome)
        new = breaker.on_outcome(self.state, self.settings, succeeded=succeeded, admitted_at=self.trial,
                                 now=self.now)
        if succeeded:
            # A successful trial always closes it, with a clean window: old failures cannot reopen it at once.
            assert new == BreakerState()
        else:
            # A failed trial always reopens it, and the cool-down starts again.
            assert new.phase == "open" and new.opened_at == self.now
        self.in_flight.remove(self.trial)
        self.trial = None
        self._move(new, "trial")

    @precondition(lambda self: bool(self.in_flight))
    @rule(data=st.data(), succeeded=st.booleans())
    def late_outcome(self, data: st.DataObject, succeeded: bool) -> None:
        """A replan that is not the current trial reports (admitted while closed, or a lost trial)."""
        candidates = [at for at in self.in_flight if at != self.state.trial_started_at]
        if not candidates:
            return
        admitted_at = data.draw(st.sampled_from(candidates))
        self.now += timedelta(seconds=0.5)
        current = breaker.advance(self.state, self.settings, self.now)
        new = breaker.on_outcome(self.state, self.settings, succeeded=succeeded, admitted_at=admitted_at, now=self.now)
        self.in_flight.remove(admitted_at)
        if current.phase != "closed":
            # Only the trial moves an open or half-open breaker.
            assert new.phase == current.phase and new.trial_started_at == current.trial_started_at
        self._move(new, "late")

    @invariant()
    def window_is_bounded_and_consistent(self) -> None:
        assert len(self.state.outcomes) <= self.settings.breaker_window
        if self.state.phase == "closed":
            assert not breaker.tripped(self.state.outcomes, self.settings)
            assert self.state.trial_started_at == EPOCH
        if self.state.phase == "open":
            assert self.state.trial_started_at == EPOCH and self.state.opened_at != EPOCH


TestBreakerMachine = BreakerMachine.TestCase
TestBreakerMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


# --- examples ------------------------------------------------------------------

POLICY = default_policy()  # window 10, 4 samples, 50 %, 300 s


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def fed(outcomes: list[bool], start: BreakerState | None = None) -> BreakerState:
    state = start or BreakerState()
    for number, ok in enumerate(outcomes):
        state = breaker.on_outcome(state, POLICY, succeeded=ok, admitted_at=at(number), now=at(number))
    return state


def test_closed_with_fewer_than_min_samples_never_opens():
    assert fed([False, False, False]).phase == "closed"


def test_opens_when_the_failed_share_reaches_the_ratio():
    state = fed([True, False, True, False])
    assert (state.phase, state.opened_at) == ("open", at(3))


def test_open_refuses_until_the_cool_down_then_admits_one_trial():
    state = fed([False] * 4)
    assert not breaker.admits(state, POLICY, at(3 + 299))
    assert breaker.admits(state, POLICY, at(3 + 300))
    trial = breaker.on_replan(state, POLICY, at(303))
    assert (trial.phase, trial.trial_started_at) == ("half_open", at(303))
    assert not breaker.admits(trial, POLICY, at(304))


def test_successful_trial_closes_and_old_failures_do_not_reopen_it():
    state = breaker.on_replan(fed([False] * 10), POLICY, at(400))
    closed = breaker.on_outcome(state, POLICY, succeeded=True, admitted_at=at(400), now=at(401))
    assert closed == BreakerState()
    # Before: "7 of the last 10 failed" reopened it at the next failure. Now one failure is 1 of 1 (< 4 samples).
    after = breaker.on_outcome(closed, POLICY, succeeded=False, admitted_at=at(402), now=at(403))
    assert after.phase == "closed"


def test_failed_trial_reopens_and_restarts_the_cool_down():
    state = breaker.on_replan(fed([False] * 4), POLICY, at(400))
    reopened = breaker.on_outcome(state, POLICY, succeeded=False, admitted_at=at(400), now=at(410))
    assert (reopened.phase, reopened.opened_at) == ("open", at(410))
    assert not breaker.admits(reopened, POLICY, at(410 + 299))


def test_a_late_outcome_does_not_decide_a_half_open_breaker():
    state = breaker.on_replan(fed([False] * 4), POLICY, at(400))
    late = breaker.on_outcome(state, POLICY, succeeded=True, admitted_at=at(2), now=at(401))
    assert late.phase == "half_open" and late.trial_started_at == at(400)


def test_a_lost_trial_is_given_up_after_the_timeout():
    state = breaker.on_replan(fed([False] * 4), POLICY, at(400))
    assert not breaker.admits(state, POLICY, at(400 + breaker.trial_timeout(POLICY) - 1))
    assert breaker.admits(state, POLICY, at(400 + breaker.trial_timeout(POLICY)))


def test_decide_names_the_scope_of_an_open_breaker():
    trigger = ReplanTrigger(trigger_type="empty_result", stage_name="execute")
    data = DecisionInput(trigger=trigger, policy=POLICY, tenant_id="acme", breaker=fed([False] * 6 + [True] * 4),
                         now=at(20))
    decision = decide(data)
    assert decision.veto == "breaker_open"
    assert decision.reason == "breaker open for execute/empty_result in tenant acme: 6 of the last 10 replans failed"
    trial = decide(data.model_copy(update={"breaker": breaker.on_replan(data.breaker, POLICY, at(400)), "now": at(401)}))
    assert trial.veto == "breaker_open" and "half-open" in trial.reason and "trial replan is running" in trial.reason
