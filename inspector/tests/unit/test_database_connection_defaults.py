"""Production keeps database connections across requests by default; a laptop and the tests do not.

Lives with the ingest tests because ingest is what it speeds up (docs/deploy.md).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "conn-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"}


def _database_settings(**env) -> dict:
    full_env = {**os.environ, "DATABASE_URL": "postgres://ops@db.example:5432/ops", **env}
    for name in ("DB_CONN_MAX_AGE", "DB_CONN_HEALTH_CHECKS", "DEBUG"):
        if name not in env:
            full_env.pop(name, None)
    script = ("import json, opsproject.settings as s; d = s.DATABASES['default']; "
              "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']]))")
    result = subprocess.run([sys.executable, "-c", script], env=full_env, cwd=Path(__file__).resolve().parents[3],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    max_age, health_checks = json.loads(result.stdout)
    return {"max_age": max_age, "health_checks": health_checks}


def test_production_keeps_connections_for_a_minute_and_checks_them():
    assert _database_settings(**PRODUCTION) == {"max_age": 60, "health_checks": True}


def test_debug_opens_a_connection_per_request_as_before():
    assert _database_settings() == {"max_age": 0, "health_checks": True}


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("600", 600)])
def test_the_environment_still_decides(value, expected):
    assert _database_settings(**PRODUCTION, DB_CONN_MAX_AGE=value)["max_age"] == expected
