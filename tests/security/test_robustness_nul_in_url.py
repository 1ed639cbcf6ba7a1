"""A NUL character in a URL path or query string is a 400 with a JSON detail, before any view runs.

PostgreSQL refuses NUL in text, so these requests used to end in a 500 there.
Run this file with DATABASE_URL pointing at PostgreSQL to see the original bug.
"""

import pytest

from inspector.models import Asset
from inspector.services import trace_ingest
from regression.models import GoldenQuery
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(db):
    trace, _ = trace_ingest(payload=trace_body(trace_id="t-nul"))
    asset = Asset.objects.create(asset_type="query", name="nul_probe")
    golden = GoldenQuery.objects.create(name="nul-probe", question=trace.question)
    return {"asset": asset.pk, "golden": golden.pk}


NUL_URLS = [
    "/inspector/traces/a%00b",
    "/inspector/traces/a%00b/stages/execute",
    "/inspector/traces/a%00b/diff?baseline=t-nul",
    "/inspector/traces/t-nul/diff?baseline=a%00",
    "/inspector/traces/t-nul/stages/execute?attempt=1%00",
    "/inspector/traces?q=a%00",
    "/inspector/traces?tenant=a%00",
    "/asset-registry/assets/{asset}/impact?tenant=a%00",
    "/asset-registry/assets?name=a%00",
    "/inspector/regression/runs?golden_query=a%00",
    "/inspector/regression/runs?status=a%00",
    "/inspector/regression/golden-queries/{golden}?x%00=1",
    "/admin/inspector/trace/?q=a%00",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_nul_in_path_or_query_is_400_with_a_json_detail(admin_client, stored, url):
    response = admin_client.get(url.format(**stored))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The URL must not contain NUL characters (%00)."}


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_nul_is_refused_for_writes_too_and_changes_nothing(admin_client, stored, method):
    response = getattr(admin_client, method)(f"/inspector/regression/golden-queries/{stored['golden']}?a=%00",
                                             {"enabled": False}, format="json")

    assert response.status_code == 400
    assert GoldenQuery.objects.get(pk=stored["golden"]).enabled is True


def test_nul_is_refused_before_authentication(anon_client):
    assert anon_client.get("/inspector/traces/a%00b").status_code == 400


def test_urls_without_nul_are_untouched(admin_client, stored):
    assert admin_client.get("/inspector/traces/t-nul").status_code == 200
    assert admin_client.get("/inspector/traces/a%2500b").status_code == 404  # a literal "%00", not a NUL
