"""Admin changelists and change pages open, and never render full payloads."""

import pytest
from django.contrib.auth import get_user_model

from inspector.models import AssetVersion, StageRun
from inspector.services import asset_create, trace_ingest
from tests.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged(client):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.login(username="root", password="pw")
    return client


@pytest.fixture
def stored(db):
    trace, _ = trace_ingest(payload=trace_body(trace_id="t-admin", padding=30_000))
    asset = asset_create(tenant_id="default", asset_type="policy", name="budget", spec=VALID_SPECS["policy"])
    return trace, asset


@pytest.mark.parametrize(
    "url",
    [
        "/admin/inspector/trace/",
        "/admin/inspector/trace/?status__exact=success&q=checkout",
        "/admin/inspector/stagerun/",
        "/admin/inspector/traceassetusage/",
        "/admin/inspector/asset/",
        "/admin/inspector/assetversion/",
    ],
)
def test_changelists_open_without_payloads(admin_client_logged, stored, url):
    response = admin_client_logged.get(url)
    assert response.status_code == 200
    assert b"x" * 3000 not in response.content


def test_trace_change_page_shows_stages_without_payloads(admin_client_logged, stored):
    trace, _ = stored
    response = admin_client_logged.get(f"/admin/inspector/trace/{trace.pk}/change/")
    assert response.status_code == 200
    assert b"t-admin" in response.content and b"execute" in response.content
    assert b"x" * 3000 not in response.content


def test_stage_run_and_asset_pages_open(admin_client_logged, stored):
    _, asset = stored
    run = StageRun.objects.first()
    assert admin_client_logged.get(f"/admin/inspector/stagerun/{run.pk}/change/").status_code == 200
    assert admin_client_logged.get(f"/admin/inspector/asset/{asset.pk}/change/").status_code == 200


def test_publish_action_publishes_one_version(admin_client_logged, stored):
    _, asset = stored
    version = asset.versions.get()
    response = admin_client_logged.post(
        "/admin/inspector/assetversion/",
        {"action": "publish_selected", "_selected_action": [version.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert AssetVersion.objects.get(pk=version.pk).status == "published"
