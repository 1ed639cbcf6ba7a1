"""The payload budget of one trace answer (inspector/trace_payloads.py)."""

from hypothesis import given
from hypothesis import strategies as st

from inspector.trace_payloads import payloads_within_limit


def test_everything_fits_under_the_limit():
    budget = payloads_within_limit([(1, 100), (2, 200)], 1000)
    assert budget.included == {1, 2} and budget.included_bytes == 300 and budget.omitted == ()


def test_a_stage_that_does_not_fit_is_omitted_and_smaller_later_ones_still_go_in():
    budget = payloads_within_limit([(1, 100), (2, 5000), (3, 200)], 1000)
    assert budget.included == {1, 3} and budget.omitted == (2,) and budget.included_bytes == 300


def test_exactly_the_limit_fits():
    assert payloads_within_limit([(1, 1000)], 1000).included == {1}


@given(st.lists(st.integers(min_value=0, max_value=5000), max_size=30), st.integers(min_value=0, max_value=20_000))
def test_never_over_the_limit_and_every_stage_is_either_in_or_named(sizes, limit):
    runs = list(enumerate(sizes))
    budget = payloads_within_limit(runs, limit)
    assert budget.included_bytes <= limit
    assert budget.included_bytes == sum(size for run_id, size in runs if run_id in budget.included)
    assert set(budget.omitted) | budget.included == {run_id for run_id, _ in runs}
    assert not set(budget.omitted) & budget.included
    assert all(limit - budget.included_bytes < sizes[run_id] for run_id in budget.omitted[-1:])
