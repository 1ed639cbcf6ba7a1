"""Attack fixtures: a tenant user as the issue's attacker, a TCP listener, the PostgreSQL query role."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from testkit.factories import UserFactory
from testkit.plugin import client_for, role_user

ATTACKER_TENANT = "acme"


@pytest.fixture
def admin_client(db):
    """A superuser's API client (here in place of pytest-django's ``admin_client``, a plain test client)."""
    return client_for(UserFactory(is_superuser=True, is_staff=True))


@pytest.fixture
def attacker(db, reference_assets):
    """Operator + asset editor of tenant acme: the README's own example of a tenant user."""
    user = role_user("operator", tenants=[ATTACKER_TENANT])
    user.groups.add(Group.objects.get(name="asset editor"))
    return user


@pytest.fixture
def attacker_client(attacker):
    return client_for(attacker)


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.server.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="session")
def query_role_url(django_db_setup, django_db_blocker):
    """The test database's inventory schema and read-only role, as an OPS_SOURCES URL (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI runs the query wall against PostgreSQL: set DATABASE_URL")
        pytest.skip("the database wall for queries needs PostgreSQL")
    from django.conf import settings
    from django.db import transaction

    from reference.query_role import QueryRole, query_role_setup

    with django_db_blocker.unblock(), transaction.atomic(), connection.cursor() as cursor:
        query_role_setup(cursor=cursor.cursor, wall=QueryRole(), inventory=settings.OPS_INVENTORY_PATH)
    db = connection.settings_dict
    return f"postgres://ops_query@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
