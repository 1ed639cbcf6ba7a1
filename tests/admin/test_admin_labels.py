"""What the admin says: app names, filter choices and cells in words, cut text kept whole in a tooltip, the icon."""

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders
from django.urls import reverse

from controlloop.services import ensure_default_policy
from inspector.admin.display import duration, size, words
from inspector.models import Trace
from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body

pytestmark = pytest.mark.django_db
LONG_QUESTION = "Which servers in the checkout cluster ran out of disk space during the last deployment window? " * 3


@pytest.fixture
def admin_client_logged(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_apps_are_named_in_words():
    names = {config.label: config.verbose_name for config in apps.get_app_configs()}
    assert names["controlloop"] == "Control loop"
    assert names["inspector"] == "Inspector: traces and assets"
    assert names["regression"] == "Regression testing"


def test_codes_read_as_words():
    assert [words(code) for code in ("tool_error_fatal", "half_open", "plan", "")] == [
        "Tool error fatal", "Half open", "Plan", ""]
    assert [duration(ms) for ms in (73, 1240, 150_000)] == ["73 ms", "1.24 s", "2.5 min"]
    assert [size(count) for count in (812, 14_200, 3_100_000)] == ["812 B", "14.2 kB", "3.1 MB"]


def test_trace_list_filters_and_cells_in_words(admin_client_logged):
    trace_ingest(payload=trace_body(trace_id="t-long", question=LONG_QUESTION.strip()))
    Trace.objects.update(route="", test_mode=True)
    page = admin_client_logged.get(reverse("admin:inspector_trace_changelist")).content.decode()
    assert ">No route</a>" in page and ">unknown<" not in page
    assert ">Live runs</a>" in page and ">Test-mode runs</a>" in page
    assert f'title="{LONG_QUESTION.strip()}"' in page  # the whole question on hover
    assert '<span class="ops-status ops-status-success">Success</span>' in page
    assert '<span class="ops-flag" title="A test-mode run with asset overrides">Test</span>' in page
    assert 'alt="True"' not in page and 'alt="False"' not in page  # no red crosses for "not in test mode"


def test_route_filter_no_route_lists_traces_without_one(admin_client_logged):
    trace_ingest(payload=trace_body(trace_id="t-none"))
    trace_ingest(payload=trace_body(trace_id="t-plan"))
    Trace.objects.filter(trace_id="t-none").update(route="")
    Trace.objects.filter(trace_id="t-plan").update(route="plan")
    page = admin_client_logged.get(reverse("admin:inspector_trace_changelist") + "?route__exact=-").content.decode()
    assert ">t-none<" in page and ">t-plan<" not in page


def test_stage_run_and_policy_lists_in_words(admin_client_logged):
    trace_ingest(payload=trace_body(trace_id="t-stages"))
    runs = admin_client_logged.get(reverse("admin:inspector_stagerun_changelist")).content.decode()
    assert '<span class="ops-status ops-status-ok">OK</span>' in runs and ">ROUTE_PLAN<" in runs
    ensure_default_policy()
    policies = admin_client_logged.get(reverse("admin:controlloop_replanpolicy_changelist")).content.decode()
    assert "By default policy" in policies and "By minimum severity" in policies
    assert ">Critical</a>" in policies and ">critical</a>" not in policies
    assert "every tenant" in policies and "Interval · cooling" in policies


def test_favicon_is_served_and_linked(client, admin_client_logged):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("/favicon.ico")
    assert finders.find("favicon.ico") and finders.find("favicon.svg")
    page = admin_client_logged.get(reverse("admin:index")).content.decode()
    assert 'rel="icon" href="/static/favicon.svg" type="image/svg+xml"' in page
