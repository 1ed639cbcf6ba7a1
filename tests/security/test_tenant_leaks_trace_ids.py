"""Trace ids are unique per tenant: another tenant's id is free, and two traces with one id never mix.

Tenant ``acme`` and tenant ``globex`` each store a trace ``shared``. Ingest
compares only within the tenant, every read and every string reference
(baselines, analyses, parents, replan ledgers, retention) resolves an id in
one tenant, and a reader of both tenants picks one with ``?tenant=`` (without
it: the first stored).
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.roles import ADMIN, OPERATOR, VIEWER
from controlloop.models import ReplanEvent, ReplanLedger
from controlloop.services import ensure_default_policy, replan_decide
from controlloop.triggers import safe_parse_trigger
from inspector.models import StageRun, Trace
from inspector.services import trace_ingest
from inspector.services.retention import traces_purge
from regression.models import GoldenQuery, RegressionAnalysis
from regression.services import golden_query_set_baseline
from regression.suite_models import GoldenSuite, SuiteItem, SuiteItemResult, SuiteRun
from testkit.factories import trace_body
from testkit.plugin import client_for, role_user

pytestmark = pytest.mark.django_db
URL = "/inspector/traces"
ACME_Q, GLOBEX_Q = "Which servers run checkout-api?", "What is billing-db?"


def _body(trace_id: str, tenant: str, question: str, **fields) -> dict:
    return trace_body(trace_id=trace_id, tenant_id=tenant, question=question, **fields)


def _failing(body: dict) -> dict:
    """The same trace, but its execute stage failed."""
    body = copy.deepcopy(body)
    execute = body["stages"][2]["output"]
    execute["diagnostics"].update(status="error", errors=["timeout"], counts={"rows": 0})
    execute["result"]["tool_results"] = []
    return body


@pytest.fixture
def acme_trace(db):
    return trace_ingest(payload=_body("shared", "acme", ACME_Q))[0]


@pytest.fixture
def globex(db):
    return client_for(role_user(OPERATOR, tenants=["globex"]))


@pytest.fixture
def acme(db):
    return client_for(role_user(OPERATOR, tenants=["acme"]))


@pytest.fixture
def both(db):
    return client_for(role_user(VIEWER, tenants=["acme", "globex"]))


def test_another_tenants_id_is_free_for_ingest_and_both_traces_exist(globex, acme_trace):
    response = globex.post(URL, _body("shared", "globex", GLOBEX_Q), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["url"] == "/inspector/traces/shared?tenant=globex"
    stored = {t.tenant_id: t for t in Trace.objects.filter(trace_id="shared")}
    assert set(stored) == {"acme", "globex"}
    assert stored["acme"].question == ACME_Q and stored["globex"].question == GLOBEX_Q
    assert StageRun.objects.filter(trace=stored["acme"]).count() == 5
    assert StageRun.objects.filter(trace=stored["globex"]).count() == 5


def test_another_tenants_id_is_free_in_a_batch(globex, acme_trace):
    response = globex.post(URL, [_body("shared", "globex", GLOBEX_Q), _body("own", "globex", GLOBEX_Q)],
                           format="json")

    assert response.status_code == 201, response.json()
    assert [item["result"] for item in response.json()["results"]] == ["created", "created"]
    assert Trace.objects.filter(trace_id="shared").count() == 2


def test_ingest_still_compares_within_the_tenant(globex, acme_trace):
    body = _body("shared", "globex", GLOBEX_Q)
    assert globex.post(URL, body, format="json").status_code == 201
    assert globex.post(URL, body, format="json").status_code == 200  # identical: a re-send
    assert globex.post(URL, _failing(body), format="json").status_code == 409  # different body, same tenant
    assert globex.post(URL, [body, _failing(body)], format="json").status_code == 409
    assert Trace.objects.filter(trace_id="shared").count() == 2
    assert Trace.objects.get(trace_id="shared", tenant_id="acme").question == ACME_Q  # untouched


def test_each_tenant_reads_only_its_own_trace(acme, globex, acme_trace):
    globex.post(URL, _failing(_body("shared", "globex", GLOBEX_Q)), format="json")
    for client, tenant, question in ((acme, "acme", ACME_Q), (globex, "globex", GLOBEX_Q)):
        detail = client.get(f"{URL}/shared").json()
        assert detail["tenant_id"] == tenant and detail["question"] == question
        assert all(stage["payload_url"].endswith(f"tenant={tenant}") for stage in detail["stages"])
        execute = client.get(f"{URL}/shared/stages/execute").json()
        assert execute["output"]["diagnostics"]["status"] == ("ok" if tenant == "acme" else "error")
        assert client.get(f"{URL}?q=shared").json()["results"][0]["tenant_id"] == tenant
    # Naming the other tenant finds nothing, as for an unknown id.
    assert acme.get(f"{URL}/shared?tenant=globex").status_code == 404
    assert acme.get(f"{URL}/shared/stages/execute?tenant=globex").status_code == 404


def test_a_reader_of_both_tenants_picks_one_with_the_tenant_parameter(both, acme_trace):
    trace_ingest(payload=_failing(_body("shared", "globex", GLOBEX_Q)))
    # Without ?tenant=: the first stored, whatever was ingested later.
    assert both.get(f"{URL}/shared").json()["tenant_id"] == "acme"
    assert both.get(f"{URL}/shared?tenant=globex").json()["question"] == GLOBEX_Q
    execute = both.get(f"{URL}/shared/stages/execute?tenant=globex").json()
    assert execute["output"]["diagnostics"]["status"] == "error"
    assert len(both.get(f"{URL}?q=shared").json()["results"]) == 2


def test_diff_resolves_the_baseline_in_the_traces_tenant(both, acme_trace):
    trace_ingest(payload=_body("acme-cand", "acme", ACME_Q))
    trace_ingest(payload=_failing(_body("shared", "globex", GLOBEX_Q)))
    trace_ingest(payload=_body("globex-cand", "globex", GLOBEX_Q))
    for candidate, tenant, status in (("acme-cand", "acme", "ok"), ("globex-cand", "globex", "error")):
        diff = both.get(f"{URL}/{candidate}/diff?baseline=shared").json()
        assert diff["baseline"]["tenant_id"] == tenant
        assert {row["stage"]: row for row in diff["stages"]}["execute"]["status"]["baseline"] == status


def _analyze(client, capture) -> RegressionAnalysis:
    with capture(execute=True):  # the analysis runs when the request's transaction commits
        response = client.post("/inspector/regression/analyze", {"baseline_trace_id": "shared",
                                                                 "candidate_trace_id": "cand"}, format="json")
    assert response.status_code == 202, response.json()
    return RegressionAnalysis.objects.get(pk=response.json()["analysis_id"])


def test_analyses_and_stage_compare_read_their_own_tenants_traces(acme_trace, django_capture_on_commit_callbacks):
    trace_ingest(payload=_body("cand", "acme", ACME_Q))  # acme: shared → cand, identical
    trace_ingest(payload=_body("shared", "globex", GLOBEX_Q))
    trace_ingest(payload=_failing(_body("cand", "globex", GLOBEX_Q)))  # globex: shared → cand, execute fails
    analyst = client_for(role_user(OPERATOR, tenants=["globex"]))
    analysis = _analyze(analyst, django_capture_on_commit_callbacks)
    assert analysis.tenant_id == "globex" and analysis.status == "completed" and analysis.verdict == "FAIL"
    compare = analyst.post("/inspector/regression/stage-compare", {"stage": "execute", "baseline_trace_id": "shared",
                                                                   "candidate_trace_id": "cand"}, format="json")
    assert compare.status_code == 200 and compare.json()["score"] > 0  # globex's pair differs; acme's does not
    mine = _analyze(client_for(role_user(OPERATOR, tenants=["acme"])), django_capture_on_commit_callbacks)
    assert mine.tenant_id == "acme" and mine.verdict == "PASS"


def test_a_golden_baseline_is_a_trace_of_the_golden_querys_tenant(acme_trace):
    trace_ingest(payload=_body("shared", "globex", ACME_Q))  # same id and question, other tenant
    query = GoldenQuery.objects.create(name="acme-golden", question=ACME_Q, tenant_id="acme")
    baseline = golden_query_set_baseline(golden_query=query, trace_id="shared")
    assert baseline.trace == acme_trace
    reader = client_for(role_user(VIEWER, tenants=["acme"]))
    answer = reader.get(f"/inspector/regression/golden-queries/{query.pk}").json()
    assert answer["baseline_trace_id"] == "shared"


def test_replan_decisions_and_limits_are_per_tenant(acme_trace):
    ensure_default_policy()
    trace_ingest(payload=_body("shared", "globex", GLOBEX_Q))
    trigger = safe_parse_trigger("empty_result")
    for _ in range(2):
        replan_decide(trace_id="shared", tenant_id="acme", trigger=trigger, plan={})
    globex_first = replan_decide(trace_id="shared", tenant_id="globex", trigger=trigger, plan={})
    assert globex_first.decision.attempt == 1  # acme's replans of its "shared" do not count
    assert ReplanLedger.objects.filter(trace_id="shared").count() == 2
    assert ReplanEvent.objects.filter(trace_id="shared", tenant_id="globex", kind="decision").count() == 1


def test_admin_trace_page_and_links_stay_in_the_traces_tenant(client, acme_trace):
    ensure_default_policy()
    trace_ingest(payload=_body("shared", "globex", GLOBEX_Q))
    rerun = trace_ingest(payload=_body("rerun", "globex", GLOBEX_Q, parent_trace_id="shared", test_mode=True))[0]
    replan_decide(trace_id="shared", tenant_id="acme", trigger=safe_parse_trigger("empty_result"), plan={})
    client.force_login(role_user(ADMIN, tenants=["acme", "globex"], staff=True))
    globex_shared = Trace.objects.get(trace_id="shared", tenant_id="globex")

    page = client.get(reverse("admin:inspector_trace_change", args=[globex_shared.pk]))
    assert page.context["trace"].question == GLOBEX_Q and page.context["replan_events"] == []
    assert "tenant=globex" in page.context["timeline_url"]
    assert all(run.payload_url.endswith("tenant=globex") for group in page.context["groups"] for run in group.attempts)
    parent = client.get(reverse("admin:inspector_trace_change", args=[rerun.pk])).context["parent"]
    assert parent.pk == globex_shared.pk
    by_id = client.get(reverse("admin:inspector_trace_by_id", args=["shared"]) + "?tenant=globex")
    assert by_id["Location"].endswith(f"/trace/{globex_shared.pk}/change/")


def test_retention_keeps_and_deletes_by_tenant(acme_trace):
    old = (timezone.now() - timedelta(days=200)).isoformat()
    Trace.objects.filter(pk=acme_trace.pk).update(started_at=timezone.now() - timedelta(days=200))
    query = GoldenQuery.objects.create(name="acme-golden", question=ACME_Q, tenant_id="acme")
    golden_query_set_baseline(golden_query=query, trace_id="shared")  # protects acme's "shared" only
    trace_ingest(payload=_body("shared", "globex", GLOBEX_Q, started_at=old))
    ensure_default_policy()
    for tenant in ("acme", "globex"):
        replan_decide(trace_id="shared", tenant_id=tenant, trigger=safe_parse_trigger("empty_result"), plan={})

    counts = traces_purge(older_than=timezone.now() - timedelta(days=90))

    assert counts.traces == 1 and counts.kept == 1
    assert list(Trace.objects.filter(trace_id="shared").values_list("tenant_id", flat=True)) == ["acme"]
    assert set(ReplanEvent.objects.values_list("tenant_id", flat=True)) == {"acme"}
    assert list(ReplanLedger.objects.values_list("tenant_id", flat=True)) == ["acme"]


def test_a_suite_stage_item_names_a_trace_of_the_suites_tenant():
    """acme's "shared" has no execute stage, globex's has: an acme stage item on it must not borrow globex's."""
    trace_ingest(payload=_body("shared", "acme", ACME_Q, stages=("route_plan", "validate")))
    trace_ingest(payload=_body("shared", "globex", GLOBEX_Q))
    suite = GoldenSuite.objects.create(name="acme-suite", tenant_id="acme")
    items = f"/inspector/regression/suites/{suite.pk}/items"
    acme = client_for(role_user(OPERATOR, tenants=["acme"]))

    borrowed = acme.post(items, {"name": "exec", "kind": "stage", "stage": "execute", "trace_id": "shared"},
                         format="json")
    assert borrowed.status_code == 400 and borrowed.json() == {
        "trace_id": ["trace 'shared' of tenant 'acme' has no stage 'execute'"]}
    assert not SuiteItem.objects.exists()
    own = acme.post(items, {"name": "plan", "kind": "stage", "stage": "route_plan", "trace_id": "shared"},
                    format="json")
    assert own.status_code == 201, own.json()


def test_a_suite_run_page_links_the_traces_of_the_suites_tenant(client, acme_trace):
    globex_shared = trace_ingest(payload=_body("shared", "globex", GLOBEX_Q))[0]
    suite = GoldenSuite.objects.create(name="acme-suite", tenant_id="acme", repeats=1)
    item = SuiteItem.objects.create(suite=suite, name="ask", question=ACME_Q, baseline_trace_ids=["shared"])
    run = SuiteRun.objects.create(suite=suite, status="completed", verdict="PASS", score=0, progress=1)
    SuiteItemResult.objects.create(run=run, item=item, candidate_trace_ids=["shared"], verdict="PASS", score=0,
                                   passes=1, repeats=1, pass_all=True)
    client.force_login(role_user(ADMIN, tenants=["acme"], staff=True))

    page = client.get(reverse("admin:regression_suiterun_change", args=[run.pk]))

    assert page.status_code == 200
    [row] = page.context["rows"]
    assert [(link.trace_id, link.pk) for link in row.candidates] == [("shared", acme_trace.pk)]
    html = page.content.decode()
    assert reverse("admin:inspector_trace_change", args=[acme_trace.pk]) in html
    assert reverse("admin:inspector_trace_change", args=[globex_shared.pk]) not in html
