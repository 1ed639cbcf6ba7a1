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
    """

    def allow_request(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)

    def get_rate(self):
        rate = settings.OPS_THROTTLE_RATES.get(self.scope, "none")
        return None if rate in ("", "none") else rate
