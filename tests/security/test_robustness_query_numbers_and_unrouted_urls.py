"""Found by the extended schemathesis run: numbers in query parameters and URLs no route matches.

``str.isdigit()`` accepts "²" and digit strings longer than ``int()`` parses
(4,300 digits), so such a number in a query parameter was a 500; an id the
URL pattern refuses answered Django's HTML 404 page instead of JSON.
"""

import pytest

from inspector.params import is_natural
from inspector.services import trace_ingest
from testkit.factories import AssetFactory, AssetVersionFactory, UserFactory, trace_body

pytestmark = pytest.mark.django_db
NOT_NUMBERS = ["²", "9" * 5000, "1e3", "-1", "", " 1"]


@pytest.fixture
def stored(db):
    trace, _ = trace_ingest(payload=trace_body(trace_id="t-numbers"))
    version = AssetVersionFactory(asset=AssetFactory(asset_type="prompt"), version=1)
    return {"asset": version.asset_id, "trace": trace.trace_id}


@pytest.mark.parametrize("raw", NOT_NUMBERS)
def test_is_natural_refuses_what_int_cannot_read_or_no_column_holds(raw):
    assert not is_natural(raw)


def test_is_natural_accepts_plain_numbers_up_to_18_digits():
    assert is_natural("0") and is_natural("9" * 18) and not is_natural("9" * 19)
    assert is_natural("1", minimum=1) and not is_natural("0", minimum=1)


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_numbers_in_query_parameters_are_400_not_500(admin_client, stored, raw):
    urls = [f"/inspector/traces/{stored['trace']}/stages/execute?attempt={raw}",
            f"/asset-registry/assets/{stored['asset']}/traces?version={raw}",
            f"/asset-registry/assets/{stored['asset']}/impact?base={raw}",
            f"/asset-registry/assets/{stored['asset']}/impact?target={raw}"]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 400, url
        assert list(response.json()) in (["attempt"], ["version"], ["base"], ["target"])


@pytest.mark.parametrize("raw", ["²", "9" * 5000])
def test_an_asset_filter_with_such_a_version_matches_nothing(admin_client, stored, raw):
    response = admin_client.get(f"/inspector/traces?asset=route_rules@{raw}")

    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("url", ["/asset-registry/assets/0.5", "/inspector/regression/not-a-uuid",
                                 "/inspector/regression/golden-queries/0.5/baseline", "/no/such/page"])
def test_a_url_no_route_matches_answers_json_404(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}


def test_the_admin_keeps_its_html_404(admin_client):
    admin_client.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = admin_client.get("/admin/inspector/no-such-model/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
