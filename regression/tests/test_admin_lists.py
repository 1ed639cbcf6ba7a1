"""The regression run changelist fetches each row's candidate trace with the rows (no query a row)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inspector.services import trace_ingest
from regression.models import Baseline, GoldenQuery, RegressionRun
from testkit.factories import UserFactory, trace_body

pytestmark = pytest.mark.django_db


def _runs(count):
    query = GoldenQuery.objects.first() or GoldenQuery.objects.create(name="gq", question="q")
    start = RegressionRun.objects.count()
    for index in range(start, start + count):
        trace, _ = trace_ingest(payload=trace_body(trace_id=f"run-cand-{index}"))
        baseline = Baseline.objects.create(golden_query=query, trace=trace)
        RegressionRun.objects.create(golden_query=query, baseline=baseline, candidate_trace=trace)


def _page(client):
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/regression/regressionrun/").content.decode()
    return page, len(queries)


def test_run_changelist_queries_do_not_grow_with_rows(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    _runs(2)
    page, few = _page(client)
    assert "run-cand-0" in page and "run-cand-1" in page
    _runs(5)
    page, many = _page(client)
    assert "run-cand-6" in page
    assert many == few
