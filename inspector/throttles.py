"""Per-user rate limits on the expensive writes: trace ingest and pipeline runs."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle


class WriteRateThrottle(ScopedRateThrottle):
    """``throttle_scope`` on a view limits its unsafe methods only (a list GET is not an ingest).

    Rates come from ``settings.OPS_THROTTLE_RATES`` at request time (DRF copies
    its own setting at import, which tests and deployments cannot change
    later); ``none`` switches a scope off. Counters live in the default cache:
    point ``CACHE_URL`` at Redis when several processes serve the API.

    A view may weigh a request with ``throttle_cost(request)`` (a batch ingest
    counts as its number of traces): the request passes only if all of its
    cost fits in what is left of the rate.
    """

    def allow_request(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        self.scope = getattr(view, self.scope_attr, None)
        self.rate = self.get_rate() if self.scope else None
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        cost = view.throttle_cost(request) if hasattr(view, "throttle_cost") else 1
        if len(self.history) + cost > self.num_requests:
            return self.throttle_failure()
        self.history[:0] = [self.now] * cost
        self.cache.set(self.key, self.history, self.duration)
        return True

    def get_rate(self):
        rate = settings.OPS_THROTTLE_RATES.get(self.scope, "none")
        return None if rate in ("", "none") else rate
