"""A user of tenant A cannot read, diff, analyse, override or export tenant B's objects by id.

Reads of B's objects answer 404 (their existence is not revealed), writes
naming tenant B answer 403, and lists simply leave B out. Superusers see all.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.roles import ADMIN
from controlloop.services import ensure_default_policy, replan_decide
from controlloop.triggers import safe_parse_trigger
from inspector.models import Trace
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from regression.models import GoldenQuery, RegressionAnalysis
from regression.services import analysis_request
from regression.suite_models import GoldenSuite, SuiteItem, SuiteItemResult, SuiteRun
from testkit.factories import VALID_SPECS, UserFactory, trace_body
from testkit.plugin import client_for, role_user
from tests.security.tenant_suites import SuiteWorld, suite_world

pytestmark = pytest.mark.django_db
QUESTION = "Which servers run checkout-api?"


def _trace(trace_id: str, tenant: str, **fields) -> Trace:
    return trace_ingest(payload=trace_body(trace_id=trace_id, tenant_id=tenant, **fields))[0]


def _asset(tenant: str, name: str):
    asset = asset_create(tenant_id=tenant, asset_type="query", name=name)
    asset_version_publish(version=asset_version_create(asset=asset, spec=VALID_SPECS["query"]))
    return asset


@pytest.fixture
def tenants(db):
    ensure_default_policy()
    shared = _asset("default", "shared_q")  # first, so the traces' bill of materials links to it
    for trace_id in ("a1", "a2"):
        _trace(trace_id, "acme", applied_assets={"query": "shared_q@1"})
    for trace_id in ("b1", "b2"):
        _trace(trace_id, "globex", applied_assets={"query": "shared_q@1"})
    b_asset = _asset("globex", "globex_q")
    a_analysis = analysis_request(baseline_trace_ids=["a1"], candidate_trace_ids=["a2"])
    b_analysis = analysis_request(baseline_trace_ids=["b1"], candidate_trace_ids=["b2"])
    b_golden = GoldenQuery.objects.create(name="globex-golden", question=QUESTION, tenant_id="globex")
    replan_decide(trace_id="b1", tenant_id="globex", trigger=safe_parse_trigger("empty_result"), plan={})
    return {"shared": shared, "b_asset": b_asset, "a_analysis": a_analysis, "b_analysis": b_analysis,
            "b_golden": b_golden}


@pytest.fixture
def acme_user(db):
    return role_user(ADMIN, tenants=["acme"], staff=True)


@pytest.fixture
def acme(acme_user):
    return client_for(acme_user)


def test_lists_show_only_own_tenant(acme, tenants):
    assert {t["trace_id"] for t in acme.get("/inspector/traces").json()["results"]} == {"a1", "a2"}
    assert acme.get("/inspector/traces?tenant=globex").json()["results"] == []
    assert {a["name"] for a in acme.get("/asset-registry/assets").json()["results"]} == {"shared_q"}
    assert acme.get("/inspector/regression/golden-queries").json()["results"] == []
    assert acme.get("/controlloop/events").json()["results"] == []


@pytest.mark.parametrize("url", [
    "/inspector/traces/b1",
    "/inspector/traces/b1/stages/execute",
    "/inspector/traces/b2/diff?baseline=b1",
    "/inspector/traces/a2/diff?baseline=b1",
])
def test_reading_or_diffing_another_tenants_trace_is_404(acme, tenants, url):
    assert acme.get(url).status_code == 404


def test_analysing_another_tenants_traces_is_refused(acme, tenants):
    before = RegressionAnalysis.objects.count()
    response = acme.post("/inspector/regression/analyze", {"baseline_trace_id": "a1", "candidate_trace_id": "b1"},
                         format="json")
    assert response.status_code == 400 and "b1" in response.json()["detail"]
    assert RegressionAnalysis.objects.count() == before
    assert acme.get(f"/inspector/regression/{tenants['b_analysis'].pk}").status_code == 404
    assert acme.get(f"/inspector/regression/{tenants['a_analysis'].pk}").status_code == 200
    compare = {"baseline_trace_id": "a1", "candidate_trace_id": "b1", "stage": "execute"}
    assert acme.post("/inspector/regression/stage-compare", compare, format="json").status_code == 404


def test_running_or_overriding_in_another_tenant_is_refused(acme, tenants, reference_assets):
    count = Trace.objects.count()
    assert acme.post("/ops/ask", {"question": QUESTION, "tenant_id": "globex"}, format="json").status_code == 403
    response = acme.post("/ops/ask", {"question": QUESTION, "tenant_id": "acme", "test_mode": True,
                                      "baseline_trace_id": "b1"}, format="json")
    assert response.status_code == 400
    assert acme.post("/ops/stage-test", {"stage": "execute", "trace_id": "b1"}, format="json").status_code == 404
    assert acme.post("/ops/stage-test", {"stage": "execute", "question": QUESTION, "tenant_id": "globex"},
                     format="json").status_code == 403
    assert acme.post("/inspector/traces", trace_body(trace_id="sneaky", tenant_id="globex"),
                     format="json").status_code == 403
    assert Trace.objects.count() == count  # nothing was run or stored


def test_another_tenants_assets_cannot_be_read_exported_or_changed(acme, tenants):
    b_asset, shared = tenants["b_asset"], tenants["shared"]
    for suffix in ("", "/versions", "/impact", "/impact?export=csv", "/impact?export=json", "/traces"):
        assert acme.get(f"/asset-registry/assets/{b_asset.pk}{suffix}").status_code == 404, suffix
    assert acme.post(f"/asset-registry/assets/{b_asset.pk}/publish", {"version": 1}, format="json").status_code == 404
    assert acme.post("/asset-registry/assets", {"tenant_id": "globex", "asset_type": "query", "name": "x"},
                     format="json").status_code == 403
    # The shared asset is readable, but only members of ``default`` may change it.
    assert acme.get(f"/asset-registry/assets/{shared.pk}").status_code == 200
    new_version = acme.post(f"/asset-registry/assets/{shared.pk}/versions", {"spec": VALID_SPECS["query"]},
                            format="json")
    assert new_version.status_code == 403
    assert acme.get(f"/asset-registry/assets/{shared.pk}/impact?tenant=globex").status_code == 403


def test_impact_of_a_shared_asset_counts_only_own_traces(acme, tenants):
    report = acme.get(f"/asset-registry/assets/{tenants['shared'].pk}/impact").json()
    assert sum(row["traces"] for row in report["versions"]) == 2  # a1, a2, not b1, b2
    traces = acme.get(f"/asset-registry/assets/{tenants['shared'].pk}/traces").json()["results"]
    assert {t["trace_id"] for t in traces} == {"a1", "a2"}
    superuser = client_for(UserFactory(is_superuser=True))
    report = superuser.get(f"/asset-registry/assets/{tenants['shared'].pk}/impact").json()
    assert sum(row["traces"] for row in report["versions"]) == 4


def test_another_tenants_golden_queries_and_decisions_are_out_of_reach(acme, tenants):
    golden = tenants["b_golden"]
    assert acme.get(f"/inspector/regression/golden-queries/{golden.pk}").status_code == 404
    assert acme.post(f"/inspector/regression/golden-queries/{golden.pk}/run", {}, format="json").status_code == 404
    assert acme.post("/inspector/regression/golden-queries", {"name": "g", "question": QUESTION,
                                                             "tenant_id": "globex"}, format="json").status_code == 403
    mine = acme.post("/inspector/regression/golden-queries", {"name": "mine", "question": QUESTION,
                                                             "tenant_id": "acme"}, format="json").json()
    baseline = acme.post(f"/inspector/regression/golden-queries/{mine['id']}/baseline", {"trace_id": "b1"},
                         format="json")
    assert baseline.status_code == 400
    assert acme.post("/controlloop/decide", {"trace_id": "b1", "trigger": "error"}, format="json").status_code == 404


def test_admin_screens_hide_another_tenants_objects(client, acme_user, tenants):
    client.force_login(acme_user)
    b1 = Trace.objects.get(trace_id="b1")
    a1 = Trace.objects.get(trace_id="a1")
    assert client.get(reverse("admin:inspector_trace_change", args=[b1.pk])).status_code == 404
    assert client.get(reverse("admin:inspector_trace_by_id", args=["b1"])).status_code == 404
    assert client.get(reverse("admin:inspector_trace_overrides", args=[b1.pk])).status_code == 404
    assert client.get(reverse("admin:inspector_asset_impact", args=[tenants["b_asset"].pk])).status_code == 404
    compare = client.get(reverse("admin:inspector_trace_compare", args=[a1.pk]) + "?baseline=b1")
    assert compare.status_code == 200 and compare.context["comparison"] is None
    assert "not found" in compare.context["error"]
    listing = client.get(reverse("admin:inspector_trace_changelist")).content.decode()
    # As a cell's text: "b1" alone may occur inside the page's random CSRF token.
    assert ">a1<" in listing and ">b1<" not in listing
    timeline = client.get(reverse("admin:controlloop_timeline") + "?trace=b1")
    assert timeline.context["timeline"]["events"] == []
    analyses = client.get(reverse("admin:regression_regressionanalysis_change", args=[tenants["b_analysis"].pk]))
    assert analyses.status_code == 302  # Django's admin: "doesn't exist", back to the index


def test_superuser_sees_every_tenant(tenants):
    superuser = client_for(UserFactory(is_superuser=True))
    assert {t["trace_id"] for t in superuser.get("/inspector/traces").json()["results"]} == {"a1", "a2", "b1", "b2"}
    assert superuser.get("/inspector/traces/b1").status_code == 200
    assert superuser.get(f"/inspector/regression/{tenants['b_analysis'].pk}").status_code == 200


def test_a_tenant_admin_cannot_join_another_tenant(client, acme_user, tenants):
    from access.models import TenantMembership

    client.force_login(acme_user)
    add_url = reverse("admin:access_tenantmembership_add")
    response = client.post(add_url, {"user": acme_user.pk, "tenant_id": "globex"})
    assert response.status_code == 200 and "globex is not one of the available choices" in response.content.decode()
    assert not TenantMembership.objects.filter(user=acme_user, tenant_id="globex").exists()
    other = TenantMembership.objects.create(user=UserFactory(tenants=[]), tenant_id="globex")
    assert client.get(reverse("admin:access_tenantmembership_change", args=[other.pk])).status_code == 302
    assert client.get(reverse("admin:auth_user_change", args=[acme_user.pk])).status_code == 200  # view only
    response = client.post(reverse("admin:auth_user_change", args=[acme_user.pk]),
                           {"username": acme_user.username, "is_superuser": "on"})
    acme_user.refresh_from_db()
    assert response.status_code == 403 and not acme_user.is_superuser


@pytest.mark.django_db
def test_asset_create_service_refuses_a_tenant_outside_the_scope():
    from access.errors import TenantForbidden
    from access.tenancy import TenantScope
    from inspector.models import Asset

    with pytest.raises(TenantForbidden):
        asset_create(tenant_id="globex", asset_type="prompt", name="p", spec=VALID_SPECS["prompt"],
                     scope=TenantScope(tenants=frozenset({"acme"})))
    assert not Asset.objects.filter(name="p").exists()
    assert asset_create(tenant_id="acme", asset_type="prompt", name="p",
                        scope=TenantScope(tenants=frozenset({"acme"}))).tenant_id == "acme"


@pytest.fixture
def suites(db) -> dict[str, SuiteWorld]:
    """Each tenant's suite: a question item, a stage item on its own trace, a finished run with an item result."""
    for tenant in ("acme", "globex"):
        for number in (1, 2):
            _trace(f"{tenant}-trace-{number}", tenant)
    return {tenant: suite_world(tenant) for tenant in ("acme", "globex")}


def _suite_rows() -> list[tuple]:
    """Everything stored about suites, to show a refused request wrote nothing."""
    return [list(model.objects.order_by("pk").values()) for model in (GoldenSuite, SuiteItem, SuiteRun,
                                                                       SuiteItemResult)]


def test_suite_lists_show_only_own_tenant(acme, suites):
    assert [s["name"] for s in acme.get("/inspector/regression/suites").json()["results"]] == ["acme-suite"]
    runs = acme.get(f"/inspector/regression/suites/{suites['acme'].suite.pk}/runs").json()["results"]
    assert [run["id"] for run in runs] == [suites["acme"].run.pk]


def test_another_tenants_suite_its_items_and_runs_are_404_by_id(acme, suites):
    theirs, mine = suites["globex"], suites["acme"]
    suite_url = f"/inspector/regression/suites/{theirs.suite.pk}"
    item_url = f"{suite_url}/items/{theirs.stage_item.pk}"
    # Their item under my suite's path: the item is looked up in the suite named, mine.
    smuggled = f"/inspector/regression/suites/{mine.suite.pk}/items/{theirs.stage_item.pk}"
    before = _suite_rows()
    for method, url, body in [
        ("get", suite_url, None), ("patch", suite_url, {"description": "taken over"}), ("delete", suite_url, None),
        ("get", f"{suite_url}/items", None),
        ("post", f"{suite_url}/items", {"name": "sneaky", "question": QUESTION}),
        ("get", item_url, None), ("patch", item_url, {"trace_id": "acme-trace-1"}), ("delete", item_url, None),
        ("get", smuggled, None), ("patch", smuggled, {"position": 9}), ("delete", smuggled, None),
        ("get", f"{suite_url}/runs", None), ("post", f"{suite_url}/runs", {}), ("post", f"{suite_url}/baseline", None),
        ("get", f"/inspector/regression/suite-runs/{theirs.run.pk}", None),
    ]:
        response = getattr(acme, method)(url, body, format="json") if body is not None else getattr(acme, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
        assert "globex" not in response.content.decode(), (method, url)
    assert _suite_rows() == before  # nothing written, no run started
    # The same requests on my own suite are answered: the 404s are about the tenant.
    assert acme.get(f"/inspector/regression/suites/{mine.suite.pk}/items/{mine.stage_item.pk}").status_code == 200
    assert acme.get(f"/inspector/regression/suite-runs/{mine.run.pk}").status_code == 200


def test_a_suite_item_cannot_name_another_tenants_trace(acme, suites):
    mine = suites["acme"]
    items_url = f"/inspector/regression/suites/{mine.suite.pk}/items"
    before = _suite_rows()
    created = acme.post(items_url, {"name": "sneaky", "kind": "stage", "stage": "execute",
                                    "trace_id": "globex-trace-1"}, format="json")
    assert created.status_code in (400, 404), created.json()
    assert "globex-trace-1" in str(created.json()) and "tenant 'globex'" not in str(created.json())
    repointed = acme.patch(f"{items_url}/{mine.stage_item.pk}", {"trace_id": "globex-trace-1"}, format="json")
    assert repointed.status_code in (400, 404), repointed.json()
    # A question item turned into a stage item of their trace is the same attack.
    turned = acme.patch(f"{items_url}/{mine.question_item.pk}", {"kind": "stage", "stage": "execute",
                                                                 "trace_id": "globex-trace-1"}, format="json")
    assert turned.status_code in (400, 404), turned.json()
    assert _suite_rows() == before
    own = acme.post(items_url, {"name": "own", "kind": "stage", "stage": "execute", "trace_id": "acme-trace-2"},
                    format="json")
    assert own.status_code == 201, own.json()


def test_a_suite_for_another_tenant_is_403(acme, suites):
    before = _suite_rows()
    assert acme.post("/inspector/regression/suites", {"name": "sneaky", "tenant_id": "globex"},
                     format="json").status_code == 403
    assert acme.patch(f"/inspector/regression/suites/{suites['acme'].suite.pk}", {"tenant_id": "globex"},
                      format="json").status_code == 403
    assert _suite_rows() == before


def test_superuser_reads_every_tenants_suites(suites):
    superuser = client_for(UserFactory(is_superuser=True))
    names = {s["name"] for s in superuser.get("/inspector/regression/suites").json()["results"]}
    assert names == {"acme-suite", "globex-suite"}
    assert superuser.get(f"/inspector/regression/suite-runs/{suites['globex'].run.pk}").status_code == 200
