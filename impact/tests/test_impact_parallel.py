"""Base and target metrics at once on PostgreSQL: same figures as one after the other, no new connection a request."""

import pytest
from django.db import connection, connections

from impact import report
from impact.report import asset_impact
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from testkit.factories import VALID_SPECS, trace_body

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the helper thread's connection sees committed rows only
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the two-connection path is PostgreSQL's"),
]


def committed_asset():
    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_publish(version=lookup.versions.get(version=1))
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5})
    for number, version in enumerate((1, 1, 2, 2, 2)):
        body = trace_body(trace_id=f"p-{number}", duration_ms=100 * (number + 1),
                          applied_assets={"query": f"ci_lookup@{version}"})
        body["stages"][0]["input"]["applied_assets"] = {}
        body["stages"][2]["input"]["applied_assets"] = {"query": f"ci_lookup@{version}"}
        trace_ingest(payload=body)
    return lookup


@pytest.fixture(autouse=True)
def helper_connection_closed():
    yield
    # The helper thread keeps its connection between requests; the test database cannot be dropped with it open.
    report._helper_thread().submit(connections.close_all).result()


def helper_backend_pid() -> int:
    def pid():
        with connection.cursor() as cursor:  # the helper thread's own connection
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    return report._helper_thread().submit(pid).result()


def test_parallel_figures_equal_sequential_ones_and_the_helper_keeps_its_connection(settings):
    asset = committed_asset()
    settings.OPS_IMPACT_PARALLEL = False
    sequential = asset_impact(asset=asset, base="1", target="2")
    settings.OPS_IMPACT_PARALLEL = True
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    parallel = asset_impact(asset=asset, base="1", target="2")
    before = helper_backend_pid()
    again = asset_impact(asset=asset, base="1", target="2")
    assert parallel["metrics"] == sequential["metrics"] == again["metrics"]
    assert parallel["metrics"]["base"]["traces"] == 2 and parallel["metrics"]["target"]["traces"] == 3
    assert helper_backend_pid() == before  # reused, not reopened per request
