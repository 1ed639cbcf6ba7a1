"""No admin screen shows another tenant's names: not in rows, list filters, dropdowns or autocompletes.

Every ModelAdmin of the site is opened (list, add form, an own object's
page) by an admin of tenant ``acme`` while tenant ``globex`` owns an object
of every kind, each named with "globex"; the word must appear nowhere.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from access.admin_scoping import ScopedAllValuesFieldListFilter, ScopedRelatedFieldListFilter, scoped_list_filter
from access.models import TenantMembership
from access.roles import ADMIN
from controlloop.models import ReplanPolicy
from controlloop.services import ensure_default_policy, replan_decide
from controlloop.triggers import safe_parse_trigger
from inspector.models import AssetVersion
from inspector.services import asset_create, asset_version_create, trace_ingest
from regression.models import GoldenQuery, RegressionRun
from regression.services import analysis_request, golden_query_run, golden_query_set_baseline
from regression.suite_models import GoldenSuite, SuiteItem, SuiteRun
from testkit.factories import VALID_SPECS, UserFactory, trace_body
from testkit.plugin import role_user
from tests.security.tenant_suites import suite_world

pytestmark = pytest.mark.django_db
FOREIGN = "globex"
QUESTION = "Which servers run checkout-api?"
APPS = {"inspector", "regression", "controlloop", "access", "auth"}


def _tenant_world(tenant: str) -> None:
    """One object of every kind in ``tenant``, each name starting with the tenant's name."""
    for number in (1, 2):
        trace_ingest(payload=trace_body(trace_id=f"{tenant}-trace-{number}", tenant_id=tenant, question=QUESTION))
    asset = asset_create(tenant_id=tenant, asset_type="query", name=f"{tenant}_query")
    asset_version_create(asset=asset, spec=VALID_SPECS["query"], note=f"{tenant} note")
    analysis_request(baseline_trace_ids=[f"{tenant}-trace-1"], candidate_trace_ids=[f"{tenant}-trace-2"])
    for number in (1, 2):  # two, so the golden-query filter has something to offer
        query = GoldenQuery.objects.create(name=f"{tenant}-golden-{number}", question=QUESTION, tenant_id=tenant)
        golden_query_set_baseline(golden_query=query, trace_id=f"{tenant}-trace-1", note=f"{tenant} baseline")
        golden_query_run(golden_query=query, enqueue=False)
    ReplanPolicy.objects.create(name=f"{tenant}-policy", tenant_id=tenant)
    replan_decide(trace_id=f"{tenant}-trace-1", tenant_id=tenant, trigger=safe_parse_trigger("empty_result"),
                  plan={})
    suite_world(tenant)  # a suite with a question and a stage item, and a finished run with an item result
    UserFactory(username=f"{tenant}-member", tenants=[tenant])


@pytest.fixture
def acme_admin(db):
    ensure_default_policy()
    _tenant_world("acme")
    _tenant_world(FOREIGN)
    UserFactory(username=f"{FOREIGN}-loner", tenants=[])  # in no tenant at all
    return role_user(ADMIN, tenants=["acme"], staff=True)


def _registered():
    return sorted((model._meta.app_label, model._meta.model_name) for model in admin.site._registry
                  if model._meta.app_label in APPS)


@pytest.mark.parametrize("app_label,model_name", _registered())
def test_admin_screens_show_no_other_tenants_names(client, acme_admin, app_label, model_name):
    client.force_login(acme_admin)
    model = next(m for m in admin.site._registry if (m._meta.app_label, m._meta.model_name) == (app_label, model_name))
    model_admin = admin.site._registry[model]
    changelist = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert changelist.status_code == 200
    pages = {"list": changelist.content.decode()}
    request = changelist.wsgi_request
    if model_admin.has_add_permission(request):
        pages["add"] = client.get(reverse(f"admin:{app_label}_{model_name}_add")).content.decode()
    own = model_admin.get_queryset(request).first()
    if own is not None:
        pages["own object"] = client.get(reverse(f"admin:{app_label}_{model_name}_change",
                                                 args=[own.pk])).content.decode()
    for page, html in pages.items():
        assert FOREIGN not in html, f"{page} page of {app_label}.{model_name} names the other tenant"


def test_golden_run_filter_offers_only_own_golden_queries(client, acme_admin):
    client.force_login(acme_admin)
    html = client.get(reverse("admin:regression_regressionrun_changelist")).content.decode()
    assert "acme-golden-1" in html and "acme-golden-2" in html  # the filter is there, with own queries
    assert f"{FOREIGN}-golden" not in html


def test_membership_user_autocomplete_offers_only_users_of_own_tenants(client, acme_admin):
    client.force_login(acme_admin)
    response = client.get(reverse("admin:autocomplete"), {"app_label": "access", "model_name": "tenantmembership",
                                                          "field_name": "user", "term": ""})
    assert response.status_code == 200
    names = {item["text"] for item in response.json()["results"]}
    assert "acme-member" in names and acme_admin.username in names
    assert not {name for name in names if FOREIGN in name}


def test_membership_form_refuses_a_user_of_another_tenant(client, acme_admin):
    client.force_login(acme_admin)
    foreign = get_user_model().objects.get(username=f"{FOREIGN}-member")
    response = client.post(reverse("admin:access_tenantmembership_add"), {"user": foreign.pk, "tenant_id": "acme"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not TenantMembership.objects.filter(user=foreign, tenant_id="acme").exists()


def test_user_list_shows_only_users_sharing_a_tenant(client, acme_admin):
    client.force_login(acme_admin)
    html = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "acme-member" in html and FOREIGN not in html
    foreign = get_user_model().objects.get(username=f"{FOREIGN}-member")
    assert client.get(reverse("admin:auth_user_change", args=[foreign.pk])).status_code == 302  # "doesn't exist"


def test_superuser_filters_still_offer_every_tenant(client, acme_admin):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    html = client.get(reverse("admin:regression_regressionrun_changelist")).content.decode()
    assert "acme-golden-1" in html and f"{FOREIGN}-golden-1" in html


def test_every_relational_list_filter_is_replaced_by_a_scoped_one():
    assert scoped_list_filter(RegressionRun, "golden_query") == ("golden_query", ScopedRelatedFieldListFilter)
    path, filter_class = scoped_list_filter(RegressionRun, ("golden_query", admin.RelatedFieldListFilter))
    assert path == "golden_query" and issubclass(filter_class, ScopedRelatedFieldListFilter)
    assert scoped_list_filter(AssetVersion, "asset__name") == ("asset__name", ScopedAllValuesFieldListFilter)
    # Fixed choices, booleans and the model's own (scoped) rows need nothing.
    assert scoped_list_filter(AssetVersion, "asset__asset_type") == "asset__asset_type"
    assert scoped_list_filter(GoldenQuery, "tenant_id") == "tenant_id"
    assert scoped_list_filter(GoldenQuery, "enabled") == "enabled"


def test_suite_and_suite_run_lists_show_only_own_rows(client, acme_admin):
    client.force_login(acme_admin)
    suites = client.get(reverse("admin:regression_goldensuite_changelist"))
    assert [suite.name for suite in suites.context["cl"].result_list] == ["acme-suite"]
    runs = client.get(reverse("admin:regression_suiterun_changelist"))
    assert [run.suite.name for run in runs.context["cl"].result_list] == ["acme-suite"]
    assert "acme-suite" in runs.content.decode()  # the suite filter offers the own suite, and only it
    filtered = client.get(reverse("admin:regression_suiterun_changelist"),
                          {"suite__id__exact": GoldenSuite.objects.get(tenant_id=FOREIGN).pk})
    assert filtered.status_code in (200, 302) and FOREIGN not in filtered.content.decode()
    if filtered.status_code == 200:  # naming the other tenant's suite brings none of its runs
        assert {run.suite.tenant_id for run in filtered.context["cl"].result_list} <= {"acme"}


def _absent(response) -> None:
    """Another tenant's object is answered as one that does not exist: 404, or the admin's redirect to its index."""
    assert response.status_code in (302, 403, 404), response.status_code
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:index")
    assert FOREIGN not in response.content.decode()


def test_another_tenants_suite_and_run_pages_are_out_of_reach(client, acme_admin):
    client.force_login(acme_admin)
    suite, run = GoldenSuite.objects.get(tenant_id=FOREIGN), SuiteRun.objects.get(suite__tenant_id=FOREIGN)
    _absent(client.get(reverse("admin:regression_goldensuite_change", args=[suite.pk])))
    _absent(client.get(reverse("admin:regression_goldensuite_delete", args=[suite.pk])))
    _absent(client.get(reverse("admin:regression_goldensuite_history", args=[suite.pk])))
    _absent(client.get(reverse("admin:regression_suiterun_change", args=[run.pk])))
    # The own run's page still opens: the refusals above are about the tenant, not the page.
    own = SuiteRun.objects.get(suite__tenant_id="acme")
    assert client.get(reverse("admin:regression_suiterun_change", args=[own.pk])).status_code == 200


@pytest.mark.parametrize("button", ["record_baseline", "start_run"])
def test_another_tenants_suite_buttons_are_404_and_start_nothing(client, acme_admin, button):
    client.force_login(acme_admin)
    suite = GoldenSuite.objects.get(tenant_id=FOREIGN)
    runs = SuiteRun.objects.count()
    response = client.post(reverse(f"admin:regression_goldensuite_{button}", args=[suite.pk]))
    assert response.status_code == 404 and FOREIGN not in response.content.decode()
    assert SuiteRun.objects.count() == runs


def test_another_tenants_suite_cannot_be_changed_or_deleted_from_the_admin(client, acme_admin):
    client.force_login(acme_admin)
    suite = GoldenSuite.objects.get(tenant_id=FOREIGN)
    _absent(client.post(reverse("admin:regression_goldensuite_change", args=[suite.pk]),
                        {**_suite_post(suite.name, "acme"), "description": "taken over"}))
    _absent(client.post(reverse("admin:regression_goldensuite_delete", args=[suite.pk]), {"post": "yes"}))
    suite.refresh_from_db()
    assert suite.tenant_id == FOREIGN and suite.description == f"{FOREIGN} suite"


def _suite_post(suite_name: str, tenant: str, item: dict | None = None) -> dict:
    item = item or {}
    data = {"name": suite_name, "tenant_id": tenant, "description": "", "repeats": "1", "options": "{}", "schedule": "",
            "enabled": "on", "items-TOTAL_FORMS": "1" if item else "0", "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000"}
    data.update({f"items-0-{key}": value for key, value in item.items()})
    return data


FOREIGN_STAGE_ITEM = {"name": "sneaky", "kind": "stage", "question": "", "stage": "execute",
                      "trace_id": f"{FOREIGN}-trace-1", "assertions": "[]", "position": "5"}


def test_the_item_inline_refuses_another_tenants_trace_for_a_stage_item(client, acme_admin):
    client.force_login(acme_admin)
    own = GoldenSuite.objects.get(tenant_id="acme")
    changed = client.post(reverse("admin:regression_goldensuite_change", args=[own.pk]),
                          _suite_post(own.name, "acme", FOREIGN_STAGE_ITEM))
    assert changed.status_code == 200 and "has no stage" in changed.content.decode()
    added = client.post(reverse("admin:regression_goldensuite_add"), _suite_post("acme-new", "acme", FOREIGN_STAGE_ITEM))
    assert added.status_code == 200 and "has no stage" in added.content.decode()
    # Moving the new suite into the other tenant to make the trace resolve is no choice either.
    moved = client.post(reverse("admin:regression_goldensuite_add"), _suite_post("acme-new", FOREIGN, FOREIGN_STAGE_ITEM))
    assert moved.status_code == 200 and "Select a valid choice" in moved.content.decode()
    assert not SuiteItem.objects.filter(name="sneaky").exists()
    assert not GoldenSuite.objects.filter(name="acme-new").exists()
    # The own trace is accepted: the refusals are about the tenant.
    own_item = {**FOREIGN_STAGE_ITEM, "trace_id": "acme-trace-1"}
    assert client.post(reverse("admin:regression_goldensuite_change", args=[own.pk]),
                       _suite_post(own.name, "acme", own_item)).status_code == 302
    assert SuiteItem.objects.get(name="sneaky").suite == own


def test_an_existing_item_cannot_be_repointed_at_another_tenants_trace(client, acme_admin):
    client.force_login(acme_admin)
    own = GoldenSuite.objects.get(tenant_id="acme")
    item = own.items.get(kind="stage")
    data = _suite_post(own.name, "acme", {"id": str(item.pk), "suite": str(own.pk), "name": item.name,
                                          "kind": "stage", "question": "", "stage": "execute",
                                          "trace_id": f"{FOREIGN}-trace-1", "assertions": "[]", "position": "1"})
    data.update({"items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "1"})
    response = client.post(reverse("admin:regression_goldensuite_change", args=[own.pk]), data)
    assert response.status_code == 200 and "has no stage" in response.content.decode()
    item.refresh_from_db()
    assert item.trace_id == "acme-trace-1" and item.baseline_trace_ids == ["acme-trace-2"]
