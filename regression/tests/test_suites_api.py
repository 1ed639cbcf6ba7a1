"""The golden-suite API: suites, items, baseline, runs and the verdict table — scoped, permitted, validated.

Every answer is checked against the OpenAPI schema of its operation and for
nulls. The end-to-end test records a baseline and runs a suite on the
reference pipeline (Celery eager, on-commit callbacks run at once).
"""

import itertools
from types import SimpleNamespace

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from inspector.services import trace_ingest
from regression.services import suite_item_check
from regression.suite_models import GoldenSuite, SuiteItem, SuiteRun
from testkit.factories import UserFactory, trace_body
from testkit.plugin import client_for, grant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_now")]
SUITES = "/inspector/regression/suites"
QUESTION = "Events on checkout-api last 30 days"
ROWS = {"stage": "execute", "pointer": "/references", "op": "row_count", "min": 1}
INTENT = {"stage": "route_plan", "pointer": "/result/intent", "op": "equals", "value": "event_history"}
READ = ["regression.view_goldensuite", "regression.view_suiteitem", "regression.view_suiterun"]
WRITE = ["regression.add_goldensuite", "regression.change_goldensuite", "regression.delete_goldensuite",
         "regression.add_suiteitem", "regression.change_suiteitem", "regression.delete_suiteitem"]
RUN = ["regression.add_regressionrun", "regression.add_baseline"]


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def conforms(openapi, response, path: str, method: str) -> list[str]:
    """Schema errors of the answer (its status documented, its JSON body fitting), and any null in it."""
    documented = openapi["paths"][path][method]["responses"]
    if str(response.status_code) not in documented:
        return [f"{response.status_code} not documented for {method} {path}"]
    if response.status_code == 204:
        return []
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
             for e in Draft202012Validator({**schema, "components": openapi["components"]}).iter_errors(response.json())]
    return found + (["null in the answer"] if "null" in response.content.decode() else [])


@pytest.fixture
def writer(db):
    """May read, write and run suites of the shared tenant (``default``)."""
    return client_for(grant(UserFactory(), *READ, *WRITE, *RUN))


@pytest.fixture
def steady_stage_clock(monkeypatch):
    """Every stage takes 5 ms, so unchanged assets give identical timings (real ones jitter)."""
    from inspector.pipeline import executor

    ticks = itertools.count()
    monkeypatch.setattr(executor, "time", SimpleNamespace(perf_counter=lambda: next(ticks) * 0.005))


def _suite(name: str = "checkout", tenant_id: str = "default", items: int = 0, **fields) -> GoldenSuite:
    suite = GoldenSuite.objects.create(name=name, tenant_id=tenant_id, repeats=1, **fields)
    for position in range(items):
        item = SuiteItem(suite=suite, name=f"q{position}", question=QUESTION, assertions=[ROWS], position=position)
        suite_item_check(item=item)
        item.save()
    return suite


# --- Suites ---------------------------------------------------------------------------------------

def test_create_get_patch_and_list_suites_with_documented_answers(openapi, writer):
    created = writer.post(SUITES, {"name": "checkout", "description": "Checkout questions", "repeats": 3,
                                   "options": {"warn_at": 10}, "schedule": "0 3 * * 1"})
    assert created.status_code == 201, created.json()
    assert conforms(openapi, created, "/inspector/regression/suites", "post") == []
    body = created.json()
    assert body | {"id": 0, "created_at": ""} == {
        "id": 0, "name": "checkout", "tenant_id": "default", "description": "Checkout questions", "repeats": 3,
        "options": {"warn_at": 10}, "enabled": True, "schedule": "0 3 * * 1", "item_count": 0, "created_at": ""}

    one = writer.get(f"{SUITES}/{body['id']}")
    assert one.status_code == 200 and conforms(openapi, one, "/inspector/regression/suites/{id}", "get") == []
    patched = writer.patch(f"{SUITES}/{body['id']}", {"repeats": 7, "enabled": False})
    assert patched.status_code == 200 and conforms(openapi, patched, "/inspector/regression/suites/{id}", "patch") == []
    assert (patched.json()["repeats"], patched.json()["enabled"], patched.json()["schedule"]) == (7, False, "0 3 * * 1")
    assert GoldenSuite.objects.get().repeats == 7


def test_the_suite_list_is_paginated_and_names_its_item_counts(openapi, writer):
    for name in ("a-suite", "b-suite", "c-suite"):
        _suite(name, items=1 if name == "a-suite" else 0)

    first = writer.get(SUITES, {"limit": 2})
    assert conforms(openapi, first, "/inspector/regression/suites", "get") == []
    page = first.json()
    assert page["count"] == 3 and [s["name"] for s in page["results"]] == ["a-suite", "b-suite"]
    assert page["results"][0]["item_count"] == 1 and "next" in page and "previous" not in page
    second = writer.get(page["next"])
    assert [s["name"] for s in second.json()["results"]] == ["c-suite"] and "next" not in second.json()


def test_a_suite_without_runs_is_deleted_and_one_with_runs_is_kept_with_409(openapi, writer):
    empty, used = _suite("empty", items=1), _suite("used", items=1)
    SuiteRun.objects.create(suite=used, trigger="baseline")

    deleted = writer.delete(f"{SUITES}/{empty.pk}")
    kept = writer.delete(f"{SUITES}/{used.pk}")

    assert deleted.status_code == 204 and not GoldenSuite.objects.filter(pk=empty.pk).exists()
    assert kept.status_code == 409 and "disable it instead" in kept.json()["detail"]
    assert conforms(openapi, kept, "/inspector/regression/suites/{id}", "delete") == []
    assert GoldenSuite.objects.filter(pk=used.pk).exists()


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"name": "s", "options": {"no_such_penalty": 3}}, "options", "unknown scoring option(s): no_such_penalty"),
    ({"name": "s", "options": {"warn_at": 60, "fail_at": 50}}, "options", "warn_at (60) must not exceed fail_at"),
    ({"name": "s", "repeats": 0}, "repeats", "greater than or equal to 1"),
    ({"name": "s", "repeats": 51}, "repeats", "less than or equal to 50"),
    ({"name": "s", "schedule": "every monday"}, "schedule", "5 cron fields"),
    ({"name": "s", "schedule": "99 * * * *"}, "schedule", "not a valid cron line"),
    ({"name": "not a slug"}, "name", "String should match pattern"),
    ({"name": "s", "colour": "red"}, "colour", "Extra inputs are not permitted"),
    ({}, "name", "Field required"),
])
def test_bad_suite_bodies_are_400_naming_the_field_and_write_nothing(openapi, writer, body, field, message):
    response = writer.post(SUITES, body)

    assert response.status_code == 400 and message in " ".join(response.json()[field])
    assert conforms(openapi, response, "/inspector/regression/suites", "post") == []
    assert not GoldenSuite.objects.exists()


def test_a_bad_patch_changes_nothing_and_a_taken_name_is_refused(writer):
    suite, _ = _suite("first"), _suite("second")
    assert writer.patch(f"{SUITES}/{suite.pk}", {"repeats": 1, "options": {"bogus": 1}}).status_code == 400
    taken = writer.patch(f"{SUITES}/{suite.pk}", {"name": "second"})
    assert taken.status_code == 400 and "unique" in taken.json()["non_field_errors"][0]
    suite.refresh_from_db()
    assert (suite.name, suite.repeats, suite.options) == ("first", 1, {})
    assert writer.put(f"{SUITES}/{suite.pk}", {"name": "x"}).status_code == 405


def test_a_suite_with_items_stays_in_its_tenant(openapi):
    both = client_for(grant(UserFactory(tenants=["default", "acme"]), *READ, *WRITE))
    empty, used = _suite("empty"), _suite("used", items=1)

    moved = both.patch(f"{SUITES}/{empty.pk}", {"tenant_id": "acme"})
    kept = both.patch(f"{SUITES}/{used.pk}", {"tenant_id": "acme"})

    assert moved.status_code == 200 and moved.json()["tenant_id"] == "acme"
    assert kept.status_code == 409 and "stays in tenant 'default'" in kept.json()["detail"]
    assert conforms(openapi, kept, "/inspector/regression/suites/{id}", "patch") == []
    used.refresh_from_db()
    assert used.tenant_id == "default"


# --- Items ----------------------------------------------------------------------------------------

def test_items_are_created_listed_changed_and_deleted(openapi, writer):
    suite = _suite()
    items = f"{SUITES}/{suite.pk}/items"
    source, _ = trace_ingest(payload=trace_body(question=QUESTION))

    question = writer.post(items, {"name": "events", "question": QUESTION, "assertions": [ROWS, INTENT]})
    stage = writer.post(items, {"name": "execute-rerun", "kind": "stage", "stage": "execute",
                                "trace_id": source.trace_id, "assertions": [ROWS], "position": 2})

    assert question.status_code == 201 and stage.status_code == 201, (question.json(), stage.json())
    assert conforms(openapi, question, "/inspector/regression/suites/{id}/items", "post") == []
    assert question.json()["assertions"] == [ROWS, INTENT] and question.json()["baseline_trace_ids"] == []
    listed = writer.get(items)
    assert conforms(openapi, listed, "/inspector/regression/suites/{id}/items", "get") == []
    assert [i["name"] for i in listed.json()["results"]] == ["events", "execute-rerun"]
    one = f"{items}/{question.json()['id']}"
    got = writer.get(one)
    assert conforms(openapi, got, "/inspector/regression/suites/{id}/items/{item_id}", "get") == []

    SuiteItem.objects.filter(pk=question.json()["id"]).update(baseline_trace_ids=["t1"])
    kept = writer.patch(one, {"assertions": [INTENT]})
    assert kept.json()["assertions"] == [INTENT] and kept.json()["baseline_trace_ids"] == ["t1"]
    changed = writer.patch(one, {"question": "Events on payments-api last 30 days"})
    assert conforms(openapi, changed, "/inspector/regression/suites/{id}/items/{item_id}", "patch") == []
    assert changed.json()["baseline_trace_ids"] == []  # another question: the old baseline is no baseline for it

    assert writer.delete(one).status_code == 204
    assert list(suite.items.values_list("name", flat=True)) == ["execute-rerun"]


BAD_ASSERTIONS = [
    ([{"stage": "execute", "pointer": "/rows", "op": "resembles", "value": 1}], "assertions.0"),
    ([{"stage": "execute", "pointer": "rows", "op": "equals", "value": 1}], "assertions.0.equals.pointer"),
    ([{"stage": "execute", "op": "matches", "pattern": "("}], "assertions.0.matches.pattern"),
    ([{"stage": "execute", "op": "row_count", "min": 3, "max": 1}], "assertions.0.row_count"),
    ([{"stage": "execute", "op": "json_schema", "schema": {"type": "nope"}}], "assertions.0.json_schema.schema"),
    ([{"stage": "shipping", "op": "equals", "value": 1}], "assertions.0.equals.stage"),
]


@pytest.mark.parametrize(("assertions", "field"), BAD_ASSERTIONS)
def test_a_bad_assertion_is_400_naming_it_and_nothing_is_written(openapi, writer, assertions, field):
    suite = _suite()
    response = writer.post(f"{SUITES}/{suite.pk}/items", {"name": "q", "question": QUESTION,
                                                          "assertions": assertions})

    assert response.status_code == 400 and field in response.json(), response.json()
    assert conforms(openapi, response, "/inspector/regression/suites/{id}/items", "post") == []
    assert not SuiteItem.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "q", "kind": "stage", "stage": "shipping", "trace_id": "t"}, "stage"),
    ({"name": "q", "kind": "stage", "stage": "execute"}, "non_field_errors"),
    ({"name": "q", "kind": "stage", "stage": "execute", "trace_id": "no-such-trace"}, "trace_id"),
    ({"name": "q", "kind": "question"}, "non_field_errors"),
    ({"name": "q", "kind": "poem", "question": QUESTION}, "kind"),
    ({"name": "q", "question": QUESTION, "stage": "execute"}, "stage"),
])
def test_bad_items_are_400_and_write_nothing(writer, body, field):
    suite = _suite()
    response = writer.post(f"{SUITES}/{suite.pk}/items", body)

    assert response.status_code == 400 and field in response.json(), response.json()
    assert not SuiteItem.objects.exists()


def test_an_item_name_is_unique_in_its_suite_and_an_item_with_results_is_kept(writer):
    suite = _suite(items=1)
    item = suite.items.get()
    assert writer.post(f"{SUITES}/{suite.pk}/items", {"name": item.name, "question": QUESTION}).status_code == 400
    run = SuiteRun.objects.create(suite=suite, trigger="baseline")
    run.results.create(item=item)

    kept = writer.delete(f"{SUITES}/{suite.pk}/items/{item.pk}")

    assert kept.status_code == 409 and "history" in kept.json()["detail"]
    assert suite.items.count() == 1


# --- Permissions and tenants ----------------------------------------------------------------------

def test_anonymous_callers_are_refused(anon_client):
    suite = _suite(items=1)
    for response in (anon_client.get(SUITES), anon_client.post(SUITES, {"name": "s"}),
                     anon_client.post(f"{SUITES}/{suite.pk}/runs", {}),
                     anon_client.get(f"/inspector/regression/suite-runs/{SuiteRun.objects.create(suite=suite).pk}")):
        assert response.status_code == 401


def test_a_viewer_reads_but_cannot_create_change_delete_or_run(openapi):
    viewer = client_for(grant(UserFactory(), *READ))
    suite = _suite(items=1)

    assert viewer.get(SUITES).status_code == 200
    assert viewer.get(f"{SUITES}/{suite.pk}/items").status_code == 200
    refused = viewer.post(SUITES, {"name": "mine"})
    assert refused.status_code == 403
    assert conforms(openapi, refused, "/inspector/regression/suites", "post") == []
    assert viewer.patch(f"{SUITES}/{suite.pk}", {"repeats": 2}).status_code == 403
    assert viewer.delete(f"{SUITES}/{suite.pk}").status_code == 403
    assert viewer.post(f"{SUITES}/{suite.pk}/items", {"name": "x", "question": QUESTION}).status_code == 403
    assert viewer.post(f"{SUITES}/{suite.pk}/baseline").status_code == 403
    assert viewer.post(f"{SUITES}/{suite.pk}/runs", {}).status_code == 403
    assert client_for(UserFactory()).get(SUITES).status_code == 403  # no view permission
    assert not SuiteRun.objects.exists() and GoldenSuite.objects.count() == 1


def test_a_tenant_user_sees_and_runs_only_its_tenant_suites(openapi):
    acme = client_for(grant(UserFactory(tenants=["acme"]), *READ, *WRITE, *RUN))
    other = _suite("other", tenant_id="default", items=1)
    other_run = SuiteRun.objects.create(suite=other)
    other_item = other.items.get()
    own = _suite("own", tenant_id="acme")

    assert [s["name"] for s in acme.get(SUITES).json()["results"]] == ["own"]
    for path in (f"{SUITES}/{other.pk}", f"{SUITES}/{other.pk}/items", f"{SUITES}/{other.pk}/items/{other_item.pk}",
                 f"{SUITES}/{other.pk}/runs", f"/inspector/regression/suite-runs/{other_run.pk}"):
        assert acme.get(path).status_code == 404, path
    missing = acme.post(f"{SUITES}/{other.pk}/runs", {})
    assert missing.status_code == 404
    assert conforms(openapi, missing, "/inspector/regression/suites/{id}/runs", "post") == []
    assert acme.post(f"{SUITES}/{other.pk}/baseline").status_code == 404
    assert acme.patch(f"{SUITES}/{other.pk}", {"repeats": 2}).status_code == 404
    assert acme.delete(f"{SUITES}/{other.pk}").status_code == 404
    assert acme.post(SUITES, {"name": "theirs", "tenant_id": "default"}).status_code == 403
    assert acme.patch(f"{SUITES}/{own.pk}", {"tenant_id": "default"}).status_code == 403
    created = acme.post(SUITES, {"name": "second", "tenant_id": "acme"})
    assert created.status_code == 201 and created.json()["tenant_id"] == "acme"
    assert other.runs.count() == 1 and GoldenSuite.objects.filter(tenant_id="default").count() == 1


def test_a_stage_item_needs_a_trace_of_the_suite_tenant(writer):
    trace, _ = trace_ingest(payload=trace_body(tenant_id="acme"))
    suite = _suite()
    response = writer.post(f"{SUITES}/{suite.pk}/items", {"name": "rerun", "kind": "stage", "stage": "execute",
                                                          "trace_id": trace.trace_id})
    assert response.status_code == 400 and "has no stage" in response.json()["trace_id"][0]


# --- Runs -----------------------------------------------------------------------------------------

def test_a_run_needs_items_a_baseline_and_valid_overrides(openapi, writer):
    empty, unrecorded = _suite("empty"), _suite("unrecorded", items=1)

    no_items = writer.post(f"{SUITES}/{empty.pk}/baseline")
    no_baseline = writer.post(f"{SUITES}/{unrecorded.pk}/runs", {})
    bad_override = writer.post(f"{SUITES}/{unrecorded.pk}/runs", {"overrides": {"prompt": ""}})

    assert no_items.status_code == 400 and "has no items" in no_items.json()["detail"]
    assert conforms(openapi, no_items, "/inspector/regression/suites/{id}/baseline", "post") == []
    assert no_baseline.status_code == 400 and "record the baseline first" in no_baseline.json()["detail"]
    assert conforms(openapi, no_baseline, "/inspector/regression/suites/{id}/runs", "post") == []
    assert bad_override.status_code == 400 and "overrides.prompt" in bad_override.json()
    assert not SuiteRun.objects.exists()


@pytest.mark.usefixtures("reference_assets", "steady_stage_clock")
def test_record_baseline_start_a_run_poll_it_and_read_the_verdict_table(openapi, writer):
    suite = writer.post(SUITES, {"name": "checkout", "repeats": 1}).json()
    items = f"{SUITES}/{suite['id']}/items"
    source = pipeline_run(context=ExecutionContext(question=QUESTION))
    writer.post(items, {"name": "events", "question": QUESTION, "assertions": [ROWS, INTENT]})
    writer.post(items, {"name": "execute-rerun", "kind": "stage", "stage": "execute", "trace_id": source.trace_id,
                        "assertions": [ROWS, {**ROWS, "min": 1000}], "position": 1})

    baseline = writer.post(f"{SUITES}/{suite['id']}/baseline")
    assert baseline.status_code == 202
    assert conforms(openapi, baseline, "/inspector/regression/suites/{id}/baseline", "post") == []
    recorded = writer.get(baseline.json()["url"]).json()
    assert recorded["trigger"] == "baseline" and recorded["status"] == "completed" and recorded["progress"] == 2

    started = writer.post(f"{SUITES}/{suite['id']}/runs", {})
    assert started.status_code == 202
    assert conforms(openapi, started, "/inspector/regression/suites/{id}/runs", "post") == []
    assert started.json()["url"] == f"/inspector/regression/suite-runs/{started.json()['run_id']}"
    polled = writer.get(started.json()["url"])
    assert conforms(openapi, polled, "/inspector/regression/suite-runs/{run_id}", "get") == []
    run = polled.json()
    assert (run["status"], run["trigger"], run["progress"], run["suite"]) == ("completed", "manual", 2, "checkout")
    assert run["verdict"] == "FAIL" and "score" in run and "finished_at" in run

    events, rerun = run["items"]
    assert (events["name"], events["verdict"], events["passes"], events["repeats"], events["pass_all"]) == (
        "events", "PASS", 1, 1, True)
    assert events["failed_assertions"] == [] and len(events["candidate_trace_ids"]) == 1
    assert events["baseline_trace_ids"] == suite_items_baseline(suite["id"], "events")
    assert [s["stage"] for s in events["stages"]] == ["route_plan", "validate", "execute", "compose", "present"]
    assert all(s["verdict"] == "PASS" for s in events["stages"]) and "analysis_id" in events
    assert (rerun["verdict"], rerun["passes"], rerun["pass_all"]) == ("FAIL", 0, False)
    assert [s["stage"] for s in rerun["stages"]] == ["execute"]
    failed = rerun["failed_assertions"]
    assert [(f["repeat"], f["index"], f["op"]) for f in failed] == [(1, 1, "row_count")]
    assert "at least 1000 rows" in failed[0]["message"] and failed[0]["trace_id"] == rerun["candidate_trace_ids"][0]

    listed = writer.get(f"{SUITES}/{suite['id']}/runs")
    assert conforms(openapi, listed, "/inspector/regression/suites/{id}/runs", "get") == []
    assert [r["trigger"] for r in listed.json()["results"]] == ["manual", "baseline"]
    assert "verdict" in listed.json()["results"][0] and "items" not in listed.json()["results"][0]


def suite_items_baseline(suite_id: int, name: str) -> list[str]:
    return SuiteItem.objects.get(suite_id=suite_id, name=name).baseline_trace_ids


def test_a_pending_run_leaves_out_what_is_not_known_yet(openapi, writer):
    suite = _suite(items=2)
    run = SuiteRun.objects.create(suite=suite)

    pending = writer.get(f"/inspector/regression/suite-runs/{run.pk}")

    assert conforms(openapi, pending, "/inspector/regression/suite-runs/{run_id}", "get") == []
    body = pending.json()
    assert body["status"] == "pending" and body["progress"] == 0
    assert not {"verdict", "score", "started_at", "finished_at"} & body.keys()
    assert [(row["name"], "verdict" in row, row["stages"]) for row in body["items"]] == [
        ("q0", False, []), ("q1", False, [])]
