"""Changelist helpers that stay fast at 1M traces (docs/performance.md, "At 1M traces")."""

import pytest
from django.urls import reverse

from access.tenancy import TenantScope
from inspector.admin_paging import COUNT_CAP, LargeTablePaginator
from inspector.models import Trace
from inspector.selectors import trace_tenants
from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def traces(db):
    for index, tenant in enumerate(["globex", "acme", "acme", "initech"]):
        trace_ingest(payload=trace_body(trace_id=f"t{index}", tenant_id=tenant))


def test_trace_tenants_lists_each_tenant_once_in_order(traces):
    assert trace_tenants() == ["acme", "globex", "initech"]
    assert trace_tenants(limit=2) == ["acme", "globex"]
    assert trace_tenants(scope=TenantScope(tenants=frozenset({"initech", "zeta"}))) == ["initech", "zeta"]


def test_tenant_filter_in_the_changelist(client, traces):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = reverse("admin:inspector_trace_changelist")
    page = client.get(url).content.decode()
    assert "?tenant_id__exact=initech" in page
    filtered = client.get(url + "?tenant_id__exact=acme").content.decode()
    assert "t1" in filtered and "t2" in filtered and "t0" not in filtered


def test_search_by_exact_trace_id(client, traces):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(reverse("admin:inspector_trace_changelist") + "?q=t3").content.decode()
    assert 'href="/admin/inspector/trace/' in page and ">t3<" in page and ">t0<" not in page


class _Estimated(LargeTablePaginator):
    count = COUNT_CAP * 100  # as the planner estimate would say for a million rows
    offered_rows = COUNT_CAP


def test_deep_pages_are_capped_when_the_count_is_an_estimate():
    paginator = _Estimated(Trace.objects.none(), 50)
    assert paginator.num_pages == COUNT_CAP // 50
    small = LargeTablePaginator(list(range(120)), 50)
    assert small.num_pages == 3


def test_a_filtered_count_stops_at_its_cap_and_offers_that_many_rows(traces, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inspector import admin_paging

    monkeypatch.setattr(admin_paging, "FILTERED_COUNT_CAP", 2)
    with CaptureQueriesContext(connection) as queries:
        paginator = LargeTablePaginator(Trace.objects.filter(tenant_id="acme").order_by("pk"), 1)
        assert paginator.count == 2  # both acme traces: not past the cap
    assert len(queries) == 1 and "COUNT(*)" in queries[0]["sql"] and "LIMIT 3" in queries[0]["sql"]
    wide = LargeTablePaginator(Trace.objects.filter(question__contains="").order_by("pk"), 1)
    assert wide.count == 3 and wide.num_pages == 2  # 4 traces: counted to the cap + 1, two pages offered
