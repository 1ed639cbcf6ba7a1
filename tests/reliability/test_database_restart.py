"""The database going away during ingest: the client gets a clear 503, no half-written trace, and recovers.

A real HTTP server (pytest-django's ``live_server``, the full WSGI request
cycle) on PostgreSQL. "Restart" is ``pg_terminate_backend()`` on the
ingesting connection, sent from a second connection while the trace row is
written but its stage runs are not: what the server does to every session
when it restarts or fails over.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import psycopg
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from inspector.models import StagePayload, StageRun, Trace, TraceAssetUsage
from inspector.services import trace_rows
from testkit.factories import UserFactory, trace_body

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_connection() -> psycopg.Connection:
    conf = connection.settings_dict
    return psycopg.connect(host=conf["HOST"] or "127.0.0.1", port=conf["PORT"] or 5432, user=conf["USER"],
                           password=conf["PASSWORD"] or None, dbname=conf["NAME"], autocommit=True)


def _terminate(pid: int) -> None:
    with _admin_connection() as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the backend did not go away"
            time.sleep(0.05)


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}") | {"_retry_after": error.headers.get("Retry-After")}


@pytest.fixture
def token(db) -> str:
    return Token.objects.create(user=UserFactory(is_superuser=True, is_staff=True)).key


def _rows() -> tuple[int, int, int, int]:
    return (Trace.objects.count(), StageRun.objects.count(), StagePayload.objects.count(),
            TraceAssetUsage.objects.count())


def test_database_killed_mid_ingest_gives_503_keeps_nothing_and_the_retry_succeeds(postgres, live_server, token,
                                                                                     monkeypatch):
    copy_rows = trace_rows._copy
    killed: list[int] = []

    def kill_the_connection_after_the_trace_insert(model, *args, **kwargs):
        # Runs in the server thread, inside the ingest transaction: the trace row is written, nothing else yet.
        if model is not Trace and not killed:
            killed.append(connection.connection.info.backend_pid)
            _terminate(killed[0])
        return copy_rows(model, *args, **kwargs)

    monkeypatch.setattr(trace_rows, "_copy", kill_the_connection_after_the_trace_insert)
    body = trace_body(trace_id="db-restart-1")
    before = _rows()

    status, answer = _post(f"{live_server.url}/inspector/traces", token, body)

    assert killed, "the fault was not injected"
    assert status == 503, answer
    assert "Database unavailable" in answer["detail"] and answer["_retry_after"] == "5"
    assert not Trace.objects.filter(trace_id="db-restart-1").exists()
    assert _rows() == before  # no trace, stage run, payload or usage row from the failed ingest

    # The server dropped the dead connection; the client's retry of the same body goes through, whole.
    status, answer = _post(f"{live_server.url}/inspector/traces", token, body)
    assert status == 201, answer
    trace = Trace.objects.get(trace_id="db-restart-1")
    assert StageRun.objects.filter(trace=trace).count() == 5
    assert StagePayload.objects.filter(stage_run__trace=trace).count() == 5
    assert _rows()[0] == before[0] + 1


@pytest.fixture
def one_thread_server():
    """The WSGI app served by one long-lived thread, as a sync gunicorn worker does, so connections persist.

    (``live_server`` handles each request in a new thread and closes its connections.)
    """
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)

    def serve() -> None:
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def test_database_restarted_between_requests_with_persistent_connections(postgres, one_thread_server, token,
                                                                         monkeypatch):
    """DB_CONN_MAX_AGE > 0 keeps a connection across requests; the health check replaces it once it is dead."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 600)
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    copy_rows = trace_rows._copy
    pids: list[int] = []

    def note_the_connection(model, *args, **kwargs):
        if model is Trace:
            pids.append(connection.connection.info.backend_pid)
        return copy_rows(model, *args, **kwargs)

    monkeypatch.setattr(trace_rows, "_copy", note_the_connection)
    assert _post(f"{one_thread_server}/inspector/traces", token, trace_body(trace_id="db-between-1"))[0] == 201
    _terminate(pids[0])  # the server's idle, persistent connection dies (database restart)

    status, answer = _post(f"{one_thread_server}/inspector/traces", token, trace_body(trace_id="db-between-2"))

    assert status == 201, answer  # not even one failed request
    assert pids[1] != pids[0]
    assert Trace.objects.filter(trace_id__in=["db-between-1", "db-between-2"]).count() == 2


def test_any_database_outage_in_the_api_is_a_503_with_a_json_detail(monkeypatch):
    """Whatever the database (SQLite too): OperationalError and InterfaceError never surface as a bare 500."""
    from django.db import InterfaceError, OperationalError

    from testkit.plugin import client_for

    client = client_for(UserFactory(is_superuser=True, is_staff=True))
    for error in (OperationalError("server closed the connection unexpectedly"), InterfaceError("connection closed")):
        def fail(error=error, **kwargs):
            raise error

        monkeypatch.setattr("inspector.services.trace_ingest", fail)
        response = client.post("/inspector/traces", trace_body(trace_id="db-any"), format="json")
        assert response.status_code == 503 and response["Retry-After"] == "5"
        assert response.json() == {"detail": "Database unavailable: the request was not completed. Retry shortly."}
