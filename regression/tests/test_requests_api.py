"""The regression API validates its bodies with the contracts; answers match the OpenAPI schema without nulls."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from inspector.services import trace_ingest
from regression.models import GoldenQuery, RegressionAnalysis
from testkit.factories import UserFactory, trace_body
from testkit.plugin import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_now")]
GOLDEN = "/inspector/regression/golden-queries"
QUESTION = "Which servers run checkout-api?"


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def admin(db):
    return client_for(UserFactory(is_superuser=True, is_staff=True))


@pytest.fixture
def pair(db):
    for trace_id in ("base", "cand"):
        trace_ingest(payload=trace_body(trace_id=trace_id, question=QUESTION))


def conforms(openapi, response, path: str, method: str) -> list[str]:
    """Schema errors of the answer's JSON body, and any null in it."""
    schema = openapi["paths"][path][method]["responses"][str(response.status_code)]["content"]["application/json"]
    body = response.json()
    found = [e.message for e in Draft202012Validator({**schema["schema"], "components": openapi["components"]})
             .iter_errors(body)]
    return found + (["null in the answer"] if "null" in response.content.decode() else [])


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"no_such_penalty": 3}, {"options": ["unknown scoring option(s): no_such_penalty"]}),
        ({"warn_at": 60, "fail_at": 50}, {"options": ["warn_at (60) must not exceed fail_at (50)"]}),
    ],
)
def test_bad_scoring_options_are_400_with_the_same_message_on_analyze_stage_compare_and_golden_create(
        admin, pair, options, expected):
    analyze = admin.post("/inspector/regression/analyze",
                         {"baseline_trace_id": "base", "candidate_trace_id": "cand", "options": options})
    compare = admin.post("/inspector/regression/stage-compare",
                         {"stage": "execute", "baseline_trace_id": "base", "candidate_trace_id": "cand",
                          "options": options})
    golden = admin.post(GOLDEN, {"name": "g", "question": QUESTION, "options": options})
    for response in (analyze, compare, golden):
        assert (response.status_code, response.json()) == (400, expected)
    assert not RegressionAnalysis.objects.exists() and not GoldenQuery.objects.exists()


def test_analyze_refuses_bad_options_before_looking_at_the_traces(admin, db):
    response = admin.post("/inspector/regression/analyze",
                          {"baseline_trace_id": "unknown-1", "candidate_trace_id": "unknown-2",
                           "options": {"bogus": 1}})
    assert (response.status_code, response.json()) == (400, {"options": ["unknown scoring option(s): bogus"]})


@pytest.mark.parametrize("body", [[], "text", 3])
def test_a_body_that_is_not_an_object_is_400(admin, pair, body):
    for url in ("/inspector/regression/analyze", "/inspector/regression/stage-compare", GOLDEN):
        response = admin.post(url, body)
        assert (response.status_code, response.json()) == (400, {"detail": "the body must be a JSON object"})


def test_analyze_and_stage_compare_answers_match_their_schema(admin, pair, openapi):
    analyze = admin.post("/inspector/regression/analyze", {"baseline_trace_id": "base", "candidate_trace_id": "cand"})
    assert analyze.status_code == 202, analyze.json()
    assert set(analyze.json()) == {"analysis_id", "status", "url"}
    assert conforms(openapi, analyze, "/inspector/regression/analyze", "post") == []

    by_ids = admin.post("/inspector/regression/stage-compare",
                        {"stage": "execute", "baseline_trace_id": "base", "candidate_trace_id": "cand"})
    assert by_ids.status_code == 200, by_ids.json()
    assert conforms(openapi, by_ids, "/inspector/regression/stage-compare", "post") == []

    bodies = {"stage": "execute", "baseline": {"stage": "execute", "duration_ms": 3},
              "candidate": {"stage": "execute", "duration_ms": 9}}
    by_bodies = admin.post("/inspector/regression/stage-compare", bodies)
    assert by_bodies.status_code == 200, by_bodies.json()
    assert conforms(openapi, by_bodies, "/inspector/regression/stage-compare", "post") == []


def test_stage_compare_answer_leaves_out_what_the_engine_has_not():
    """A stage only the candidate ran: its issues have no baseline value; absent, not null."""
    from regression.engine import ScoringConfig, StageSnapshot, compare_stage
    from regression.serializers import StageCompareResultSerializer

    candidate = StageSnapshot.from_output({"stage": "execute", "duration_ms": 5})
    result = compare_stage(None, candidate, ScoringConfig(), None).model_dump(mode="json", exclude_none=True)
    answer = StageCompareResultSerializer(result).data
    assert answer["presence"] == "candidate_only"
    assert answer["issues"] and all("baseline" not in issue for issue in answer["issues"])
    assert "None" not in str(answer)


def test_golden_query_create_put_and_patch(admin, db):
    created = admin.post(GOLDEN, {"name": " nightly ", "question": QUESTION, "tenant_id": "acme",
                                  "options": {"warn_at": 5}})
    assert created.status_code == 201, created.json()
    query_id = created.json()["id"]
    assert (created.json()["name"], created.json()["tenant_id"], created.json()["options"]) == (
        "nightly", "acme", {"warn_at": 5})

    patched = admin.patch(f"{GOLDEN}/{query_id}", {"enabled": False})
    assert patched.status_code == 200
    assert (patched.json()["enabled"], patched.json()["options"], patched.json()["tenant_id"]) == (
        False, {"warn_at": 5}, "acme")

    # PUT as before: tenant_id and enabled kept when absent, options reset to {}.
    put = admin.put(f"{GOLDEN}/{query_id}", {"name": "nightly-2", "question": QUESTION})
    assert put.status_code == 200, put.json()
    assert (put.json()["name"], put.json()["tenant_id"], put.json()["enabled"], put.json()["options"]) == (
        "nightly-2", "acme", False, {})
    assert "question" in admin.put(f"{GOLDEN}/{query_id}", {"name": "nightly-2"}).json()
    assert admin.patch(f"{GOLDEN}/{query_id}", {"options": {"bogus": 1}}).json() == {
        "options": ["unknown scoring option(s): bogus"]}


def test_golden_query_names_are_unique_within_a_tenant(admin, db):
    assert admin.post(GOLDEN, {"name": "g", "question": QUESTION}).status_code == 201
    again = admin.post(GOLDEN, {"name": "g", "question": QUESTION})
    assert (again.status_code, again.json()) == (
        400, {"non_field_errors": ["The fields tenant_id, name must make a unique set."]})
    other = admin.post(GOLDEN, {"name": "h", "question": QUESTION})
    renamed = admin.patch(f"{GOLDEN}/{other.json()['id']}", {"name": "g"})
    assert renamed.status_code == 400
    assert admin.post(GOLDEN, {"name": "g", "question": QUESTION, "tenant_id": "acme"}).status_code == 201


def test_baseline_and_run_bodies_are_validated(admin, pair):
    query = GoldenQuery.objects.create(name="g", question=QUESTION)
    assert "trace_id" in admin.post(f"{GOLDEN}/{query.pk}/baseline", {}).json()
    created = admin.post(f"{GOLDEN}/{query.pk}/baseline", {"trace_id": " base ", "note": "first"})
    assert created.status_code == 201 and created.json()["trace_id"] == "base"
    bad_run = admin.post(f"{GOLDEN}/{query.pk}/run", {"overrides": {"prompt": ""}})
    assert bad_run.status_code == 400 and "overrides.prompt" in bad_run.json()


@pytest.mark.parametrize("url", ["/inspector/regression/analyze", "/inspector/regression/stage-compare", GOLDEN])
def test_options_requests_answer_without_a_request_serializer(admin, url):
    assert admin.options(url).status_code == 200
