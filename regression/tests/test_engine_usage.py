"""The usage rule (issue 18): tokens and cost rising past both thresholds, and a changed model."""

from __future__ import annotations

import pytest

from regression.engine import ScoringConfig, compare_pair, compare_stage
from regression.tests.test_engine_factories import snapshot, trace

BLOCKS = [{"type": "text", "text": "3 open incidents"}]


def _compose(input_tokens: int = 0, output_tokens: int = 0, *, cost: float | None = None, model: str = "gpt-4o",
             **extra):
    """A compose stage whose result reports this usage (``cost`` None: the stage gave none)."""
    usage = {"model": model, "input_tokens": input_tokens, "output_tokens": output_tokens, **extra}
    if cost is not None:
        usage["cost"] = cost
    return snapshot("compose", result={"blocks": BLOCKS, "usage": usage})


def _usage_issues(result) -> list[tuple[str, str, int]]:
    return [(issue.kind, issue.pointer, issue.penalty) for issue in result.issues]


def _tokens_penalty(before: int, after: int, config: ScoringConfig | None = None) -> int:
    result = compare_stage(_compose(before), _compose(after), config)
    return sum(issue.penalty for issue in result.issues if issue.kind == "tokens_increased")


def _cost_penalty(before: float, after: float, *, tokens: tuple[int, int] = (1000, 1000)) -> int:
    result = compare_stage(_compose(tokens[0], cost=before), _compose(tokens[1], cost=after))
    return sum(issue.penalty for issue in result.issues if issue.kind == "cost_increased")


@pytest.mark.parametrize(
    ("before", "after", "penalty"),
    [
        (1000, 1199, 0),  # +199 tokens, +19.9 %: below both thresholds
        (1000, 1200, 10),  # exactly +20 % and +200 tokens
        (500, 699, 0),  # +39.8 % but only 199 tokens
        (500, 700, 10),  # +40 % and 200 tokens
        (10_000, 11_999, 0),  # 1,999 tokens but only 19.99 %
        (1000, 1999, 10),  # +99.9 %: not yet severe
        (1000, 2000, 25),  # a doubling: severe
        (1000, 3000, 25),
        (0, 200, 25),  # from no tokens: a relative change is undefined, treated as severe
        (0, 199, 0),  # ... still only from tokens_min on
    ],
)
def test_tokens_need_both_relative_and_absolute_rise(before, after, penalty):
    assert _tokens_penalty(before, after) == penalty


def test_tokens_are_input_plus_output():
    result = compare_stage(_compose(900, 100), _compose(900, 1100))

    assert _usage_issues(result) == [("tokens_increased", "/result/usage", 25)]
    issue = result.issues[0]
    assert (issue.baseline, issue.candidate) == (1000, 2000)
    assert issue.message == ("compose: used 2,000 tokens instead of 1,000 (+1,000, +100%; "
                             "input 900 → 900, output 100 → 1,100).")


def test_a_doubling_of_tokens_alone_is_at_least_warn():
    result = compare_pair(trace(_compose(1000)), trace(_compose(2000)))

    assert (result.score, result.verdict) == (25, "WARN")


def test_fewer_tokens_are_an_improvement_not_a_penalty():
    result = compare_stage(_compose(3000), _compose(1000))

    assert result.issues == [] and result.score == 0
    assert result.improvements == ["tokens fell from 3,000 to 1,000 (-66.67%)"]


def test_a_small_fall_is_neither_penalised_nor_noted():
    result = compare_stage(_compose(1000), _compose(900))

    assert result.issues == [] and result.improvements == []


def test_tokens_within_the_baseline_spread_are_not_penalised_and_noted():
    result = compare_stage(_compose(1000), _compose(1500), noise={"tokens": 600.0})

    assert result.issues == []
    assert result.noise_ignored == ["tokens: change of +500 is within the baseline spread of 600"]


def test_tokens_beyond_the_baseline_spread_are_penalised():
    result = compare_stage(_compose(1000), _compose(1500), noise={"tokens": 400.0})

    assert _usage_issues(result) == [("tokens_increased", "/result/usage", 10)]


@pytest.mark.parametrize(
    ("before", "after", "penalty"),
    [
        (0.010, 0.0119, 0),  # +19 %: below cost_change_pct
        (0.010, 0.012, 10),  # +20 % and +0.002
        (0.002, 0.0029, 0),  # +45 % but only +0.0009
        (0.002, 0.003, 10),  # +50 % and +0.001
        (0.010, 0.020, 25),  # a doubling: severe
    ],
)
def test_cost_needs_both_relative_and_absolute_rise(before, after, penalty):
    assert _cost_penalty(before, after) == penalty


def test_cost_alone_rises_when_the_model_costs_more_per_token():
    result = compare_stage(_compose(1000, cost=0.01, model="small"), _compose(1000, cost=0.05, model="large"))

    assert _usage_issues(result) == [("model_changed", "/result/usage/model", 10),
                                     ("cost_increased", "/result/usage/cost", 25)]
    assert result.issues[1].message == "compose: cost 0.05 instead of 0.01 (+0.04, +400%)."
    assert result.score == 35


def test_tokens_and_cost_rising_together_are_charged_the_larger_not_the_sum():
    result = compare_stage(_compose(1000, cost=0.01), _compose(1300, cost=0.02))

    # +30 % tokens (10) and a doubled cost (25): the stage pays 25, not 35.
    assert _usage_issues(result) == [("tokens_increased", "/result/usage", 10),
                                     ("cost_increased", "/result/usage/cost", 15)]
    assert "tokens_increased already charges 10, this adds 15" in result.issues[1].message
    assert result.score == 25


def test_a_doubling_of_tokens_and_cost_is_warn_not_fail():
    result = compare_pair(trace(_compose(1000, cost=0.01)), trace(_compose(2000, cost=0.02)))

    assert [issue.penalty for issue in result.issues] == [25, 0]
    assert (result.score, result.verdict) == (25, "WARN")


def test_cost_is_not_compared_when_a_side_does_not_know_it():
    # The baseline's tokens were never priced (no cost given): 0 is not its cost.
    result = compare_stage(_compose(1000), _compose(1000, cost=0.05))

    assert result.issues == [] and result.improvements == []


def test_cost_from_a_stage_that_used_nothing_counts():
    # No usage at all costs 0 for sure: a stage that newly calls a model is charged once, as the larger.
    # The new result.usage object itself is the usage rule's, not an output_added.
    result = compare_stage(snapshot("compose", result={"blocks": BLOCKS}), _compose(1000, cost=0.01))

    assert _usage_issues(result) == [("tokens_increased", "/result/usage", 25),
                                     ("cost_increased", "/result/usage/cost", 0)]


def test_cheaper_is_an_improvement():
    result = compare_stage(_compose(1000, cost=0.05), _compose(1000, cost=0.01))

    assert result.issues == [] and result.improvements == ["cost fell from 0.05 to 0.01 (-80%)"]


def test_cost_within_the_baseline_spread_is_not_penalised():
    result = compare_stage(_compose(1000, cost=0.01), _compose(1000, cost=0.02), noise={"cost": 0.015})

    assert result.issues == []
    assert result.noise_ignored == ["cost: change of +0.01 is within the baseline spread of 0.015"]


def test_a_changed_model_costs_10_and_is_not_critical():
    result = compare_pair(trace(_compose(1000, model="gpt-4o")), trace(_compose(1000, model="gpt-4o-mini")))

    assert _usage_issues(result.stages[0]) == [("model_changed", "/result/usage/model", 10)]
    assert result.critical_issues == [] and result.verdict == "PASS"
    assert result.issues[0].message == "compose: model changed from 'gpt-4o' to 'gpt-4o-mini'."


def test_a_model_named_on_one_side_only_is_no_change():
    result = compare_stage(_compose(1000, model=""), _compose(1000, model="gpt-4o"))

    assert result.issues == []


def test_usage_jitter_is_not_also_charged_as_an_output_change():
    # Every field under result.usage moved (within the thresholds) and a provider key appeared:
    # the structural rule leaves them to the usage rule, which finds nothing to charge.
    baseline = _compose(1000, 100, cost=0.0100, cached_tokens=0)
    candidate = _compose(1050, 110, cost=0.0105, cached_tokens=512, reasoning_tokens=64)

    result = compare_stage(baseline, candidate)

    assert result.issues == [] and result.score == 0
    assert "/result/usage/input_tokens" in result.diff.changed  # still shown in the diff, only not charged


def test_a_real_output_change_next_to_usage_is_still_charged():
    baseline = _compose(1000)
    candidate = snapshot("compose", result={"blocks": [{"type": "text", "text": "4 open incidents"}],
                                            "usage": {"model": "gpt-4o", "input_tokens": 1000}})

    assert _usage_issues(compare_stage(baseline, candidate)) == [
        ("output_changed", "/result/blocks/0/text", 2)]


def test_usage_thresholds_are_configurable():
    config = ScoringConfig.from_overrides({"tokens_change_pct": 5, "tokens_min": 10, "tokens_penalty": 7})

    assert _tokens_penalty(1000, 1050, config) == 7
