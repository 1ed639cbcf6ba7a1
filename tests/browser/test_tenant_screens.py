"""A tenant's operator in the real admin: sees only their tenant, cannot open another tenant's trace."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from access.roles import OPERATOR
from inspector.models import Trace
from inspector.services import trace_ingest
from testkit.factories import trace_body
from testkit.plugin import role_user
from tests.browser.conftest import PASSWORD, login, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def two_tenants(transactional_db):
    trace_ingest(payload=trace_body(trace_id="acme-trace", tenant_id="acme", question="CPU of acme-web"))
    trace_ingest(payload=trace_body(trace_id="globex-trace", tenant_id="globex", question="CPU of globex-web"))
    user = role_user(OPERATOR, tenants=["acme"], staff=True)
    user.username = "acme-operator"
    user.set_password(PASSWORD)
    user.save()
    return user


def test_operator_sees_only_own_tenant_and_cannot_open_anothers_trace(page, live_server, two_tenants):
    page.set_default_timeout(10_000)
    login(page, live_server, username="acme-operator")
    page.goto(live_server.url + reverse("admin:inspector_trace_changelist"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("acme-trace")
    expect(page.locator("#result_list")).not_to_contain_text("globex")
    save_screenshot(page, "tenant-trace-list.png")

    rows.first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("acme-trace")
    # The operator may open the override screen of their own trace.
    expect(page.get_by_test_id("test-overrides")).to_be_visible()

    other = Trace.objects.get(trace_id="globex-trace")
    response = page.goto(live_server.url + reverse("admin:inspector_trace_change", args=[other.pk]))
    assert response.status == 404
