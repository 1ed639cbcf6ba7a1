"""Changelist rows without a template render or a reverse() a row, and usage filters without a DISTINCT scan."""

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from controlloop.models import ReplanEvent
from inspector.admin_rows import OneReverseChangeList, QuickRowsAdminMixin
from inspector.models import StageRun, Trace, TraceAssetUsage
from inspector.services import trace_ingest
from regression.models import GoldenQuery
from testkit.factories import UserFactory, trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def traces(db):
    for index in range(3):
        body = trace_body(trace_id=f"qr-{index}", applied_assets={"query": "ci_lookup@1"})
        for stage in body["stages"]:
            stage["input"]["applied_assets"] = {"query": "ci_lookup@1"} if stage["stage"] == "execute" else {}
        trace_ingest(payload=body)


def _admins_with_quick_rows():
    return [model_admin for model_admin in admin.site._registry.values() if isinstance(model_admin, QuickRowsAdminMixin)]


def test_the_big_changelists_use_quick_rows():
    from regression.models import RegressionAnalysis, RegressionRun

    quick = {model_admin.model for model_admin in _admins_with_quick_rows()}
    assert {Trace, StageRun, TraceAssetUsage, RegressionAnalysis, RegressionRun, ReplanEvent} <= quick


@pytest.mark.parametrize("model", [Trace, StageRun, TraceAssetUsage, GoldenQuery])
def test_action_checkbox_is_the_html_django_renders(traces, model):
    GoldenQuery.objects.create(name='a<b & "c"', question="escaped?")  # its str needs escaping in the label
    model_admin = admin.site._registry[model]
    for obj in model._default_manager.all()[:3]:
        assert model_admin.action_checkbox(obj) == admin.ModelAdmin.action_checkbox(model_admin, obj)


def test_row_links_are_the_reversed_change_urls(traces):
    request = RequestFactory().get("/admin/inspector/trace/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    model_admin = admin.site._registry[Trace]
    changelist = model_admin.get_changelist_instance(request)
    assert isinstance(changelist, OneReverseChangeList)
    for trace in changelist.result_list:
        assert changelist.url_for_result(trace) == ChangeList.url_for_result(changelist, trace)
        assert changelist.url_for_result(trace) == reverse("admin:inspector_trace_change", args=[trace.pk])


def test_changelist_pages_link_rows_and_offer_actions(superuser_client, traces):
    page = superuser_client.get("/admin/inspector/stagerun/").content.decode()
    run = StageRun.objects.order_by("pk").first()
    assert f'href="/admin/inspector/stagerun/{run.pk}/change/"' in page
    assert f'name="_selected_action" value="{run.pk}" class="action-select"' in page
    assert 'id="action-toggle"' in page


def test_usage_filters_offer_known_values_without_scanning_the_table(superuser_client, traces):
    with CaptureQueriesContext(connection) as queries:
        page = superuser_client.get("/admin/inspector/traceassetusage/").content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]
    for offered in ("?asset_type=query", "?asset_type=prompt", "?stage=execute", "?stage=-", "?version_status=published",
                    "?version_status=-"):
        assert offered in page


def test_usage_filters_filter(superuser_client, traces):
    def listed(query):
        request = RequestFactory().get("/admin/inspector/traceassetusage/" + query)
        request.user = UserFactory(is_superuser=True, is_staff=True)
        changelist = admin.site._registry[TraceAssetUsage].get_changelist_instance(request)
        return list(changelist.queryset)

    everything = listed("")
    assert everything and {u.stage for u in listed("?stage=-")} == {""}
    assert {u.stage for u in listed("?stage=execute")} == {"execute"}
    assert {u.asset_type for u in listed("?asset_type=query")} == {"query"}
    assert listed("?asset_type=screen") == [u for u in everything if u.asset_type == "screen"]
    statuses = {u.version_status for u in everything}
    for status in statuses:
        value = status or "-"
        assert {u.version_status for u in listed(f"?version_status={value}")} == {status}
    assert superuser_client.get("/admin/inspector/traceassetusage/?stage=-&asset_type=query").status_code == 200



def test_stage_runs_list_fifty_a_page(superuser_client, traces):
    for index in range(8):
        trace_ingest(payload=trace_body(trace_id=f"qr-more-{index}"))
    assert StageRun.objects.count() > 50
    page = superuser_client.get("/admin/inspector/stagerun/").content.decode()
    assert page.count('class="action-select"') == 50
