"""An analysis's admin page: per-stage rows with issues (pointer, before/after), statistics, trace links, read-only."""

import pytest
from django.urls import reverse

from access.roles import ADMIN, OPERATOR, VIEWER
from inspector.models import Trace
from inspector.services import trace_ingest
from regression.models import RegressionAnalysis
from regression.services import analysis_request
from testkit.factories import UserFactory, stage_body, trace_body
from testkit.plugin import role_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_now")]


def _trace(trace_id: str, *, execute_status: str = "ok", rows: int = 1, tenant_id: str = "default") -> str:
    body = trace_body(trace_id=trace_id, tenant_id=tenant_id)
    body["stages"][2] = stage_body("execute", status=execute_status)
    body["stages"][2]["output"]["diagnostics"]["counts"] = {"rows": rows}
    trace_ingest(payload=body)
    return trace_id


def _page(client, analysis: RegressionAnalysis) -> str:
    response = client.get(reverse("admin:regression_regressionanalysis_change", args=[analysis.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def root(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def failing_pair() -> RegressionAnalysis:
    analysis = analysis_request(baseline_trace_ids=[_trace("base-1")],
                                candidate_trace_ids=[_trace("cand-1", execute_status="error", rows=0)])
    analysis.refresh_from_db()
    assert analysis.verdict == "FAIL"
    return analysis


def test_a_pair_page_shows_each_stage_with_its_verdict_and_issues_with_pointers_and_both_values(root, failing_pair):
    page = _page(root, failing_pair)

    assert page.count('data-testid="stage-row"') == 5
    execute = page.split('data-stage="execute"', 1)[1].split("</tbody>", 1)[0]
    assert 'data-testid="stage-verdict">FAIL<' in execute
    assert '<code data-testid="issue-pointer">/diagnostics/status</code>' in execute
    assert "<code>&quot;ok&quot;</code>" in execute and "<code>&quot;error&quot;</code>" in execute
    assert "CRITICAL" in execute and "rows 1 → 0" in execute
    validate = page.split('data-stage="validate"', 1)[1].split("</tbody>", 1)[0]
    assert 'data-testid="stage-verdict">PASS<' in validate and "No issues." in validate
    assert 'data-testid="critical-issues"' in page and 'data-testid="analysis-verdict">FAIL<' in page


def test_the_traces_link_to_their_pages_in_the_analysis_tenant(root, failing_pair):
    page = _page(root, failing_pair)

    for trace_id in ("base-1", "cand-1"):
        url = reverse("admin:inspector_trace_by_id", args=[trace_id]) + "?tenant=default"
        assert f'href="{url}"' in page
    redirected = root.get(reverse("admin:inspector_trace_by_id", args=["cand-1"]) + "?tenant=default")
    assert redirected["Location"] == reverse("admin:inspector_trace_change",
                                             args=[Trace.objects.get(trace_id="cand-1").pk])


def test_a_trace_removed_since_is_named_without_a_link(root, failing_pair):
    Trace.objects.filter(trace_id="base-1").delete()

    page = _page(root, failing_pair)

    assert '<span data-testid="baseline-link">base-1</span> <span class="ops-muted">(not stored)</span>' in page
    assert 'data-testid="candidate-link">cand-1</a>' in page


def test_a_group_page_shows_the_statistics_table_row_by_row(root):
    analysis = analysis_request(baseline_trace_ids=[_trace(f"gb-{n}") for n in range(3)],
                                candidate_trace_ids=[_trace(f"gc-{n}") for n in range(3)])
    analysis.refresh_from_db()

    page = _page(root, analysis)

    assert 'data-testid="statistics-table"' in page
    assert page.count('data-testid="statistics-row"') == len(analysis.statistics["table"])
    assert 'data-name="execute duration_ms"' in page and "p=n/a n=3+3" in page
    assert "gb-0</a>, " in page and "gc-2</a>" in page


def test_a_pending_analysis_page_refreshes_until_done(root):
    analysis = RegressionAnalysis.objects.create(kind="pair", tenant_id="default", baseline_trace_ids=["a"],
                                                 candidate_trace_ids=["b"])

    page = _page(root, analysis)

    assert 'http-equiv="refresh"' in page and "Stage results appear when the analysis is done." in page


@pytest.mark.parametrize("role,may_delete", [(VIEWER, False), (OPERATOR, False), (ADMIN, True)])
def test_the_page_is_read_only_and_offers_delete_only_to_the_admin_role(client, failing_pair, role, may_delete):
    client.force_login(role_user(role, staff=True))
    change = reverse("admin:regression_regressionanalysis_change", args=[failing_pair.pk])

    page = client.get(change).content.decode()

    assert ('data-testid="delete-analysis"' in page) is may_delete
    assert "<input" not in page.split('id="content-main"', 1)[1]
    assert client.post(change, {"status": "pending"}).status_code == 403
    failing_pair.refresh_from_db()
    assert failing_pair.status == "completed"
    assert client.get(reverse("admin:regression_regressionanalysis_add")).status_code == 403
