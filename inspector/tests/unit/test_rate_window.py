"""The sliding-window arithmetic behind the write rate limits (inspector/rate_window.py)."""

import pytest

from inspector.rate_window import Rate, fits, parse_rate, seconds_until_fits, weighted_count, window_at

PER_MINUTE_10 = Rate(limit=10, seconds=60)


@pytest.mark.parametrize(("text", "rate"), [
    ("12000/minute", Rate(12000, 60)), ("5/s", Rate(5, 1)), ("3/hour", Rate(3, 3600)), ("1/day", Rate(1, 86400)),
    ("none", None), ("", None),
])
def test_rates_are_read_in_drf_format_and_none_means_no_limit(text, rate):
    assert parse_rate(text) == rate


def test_the_window_is_numbered_from_the_epoch_with_the_elapsed_fraction():
    assert window_at(120.0, 60) == (2, 0.0)
    assert window_at(135.0, 60) == (2, 0.25)
    assert window_at(179.999, 60)[0] == 2 and window_at(180.0, 60) == (3, 0.0)


def test_the_previous_window_fades_out_as_the_current_one_elapses():
    assert weighted_count(previous=8, current=2, elapsed=0.0) == 10
    assert weighted_count(previous=8, current=2, elapsed=0.25) == 8
    assert weighted_count(previous=8, current=2, elapsed=1.0) == 2


def test_a_burst_at_the_end_of_a_window_still_counts_right_after_the_edge():
    # A fixed window would allow 10 more at elapsed 0.0; the sliding one refuses until the burst fades.
    assert not fits(previous=10, current=1, elapsed=0.0, limit=10)
    assert not fits(previous=10, current=1, elapsed=0.05, limit=10)
    assert fits(previous=10, current=1, elapsed=0.1, limit=10)


def test_what_fits_now_needs_no_wait():
    assert seconds_until_fits(previous=0, current=3, elapsed=0.5, cost=7, rate=PER_MINUTE_10) == 0.0


def test_the_wait_within_the_window_is_until_the_previous_window_has_faded_enough():
    # 8 * (1 - e) + 2 + 2 <= 10  ⇔  e >= 0.25: 15 s into the window; now is 6 s in.
    assert seconds_until_fits(previous=8, current=2, elapsed=0.1, cost=2, rate=PER_MINUTE_10) == pytest.approx(9.0)


def test_the_wait_runs_to_the_next_window_when_the_current_one_is_full():
    # 10 used this window, 30 s left; next window 10 * (1 - e) + 1 <= 10 ⇔ e >= 0.1: 6 s more.
    assert seconds_until_fits(previous=0, current=10, elapsed=0.5, cost=1, rate=PER_MINUTE_10) == pytest.approx(36.0)
    # 5 used, a batch of 6: not in this window; the next one starts with 5 weighted, 5 + 6 > 10 until e >= 0.2.
    assert seconds_until_fits(previous=0, current=5, elapsed=0.5, cost=6, rate=PER_MINUTE_10) == pytest.approx(42.0)
    # 2 used, a batch of 8, exactly the room left once the previous window has faded: at the window's end.
    assert seconds_until_fits(previous=10, current=2, elapsed=0.5, cost=8, rate=PER_MINUTE_10) == pytest.approx(30.0)


def test_the_wait_is_consistent_with_fits():
    for previous, current, elapsed, cost in [(8, 2, 0.1, 2), (0, 10, 0.5, 1), (0, 5, 0.5, 6), (7, 3, 0.9, 4)]:
        wait = seconds_until_fits(previous, current, elapsed, cost, PER_MINUTE_10)
        later = elapsed + wait / 60 + 1e-9
        if later < 1:
            assert fits(previous, current + cost, later, 10)
        else:
            assert fits(current, cost, later - 1, 10)
        assert not fits(previous, current + cost, elapsed, 10) or wait == 0.0


def test_a_cost_above_the_limit_never_fits_so_there_is_no_wait_to_give():
    assert seconds_until_fits(previous=0, current=0, elapsed=0.0, cost=11, rate=PER_MINUTE_10) is None
