"""Control-loop decisions (SPEC §4): vetoes in order, breaker, patches. No database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controlloop.breaker import tripped
from controlloop.contracts import BreakerState, DecisionInput, PastReplan, PatchSpec, PolicySnapshot, ReplanTrigger
from controlloop.decisions import DEFAULT_RULES, apply_patch, decide, default_policy

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PLAN: dict[str, Any] = {"asset": "errors_by_service", "params": {"days": 1, "environment": "prod", "limit": 100}}


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def replans(*seconds_ago: float) -> list[PastReplan]:
    return [PastReplan(timestamp=ago(s), trigger_type="empty_result") for s in seconds_ago]


def make_input(
    trigger_type: str = "empty_result",
    severity: str = "medium",
    policy: PolicySnapshot | None = None,
    trace_replans: list[PastReplan] | None = None,
    outcomes: list[bool] | None = None,
    plan: dict[str, Any] | None = None,
    last_outcome_at: datetime | None = None,
) -> DecisionInput:
    policy = policy or default_policy()
    outcomes = outcomes or []
    # The breaker these outcomes leave behind; by default it opened just now (its cool-down has not passed).
    phase = "open" if tripped(outcomes, policy) else "closed"
    return DecisionInput(
        trigger=ReplanTrigger(trigger_type=trigger_type, stage_name="execute", severity=severity, timestamp=NOW),
        policy=policy,
        tenant_id="acme",
        trace_replans=trace_replans or [],
        breaker=BreakerState(phase=phase, outcomes=outcomes, opened_at=last_outcome_at or ago(1)),
        now=NOW,
        plan=copy.deepcopy(PLAN) if plan is None else plan,
    )


# --- vetoes, one by one ------------------------------------------------------

def test_disallowed_trigger_is_vetoed():
    decision = decide(make_input(policy=default_policy(allowed_triggers=["error"])))

    assert decision.approved is False
    assert decision.veto == "trigger_not_allowed"
    assert decision.reason == "trigger empty_result is not allowed by policy default"
    assert decision.decision == "stop_with_guidance"


def test_no_replans_left_is_vetoed():
    decision = decide(make_input(trace_replans=replans(600, 300)))

    assert decision.veto == "no_replans_left"
    assert decision.reason == "no replans left (2 of 2 used)"
    assert (decision.attempt, decision.max_attempts) == (3, 2)


def test_open_breaker_is_vetoed():
    decision = decide(make_input(outcomes=[True, False, False, False]))

    assert decision.veto == "breaker_open"
    assert decision.reason == "breaker open for execute/empty_result in tenant acme: 3 of the last 4 replans failed"


def test_low_severity_is_vetoed():
    decision = decide(make_input(severity="low", policy=default_policy(min_severity="high")))

    assert decision.veto == "severity_too_low"
    assert "low" in decision.reason and "high" in decision.reason


def test_replan_inside_interval_is_vetoed():
    policy = default_policy(min_interval_seconds=60, cooling_period_seconds=300)

    decision = decide(make_input(policy=policy, trace_replans=replans(30)))

    assert decision.veto == "interval"
    assert "30s" in decision.reason and "60s" in decision.reason


def test_replan_inside_cooling_is_vetoed():
    policy = default_policy(min_interval_seconds=60, cooling_period_seconds=300)

    decision = decide(make_input(policy=policy, trace_replans=replans(90)))

    assert decision.veto == "cooling"
    assert "90s" in decision.reason and "300s" in decision.reason


def test_interval_and_cooling_use_the_newest_replan():
    policy = default_policy(max_replans=3, min_interval_seconds=60, cooling_period_seconds=300)

    # Listed out of order: the check must pick the newest (30 s ago), not the last one.
    decision = decide(make_input(policy=policy, trace_replans=replans(30, 900)))

    assert decision.veto == "interval"


def test_first_replan_passes_interval_and_cooling():
    policy = default_policy(min_interval_seconds=60, cooling_period_seconds=300)

    assert decide(make_input(policy=policy)).approved is True


def test_replan_after_cooling_is_approved():
    policy = default_policy(min_interval_seconds=60, cooling_period_seconds=300)

    decision = decide(make_input(policy=policy, trace_replans=replans(300)))

    assert decision.approved is True
    assert decision.veto == ""


def test_veto_keeps_the_plan_and_uses_rule_scope_and_guidance():
    decision = decide(make_input(trigger_type="present_limit", trace_replans=replans(600, 300)))

    assert decision.patch.before == PLAN
    assert decision.patch.after == PLAN
    assert decision.patch.json_patch() == []
    assert decision.scope == "present"
    assert decision.guidance == DEFAULT_RULES["present_limit"].guidance


def test_veto_without_rule_guidance_gets_a_default_sentence():
    policy = default_policy(rules={}, allowed_triggers=["error"])

    decision = decide(make_input(policy=policy))

    assert decision.veto == "trigger_not_allowed"
    assert decision.guidance != ""


# --- veto order --------------------------------------------------------------

def test_disallowed_trigger_wins_over_no_replans_left():
    policy = default_policy(allowed_triggers=["error"])

    assert decide(make_input(policy=policy, trace_replans=replans(600, 300))).veto == "trigger_not_allowed"


def test_no_replans_left_wins_over_open_breaker():
    decision = decide(make_input(trace_replans=replans(600, 300), outcomes=[False] * 4))

    assert decision.veto == "no_replans_left"


def test_open_breaker_wins_over_low_severity():
    decision = decide(make_input(severity="low", policy=default_policy(min_severity="high"), outcomes=[False] * 4))

    assert decision.veto == "breaker_open"


def test_low_severity_wins_over_interval():
    policy = default_policy(min_severity="high", min_interval_seconds=60, cooling_period_seconds=300)

    decision = decide(make_input(severity="low", policy=policy, trace_replans=replans(10)))

    assert decision.veto == "severity_too_low"


def test_interval_wins_over_cooling():
    policy = default_policy(min_interval_seconds=60, cooling_period_seconds=300)

    assert decide(make_input(policy=policy, trace_replans=replans(10))).veto == "interval"


# --- critical triggers -------------------------------------------------------

def test_critical_trigger_skips_cooling():
    policy = default_policy(min_interval_seconds=60, cooling_period_seconds=300)

    decision = decide(make_input(severity="critical", policy=policy, trace_replans=replans(90)))

    assert decision.approved is True


def test_critical_trigger_still_respects_interval():
    policy = default_policy(min_interval_seconds=60, cooling_period_seconds=300)

    decision = decide(make_input(severity="critical", policy=policy, trace_replans=replans(30)))

    assert decision.veto == "interval"


# --- breaker -----------------------------------------------------------------

def test_breaker_opens_when_half_of_the_window_failed():
    assert tripped([True, False, True, False], default_policy()) is True


def test_breaker_stays_closed_when_a_quarter_failed():
    assert tripped([True, True, True, False], default_policy()) is False


def test_breaker_stays_closed_below_min_samples():
    assert tripped([False, False, False], default_policy()) is False


def test_breaker_closes_once_successes_push_failures_out_of_the_window():
    policy = default_policy(breaker_window=4)
    outcomes = [False, False, False, False]
    assert tripped(outcomes, policy) is True

    outcomes += [True, True, True]

    # The window now holds [False, True, True, True]: 1 of 4 failed.
    assert tripped(outcomes, policy) is False


def test_breaker_only_counts_the_window():
    policy = default_policy(breaker_window=4)

    assert tripped([False] * 10 + [True] * 4, policy) is False


# --- apply_patch -------------------------------------------------------------

def test_multiply_keeps_ints_ints():
    after = apply_patch(PLAN, PatchSpec(multiply={"params.days": 4}))

    assert after["params"]["days"] == 4
    assert isinstance(after["params"]["days"], int)


def test_multiply_halves_a_limit_to_an_int():
    after = apply_patch(PLAN, PatchSpec(multiply={"params.limit": 0.5}))

    assert after["params"]["limit"] == 50
    assert isinstance(after["params"]["limit"], int)


def test_multiply_keeps_ints_as_whole_counts_and_floats_as_floats():
    after = apply_patch({"params": {"limit": 5, "ratio": 5.0}},
                        PatchSpec(multiply={"params.limit": 0.5, "params.ratio": 0.5}))

    assert after["params"] == {"limit": 2, "ratio": 2.5}


def test_multiply_ignores_missing_and_non_numbers():
    plan = {"params": {"days": "7", "flag": True}}

    after = apply_patch(plan, PatchSpec(multiply={"params.days": 2, "params.flag": 2, "params.nope": 2, "x.y": 2}))

    assert after == plan


def test_cap_limits_numbers_after_multiply():
    after = apply_patch({"params": {"days": 10}}, PatchSpec(multiply={"params.days": 4}, cap={"params.days": 30}))

    assert after["params"]["days"] == 30
    assert isinstance(after["params"]["days"], int)


def test_cap_leaves_smaller_values_and_missing_paths_alone():
    after = apply_patch({"params": {"days": 3}}, PatchSpec(cap={"params.days": 30, "params.limit": 10}))

    assert after == {"params": {"days": 3}}


def test_set_creates_intermediate_dicts():
    after = apply_patch({}, PatchSpec(set={"limits.max_blocks": 2, "limits.max_rows_per_block": 10}))

    assert after == {"limits": {"max_blocks": 2, "max_rows_per_block": 10}}


def test_remove_drops_keys_and_ignores_missing_paths():
    after = apply_patch(PLAN, PatchSpec(remove=["params.environment", "params.nope", "nope.deeper"]))

    assert after["params"] == {"days": 1, "limit": 100}


def test_apply_patch_never_mutates_the_input():
    plan = copy.deepcopy(PLAN)
    spec = PatchSpec(multiply={"params.days": 4}, set={"params.extra.x": 1}, remove=["params.environment"])

    after = apply_patch(plan, spec)
    after["params"]["days"] = 99

    assert plan == PLAN


def test_set_value_is_copied_not_shared():
    value = {"a": [1]}
    after = apply_patch({}, PatchSpec(set={"x": value}))

    after["x"]["a"].append(2)

    assert value == {"a": [1]}


# --- approved decisions ------------------------------------------------------

def test_approved_auto_retry_widens_the_time_range():
    decision = decide(make_input())

    assert decision.approved is True
    assert decision.decision == "auto_retry"
    assert decision.veto == ""
    assert decision.reason == "approved: auto_retry from execute (replan 1 of 2)"
    assert (decision.attempt, decision.max_attempts) == (1, 2)
    assert decision.scope == "execute"
    assert decision.guidance == "widened the time range and dropped the environment filter"
    assert decision.patch.before == PLAN
    assert decision.patch.after == {"asset": "errors_by_service", "params": {"days": 4, "limit": 100}}


def test_approved_patch_gives_rfc6902_operations():
    ops = decide(make_input()).patch.json_patch()

    assert {"op": "replace", "path": "/params/days", "value": 4} in ops
    assert {"op": "remove", "path": "/params/environment"} in ops
    assert len(ops) == 2


def test_second_replan_is_attempt_two():
    decision = decide(make_input(trigger_type="error", trace_replans=replans(60)))

    assert decision.reason == "approved: auto_retry from execute (replan 2 of 2)"
    assert decision.attempt == 2


def test_present_limit_retries_from_present_with_smaller_limits():
    decision = decide(make_input(trigger_type="present_limit"))

    assert decision.scope == "present"
    assert decision.patch.after["limits"] == {"max_blocks": 2, "max_rows_per_block": 10}


def test_ask_user_decision_does_not_patch():
    decision = decide(make_input(trigger_type="slot_missing"))

    assert decision.approved is True
    assert decision.decision == "ask_user"
    assert decision.reason == "policy says ask_user for slot_missing"
    assert decision.guidance == "name the system you mean, e.g. checkout-api"
    assert decision.patch.before == decision.patch.after == PLAN


@pytest.mark.parametrize("trigger_type", ["tool_error_fatal", "policy_violation", "unknown"])
def test_stop_with_guidance_decision_does_not_patch(trigger_type):
    decision = decide(make_input(trigger_type=trigger_type))

    assert decision.approved is True
    assert decision.decision == "stop_with_guidance"
    assert decision.reason == f"policy says stop_with_guidance for {trigger_type}"
    assert decision.guidance
    assert decision.patch.json_patch() == []


def test_trigger_without_rule_stops():
    decision = decide(make_input(policy=default_policy(rules={})))

    assert decision.decision == "stop_with_guidance"
    assert decision.patch.before == decision.patch.after


def test_decide_does_not_mutate_the_plan():
    data = make_input()

    decide(data)

    assert data.plan == PLAN


# --- determinism -------------------------------------------------------------

def test_same_input_gives_same_decision():
    policy = default_policy(max_replans=3, min_interval_seconds=60, cooling_period_seconds=300)
    data = make_input(policy=policy, trace_replans=replans(400), outcomes=[True, False, True])

    first, second = decide(data), decide(copy.deepcopy(data))

    assert first == second
    assert first.model_dump(mode="json") == second.model_dump(mode="json")


def test_default_policy_copies_rules():
    policy = default_policy()

    policy.rules["empty_result"].guidance = "changed"

    assert DEFAULT_RULES["empty_result"].guidance != "changed"


def test_open_breaker_half_opens_after_its_cool_down():
    failing = [False, False, False, False]
    assert decide(make_input(outcomes=failing, last_outcome_at=ago(299))).veto == "breaker_open"
    trial = decide(make_input(outcomes=failing, last_outcome_at=ago(301)))
    assert trial.approved and trial.veto == ""


def test_breaker_only_blocks_automatic_replans():
    failing = [False, False, False, False]
    asked = decide(make_input(trigger_type="slot_missing", outcomes=failing))
    assert asked.approved and asked.decision == "ask_user" and asked.veto == ""
    stopped = decide(make_input(trigger_type="policy_violation", outcomes=failing))
    assert stopped.veto == "" and stopped.decision == "stop_with_guidance"
