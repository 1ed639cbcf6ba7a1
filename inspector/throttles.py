"""Per-user rate limits on the expensive writes: trace ingest and pipeline runs."""

from __future__ import annotations

import time
from contextlib import suppress

from django.conf import settings
from django.core.cache import cache as default_cache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from inspector.rate_window import fits, parse_rate, seconds_until_fits, window_at


class WriteRateThrottle(BaseThrottle):
    """``throttle_scope`` on a view limits its unsafe methods only (a list GET is not an ingest).

    Rates come from ``settings.OPS_THROTTLE_RATES`` at request time (DRF copies
    its own setting at import, which tests and deployments cannot change
    later); ``none`` switches a scope off. Counters live in the default cache:
    point ``CACHE_URL`` at Redis when several processes serve the API.

    A view may weigh a request with ``throttle_cost(request)`` (a batch ingest
    counts as its number of traces): the request passes only if all of its
    cost fits in what is left of the rate.

    Each user and scope has one integer per fixed window (inspector/rate_window.py
    weighs the previous one in), so a request costs one read and one atomic
    increment whatever the rate. DRF's ScopedRateThrottle kept one timestamp
    per request: at 12,000/minute every ingest read and rewrote 12,000 floats.
    """

    cache = default_cache
    timer = time.time

    def allow_request(self, request, view) -> bool:
        self.retry_after = None
        scope = getattr(view, "throttle_scope", None)
        if request.method in SAFE_METHODS or not scope:
            return True
        rate = parse_rate(settings.OPS_THROTTLE_RATES.get(scope, "none"))
        if rate is None:
            return True
        cost = view.throttle_cost(request) if hasattr(view, "throttle_cost") else 1
        index, elapsed = window_at(self.timer(), rate.seconds)
        key = f"throttle:{scope}:{self._ident(request)}:{rate.seconds}:"
        previous = self.cache.get(f"{key}{index - 1}", 0)
        # Count first, then check, then roll back a refusal: the increment is
        # atomic (INCRBY on Redis, a lock in local memory), so every admitted
        # request saw all admitted before it and the limit is never exceeded.
        # The race left: a request being rolled back still counts for the ones
        # incrementing meanwhile, so near the limit concurrent requests may be
        # refused although one of them would have fit (never the reverse). A
        # request crossing a window edge may also read the previous window just
        # before another request adds to it (at most the in-flight requests).
        current = self._add(f"{key}{index}", cost, timeout=2 * rate.seconds)
        if fits(previous, current, elapsed, rate.limit):
            return True
        self._remove(f"{key}{index}", cost)
        self.retry_after = seconds_until_fits(previous, current - cost, elapsed, cost, rate)
        return False

    def wait(self) -> float | None:
        """Seconds until the refused request would fit (Retry-After); None if it never can (its cost exceeds the rate)."""
        if self.retry_after is None:
            return None
        return max(self.retry_after, 1.0)  # DRF sends no Retry-After for 0

    def _ident(self, request):
        user = getattr(request, "user", None)
        return user.pk if user is not None and user.is_authenticated else self.get_ident(request)

    def _add(self, key: str, cost: int, timeout: int) -> int:
        """Add ``cost`` to the window's counter and answer its new value.

        The counter outlives its window by one more (it is the next window's
        ``previous``); the expiry is set once, when the window's first request
        creates it, and increments keep it.
        """
        try:
            return self.cache.incr(key, cost)
        except ValueError:  # the window's first request
            if self.cache.add(key, cost, timeout):
                return cost
            return self.cache.incr(key, cost)  # another request created it in between

    def _remove(self, key: str, cost: int) -> None:
        with suppress(ValueError):  # expired: nothing left to take back
            self.cache.decr(key, cost)
