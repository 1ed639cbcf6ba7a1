"""Fault-injection helpers: real brokers, workers and database connections, failed on purpose.

Tests that need PostgreSQL or Redis skip without them, except under ``CI=true``,
where a missing service is a failure (CI provides both).
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from inspector.services import trace_ingest
from testkit.factories import trace_body
from testkit.parallel import scratch_redis_url


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip unless ``condition``; under CI=true fail instead of skipping."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres():
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def redis_url(postgres) -> str:
    """A Redis database of its own on the configured broker, so no other worker takes these messages."""
    url = settings.CELERY_BROKER_URL
    parts = urlsplit(url)
    need(parts.scheme == "redis" and _reachable(parts.hostname or "127.0.0.1", parts.port or 6379),
         "needs the Redis broker (CELERY_BROKER_URL=redis://127.0.0.1:6379/0)")
    return scratch_redis_url(url)


def trace_pair(prefix: str) -> tuple[str, str]:
    """Store a baseline trace and a candidate whose execute stage errs; their trace ids."""
    trace_ingest(payload=trace_body(trace_id=f"{prefix}-base"))
    candidate = trace_body(trace_id=f"{prefix}-cand")
    candidate["stages"][2]["output"]["diagnostics"]["status"] = "error"
    trace_ingest(payload=candidate)
    return f"{prefix}-base", f"{prefix}-cand"


def database_url() -> str:
    """The test database, as a URL another process can use."""
    conf = connection.settings_dict
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


def _reset_broker_pool(app) -> None:
    from kombu import pools

    # kombu keeps pools per connection URL, process-wide: close and forget them all.
    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def celery_publishing_to(url: str):
    """Send tasks to ``url`` for real (not eagerly), with the project's publish timeouts and retry policy."""
    from opsproject.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager, os.environ.get("CELERY_BROKER_URL"))
    _reset_broker_pool(app)
    # Celery reads CELERY_BROKER_URL from the environment before its own settings.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        _reset_broker_pool(app)
        app.conf.broker_url, app.conf.task_always_eager = saved[:2]
        if saved[2] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved[2]


@pytest.fixture
def refused_broker_url() -> str:
    """A Redis URL on a local port nobody listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def hung_broker_url():
    """A Redis URL whose server accepts connections and never answers (a hung or half-dead broker)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_ignore() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                continue
            held.append(client)

    thread = threading.Thread(target=accept_and_ignore, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=2)
        for client in held:
            client.close()
        server.close()
