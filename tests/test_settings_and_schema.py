"""Settings fail loudly in production without a secret; the OpenAPI schema and docs are served offline."""

import os
import subprocess
import sys

import pytest

from opsproject.env import envbool, envint


def _import_settings(**env):
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", "import opsproject.settings"], check=False, env=full_env, capture_output=True, text=True
    )


def test_debug_off_without_secret_key_fails_loudly():
    result = _import_settings(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


STRONG_SECRET = "tP3x9-Qw7Lm2Vz8Rk4Hs6Jd1Fg5Nb0Yc_Ue7Io2Pa9Sl4Kj3Xq8Wm6Ze1Rt5Gy0Bv"


def test_debug_off_with_real_secret_starts():
    result = _import_settings(DEBUG="false", SECRET_KEY=STRONG_SECRET)
    assert result.returncode == 0, result.stderr


def test_debug_off_rejects_short_or_repetitive_secrets():
    assert _import_settings(DEBUG="false", SECRET_KEY="k" * 60).returncode != 0
    assert _import_settings(DEBUG="false", SECRET_KEY=STRONG_SECRET[:40]).returncode != 0


def test_production_settings_pass_the_deploy_check():
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": STRONG_SECRET, "ALLOWED_HOSTS": "ops.example.com"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in tests; never in deployment
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            check=False, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_helpers_reject_malformed_values(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("X_BOOL", "maybe")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured):
        envbool("X_BOOL", False)
    with pytest.raises(ImproperlyConfigured):
        envint("X_INT", 1)
    monkeypatch.setenv("X_INT", "-3")
    with pytest.raises(ImproperlyConfigured):
        envint("X_INT", 1, minimum=0)


@pytest.mark.django_db
def test_schema_lists_the_api_paths(viewer_client):
    response = viewer_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/inspector/traces",
        "/inspector/traces/{trace_id}",
        "/inspector/traces/{trace_id}/stages/{stage}",
        "/asset-registry/assets",
        "/asset-registry/assets/{id}/versions",
        "/asset-registry/assets/{id}/publish",
        "/asset-registry/assets/{id}/rollback",
    ):
        assert path in paths


@pytest.mark.django_db
def test_swagger_ui_uses_bundled_assets(viewer_client):
    response = viewer_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar" in html and "cdn" not in html.lower()


@pytest.mark.django_db
def test_schema_needs_a_login(anon_client):
    assert anon_client.get("/api/schema/").status_code == 401
