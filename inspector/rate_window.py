"""Sliding-window rate arithmetic over two fixed-window counters (pure; inspector/throttles.py stores the counters).

A rate of N per period keeps one integer per fixed window of one period. The
sliding window ending now covers the elapsed part of the current window plus
the rest of the previous one; the previous window's requests are assumed to
have been spread evenly over it, so it counts with weight ``1 - elapsed``.
That gives the fairness of a sliding log (no burst of 2N across a window edge)
at the cost of two integers, whatever the rate.
"""

from __future__ import annotations

from dataclasses import dataclass

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}  # DRF's format: "12000/minute", "5/s"
NO_LIMIT = ("", "none")


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def parse_rate(text: str) -> Rate | None:
    """``"12000/minute"`` → ``Rate(12000, 60)``; ``""`` or ``"none"`` → None (no limit)."""
    if text in NO_LIMIT:
        return None
    number, period = text.split("/")
    return Rate(limit=int(number), seconds=PERIOD_SECONDS[period.strip()[0]])


def window_at(now: float, seconds: int) -> tuple[int, float]:
    """The fixed window holding ``now`` (its number since the epoch) and the fraction of it already elapsed."""
    index = int(now // seconds)
    return index, (now - index * seconds) / seconds


def weighted_count(previous: int, current: int, elapsed: float) -> float:
    """Requests in the sliding window ending now: the current window's, plus the previous one's still inside it."""
    return previous * (1.0 - elapsed) + current


def fits(previous: int, current: int, elapsed: float, limit: int) -> bool:
    """Whether the sliding window is within the limit; ``current`` already includes the request's own cost."""
    return weighted_count(previous, current, elapsed) <= limit


def seconds_until_fits(previous: int, current: int, elapsed: float, cost: int, rate: Rate) -> float | None:
    """How long until a request of ``cost`` fits if nothing else arrives (0.0: it fits now).

    ``current`` excludes the request. None when it can never fit (``cost`` above
    the limit): waiting does not help, so there is no time to give.
    """
    if cost > rate.limit:
        return None
    room = rate.limit - cost - current  # what the previous window's weighted share must shrink to
    if room >= 0:
        if previous <= room:
            return 0.0
        return max(0.0, (1.0 - room / previous) - elapsed) * rate.seconds
    # Not within this window: the current window becomes the previous one and fades in turn.
    room = rate.limit - cost
    until_next = (1.0 - elapsed) * rate.seconds
    if current <= room:
        return until_next
    return until_next + (1.0 - room / current) * rate.seconds
