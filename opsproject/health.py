"""Liveness and readiness probes (docs/deploy.md#health-checks).

``/healthz`` answers 200 while the process can answer at all: restart the
process when it fails. ``/readyz`` also reaches the database and the broker:
send no traffic while it answers 503. Both are public, so they name what is
down and nothing more (no host, port or error text).
"""

from __future__ import annotations

import logging

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def database_reachable() -> bool:
    """The default database answers a query.

    Django drops a connection that failed when the request ends
    (``close_old_connections``), so the next probe connects afresh.
    """
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 — any failure means not ready
        logger.warning("readiness: database unreachable (%s: %s)", type(exc).__name__, exc)
        return False
    return True


def broker_reachable() -> bool | None:
    """The Celery broker accepts a connection and answers; None when tasks run in-process (no broker).

    One attempt, bounded by the broker timeouts (OPS_BROKER_TIMEOUT_MS): 2 s for
    a broker that accepts and never answers, at once for a refused connection.
    """
    from opsproject.celery import app

    if app.conf.task_always_eager:
        return None
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)  # one attempt: the probe itself is retried
    except Exception as exc:  # noqa: BLE001 — any failure means not ready
        logger.warning("readiness: broker unreachable (%s: %s)", type(exc).__name__, exc)
        return False
    return True


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else, so a database outage does not restart every web process."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database and the broker are reachable, else 503 naming what is down."""
    checks = {"database": database_reachable(), "broker": broker_reachable()}
    down = sorted(name for name, ok in checks.items() if ok is False)
    body = {
        "status": "unavailable" if down else "ok",
        "checks": {name: "not used" if ok is None else "ok" if ok else "down" for name, ok in checks.items()},
        "down": down,
    }
    return JsonResponse(body, status=503 if down else 200)
