"""Admin changelists and change pages open, and never render full payloads."""

import re

import pytest
from django.contrib.auth import get_user_model

from inspector.models import AssetVersion, StageRun
from inspector.services import asset_create, trace_ingest
from testkit.factories import VALID_SPECS, trace_body

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


def test_trace_page_renders_previews_escaped_and_no_full_payload(admin_client_logged, db):
    body = trace_body(trace_id="t-page", question="<b>bold?</b>", padding=30_000)
    trace, _ = trace_ingest(payload=body)
    response = admin_client_logged.get(f"/admin/inspector/trace/{trace.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html and "<b>bold?</b>" not in html
    assert html.count('class="ops-stage"') == 5 and "ROUTE_PLAN" in html
    assert "x" * 3000 not in html  # previews are cut at OPS_PREVIEW_CHARS
    assert 'id="trace-page-data"' in html


def test_trace_page_query_count_does_not_depend_on_stage_count(admin_client_logged, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, _ = trace_ingest(payload=trace_body(trace_id="t-2", stages=("route_plan", "present")))
    big, _ = trace_ingest(payload=trace_body(trace_id="t-5"))
    admin_client_logged.get(f"/admin/inspector/trace/{small.pk}/change/")
    counts = []
    for trace in (small, big):
        with CaptureQueriesContext(connection) as captured:
            admin_client_logged.get(f"/admin/inspector/trace/{trace.pk}/change/")
        counts.append(len(captured.captured_queries))
        # Only the payloads' heads, for the previews: never a whole payload column.
        heads = re.compile(r'SUBSTR(ING)?\("inspector_stagepayload"\."(input|output)_data", 1, \d+\)')
        whole = re.compile(r'stagepayload"\."(input|output)_data"')
        assert not any(whole.search(heads.sub("", q["sql"])) for q in captured.captured_queries)
    assert counts[0] == counts[1]


def test_trace_page_permissions(client, db):
    from testkit.factories import UserFactory
    from testkit.plugin import grant

    trace, _ = trace_ingest(payload=trace_body(trace_id="t-perm"))
    staff = UserFactory(username="nostaff-perm", password="pw", is_staff=True)
    client.login(username="nostaff-perm", password="pw")
    assert client.get(f"/admin/inspector/trace/{trace.pk}/change/").status_code == 403
    grant(staff, "inspector.view_trace")
    assert client.get(f"/admin/inspector/trace/{trace.pk}/change/").status_code == 200
    assert client.get(f"/admin/inspector/trace/{trace.pk}/compare/?baseline=t-perm").status_code == 200
    assert client.get("/admin/inspector/trace/999999/change/").status_code == 404


def test_by_trace_id_redirects_to_the_trace_page(admin_client_logged, db):
    trace, _ = trace_ingest(payload=trace_body(trace_id="t-redirect"))
    response = admin_client_logged.get("/admin/inspector/trace/by-id/t-redirect/")
    assert response.status_code == 302 and response["Location"].endswith(f"/trace/{trace.pk}/change/")


def test_regression_admin_pages_open(admin_client_logged, db):
    import copy

    from regression.models import GoldenQuery, RegressionAnalysis
    from regression.services import analysis_execute

    base = trace_body(trace_id="ra-base")
    trace_ingest(payload=base)
    cand = copy.deepcopy(base)
    cand["trace_id"] = "ra-cand"
    trace_ingest(payload=cand)
    analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=["ra-base"],
                                                 candidate_trace_ids=["ra-cand"])
    analysis_execute(analysis_id=analysis.pk)
    GoldenQuery.objects.create(name="q", question="q")
    for url in ("/admin/regression/regressionanalysis/", f"/admin/regression/regressionanalysis/{analysis.pk}/change/",
                "/admin/regression/goldenquery/", "/admin/regression/regressionrun/",
                "/admin/controlloop/replanevent/", "/admin/controlloop/replanpolicy/",
                "/admin/controlloop/replanevent/timeline/"):
        assert admin_client_logged.get(url).status_code == 200, url
