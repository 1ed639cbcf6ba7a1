"""Reading the ``from``/``to`` values of filters: an ISO 8601 time or a plain date."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


def parse_moment(raw: str | None, *, end_of_day: bool = False) -> datetime | None:
    """An aware datetime, ``None`` for an empty value; ``ValueError`` for anything unreadable.

    A plain date means its first moment, or its last one with ``end_of_day``
    (so ``to=2026-01-31`` includes that whole day).
    """
    if not raw:
        return None
    # A plain date first: Django's parse_datetime reads "2026-01-31" too, as its midnight.
    day = parse_date(raw) if len(raw.strip()) == 10 else None
    moment = datetime.combine(day, time.max if end_of_day else time.min) if day else parse_datetime(raw)
    if moment is None:
        raise ValueError(f"{raw!r} is not an ISO 8601 date or time")
    return to_utc(timezone.make_aware(moment) if timezone.is_naive(moment) else moment)


def to_utc(moment: datetime) -> datetime:
    """An aware ``moment`` in UTC; ``ValueError`` when UTC puts it outside the calendar.

    Query times are compared in UTC like stored ones: PostgreSQL refuses an
    offset beyond ±15:59, which Python (and so a query string) allows.
    """
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("date out of range") from exc
