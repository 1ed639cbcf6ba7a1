"""Liveness (``/healthz``) answers while the process runs; readiness (``/readyz``) names the database or broker that is down.

"Down" is real, never the shared services stopped: the database is a
connection pointed at a local port nobody listens on, the broker a Redis URL
on such a port (refused) or a server that accepts and never answers (hung).
Run with ``-s`` for the measured answer times (docs/reliability.md quotes them).
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler
from django.test import Client

from tests.reliability.conftest import _reachable, celery_publishing_to, need


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_down(monkeypatch) -> int:
    """The readiness check's database connection points at a closed local port."""
    import opsproject.health

    port = _closed_port()
    dead = ConnectionHandler({"default": {
        "ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": str(port), "NAME": "ops",
        "USER": "ops", "PASSWORD": "secret-never-shown", "OPTIONS": {"connect_timeout": 2}}})
    monkeypatch.setattr(opsproject.health, "connections", dead)
    yield port
    dead.close_all()


@pytest.fixture
def live_broker_url() -> str:
    parts = urlsplit(settings.CELERY_BROKER_URL)
    need(parts.scheme == "redis" and _reachable(parts.hostname or "127.0.0.1", parts.port or 6379),
         "needs the Redis broker (CELERY_BROKER_URL=redis://127.0.0.1:6379/0)")
    return settings.CELERY_BROKER_URL


def _get(path: str):
    started = time.monotonic()
    response = Client().get(path)  # anonymous, as a load balancer or kubelet asks
    return response, time.monotonic() - started


def test_liveness_needs_nothing_but_the_process():
    """No database access at all is allowed in this test (no django_db mark): /healthz must not need it."""
    response, _ = _get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_with_the_database_up_and_tasks_in_process():
    response, _ = _get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "not used"}, "down": []}


@pytest.mark.django_db
def test_ready_with_the_database_and_a_real_broker_up(live_broker_url):
    with celery_publishing_to(live_broker_url):
        response, _ = _get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_not_ready_while_the_database_is_down(database_down, caplog):
    response, elapsed = _get("/readyz")
    print(f"\n[measured] /readyz with the database port closed: {elapsed:.2f} s → {response.status_code}")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "down", "broker": "not used"},
                               "down": ["database"]}
    # Public endpoint: it says what is down, never where or with which credentials.
    assert str(database_down) not in response.content.decode() and "secret" not in response.content.decode()
    assert "database unreachable (OperationalError" in caplog.text  # a refused connection, nothing else


@pytest.mark.django_db
@pytest.mark.parametrize("broker", ["refused", "hung"])
def test_not_ready_while_the_broker_is_down(broker, request):
    url = request.getfixturevalue(f"{broker}_broker_url")
    with celery_publishing_to(url):
        response, elapsed = _get("/readyz")
    print(f"\n[measured] /readyz with the broker {broker}: {elapsed:.2f} s → {response.status_code}")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "down"},
                               "down": ["broker"]}
    assert str(urlsplit(url).port) not in response.content.decode()
    assert elapsed < settings.OPS_BROKER_TIMEOUT_S + 2  # one bounded attempt, not kombu's retries


@pytest.mark.django_db
def test_not_ready_names_both_when_both_are_down(database_down, refused_broker_url):
    with celery_publishing_to(refused_broker_url):
        response, _ = _get("/readyz")
    assert response.status_code == 503 and response.json()["down"] == ["broker", "database"]


def test_probes_over_plain_http_are_not_redirected_in_production(tmp_path):
    """With DEBUG off, HTTP is redirected to HTTPS, but not the probes: a kubelet counts a 301 as healthy."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = ("import django; django.setup(); from django.test import Client; c = Client(); "
              "print(c.get('/healthz').status_code, c.get('/readyz').status_code, c.get('/admin/').status_code)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsproject.settings", "DEBUG": "false",
           "SECRET_KEY": "x" * 20 + "probe-test-secret-key-not-for-use-anywhere-0123456789",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}", "CELERY_BROKER_URL": ""}
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.split() == ["200", "200", "301"], result.stderr
