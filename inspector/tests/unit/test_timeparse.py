"""Query times: a plain date is its whole day (``to=`` includes it), a time is itself, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inspector.timeparse import parse_moment


def test_a_plain_date_ends_at_its_last_moment_when_it_closes_a_range():
    assert parse_moment("2026-11-27", end_of_day=True) == datetime(2026, 11, 27, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_moment("2026-11-27") == datetime(2026, 11, 27, tzinfo=UTC)


def test_a_time_is_read_as_given_and_kept_in_utc():
    assert parse_moment("2026-11-27T10:00:00+02:00", end_of_day=True) == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert parse_moment("") is None


@pytest.mark.parametrize("raw", ["2026-13-45", "yesterday", "2026-11-27T25:00"])
def test_anything_else_is_refused(raw):
    with pytest.raises(ValueError):
        parse_moment(raw)
