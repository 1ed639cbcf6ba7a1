"""The request contracts of the control-loop API (controlloop/requests.py) and the answers they lead to."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from controlloop.models import ReplanPolicy
from controlloop.requests import SMALLINT_MAX, DecideRequest, ReplanPolicyIn, ReplanPolicyPatch
from controlloop.services import ensure_default_policy
from inspector.api_errors import pydantic_field_errors
from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body
from testkit.plugin import client_for

POLICIES = "/controlloop/policies"


def errors(model, body) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return pydantic_field_errors(caught.value)


# --- decide


@pytest.mark.parametrize("trigger", ["empty_result", {"trigger_type": "error"}, '{"type": "timeout"}', ["x"], 3, None])
def test_decide_takes_any_trigger_form(trigger):
    body = DecideRequest.model_validate({"trace_id": " t1 ", "trigger": trigger})
    assert (body.trace_id, body.tenant_id, body.trigger, body.plan) == ("t1", "", trigger, {})


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"trigger": "error"}, "trace_id"),
        ({"trace_id": "", "trigger": "error"}, "trace_id"),
        ({"trace_id": "t" * 129, "trigger": "error"}, "trace_id"),
        ({"trace_id": "t"}, "trigger"),
        ({"trace_id": "t", "trigger": "error", "tenant_id": "x" * 65}, "tenant_id"),
        ({"trace_id": "t", "trigger": "error", "plan": []}, "plan"),
        ({"trace_id": "t", "trigger": "error", "extra": 1}, "extra"),
    ],
)
def test_decide_field_errors(body, path):
    assert path in errors(DecideRequest, body)


# --- policies


def test_policy_body_sends_only_its_fields_to_the_model():
    body = ReplanPolicyIn.model_validate({"name": " strict ", "max_replans": 1, "allowed_triggers": ["error"]})
    assert body.changes() == {"name": "strict", "max_replans": 1, "allowed_triggers": ["error"]}
    assert ReplanPolicyPatch.model_validate({}).changes() == {}
    assert ReplanPolicyPatch.model_validate({"min_severity": "high"}).changes() == {"min_severity": "high"}
    assert "default" not in ReplanPolicyPatch.model_json_schema()["properties"]["name"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "p", "tenant_id": "t" * 65}, "tenant_id"),
        ({"name": "p", "max_replans": -1}, "max_replans"),
        ({"name": "p", "max_replans": SMALLINT_MAX + 1}, "max_replans"),
        ({"name": "p", "allowed_triggers": ["error", "meteor"]}, "allowed_triggers.1"),
        ({"name": "p", "min_severity": "apocalyptic"}, "min_severity"),
        ({"name": "p", "min_interval_seconds": -1}, "min_interval_seconds"),
        ({"name": "p", "cooling_period_seconds": -0.5}, "cooling_period_seconds"),
        ({"name": "p", "rules": []}, "rules"),
        ({"name": "p", "breaker_window": -1}, "breaker_window"),
        ({"name": "p", "breaker_failure_ratio": 0}, "breaker_failure_ratio"),
        ({"name": "p", "breaker_failure_ratio": 1.5}, "breaker_failure_ratio"),
        ({"name": "p", "id": 4}, "id"),
    ],
)
def test_policy_field_errors(body, path):
    assert path in errors(ReplanPolicyIn, body)
    if path != "name":
        assert path in errors(ReplanPolicyPatch, {key: value for key, value in body.items() if key != "name"})


# --- through the API


@pytest.fixture
def superuser(db):
    return client_for(UserFactory(is_superuser=True, is_staff=True))


@pytest.mark.django_db
def test_decide_answer_matches_its_schema_exactly_without_nulls(superuser):
    trace_ingest(payload=trace_body(trace_id="t-cl"))
    response = superuser.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": "cosmic rays"}, format="json")
    assert response.status_code == 201, response.json()
    openapi = SchemaGenerator().get_schema(request=None, public=True)
    schema = openapi["paths"]["/controlloop/decide"]["post"]["responses"]["201"]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": openapi["components"]})
    assert [e.message for e in validator.iter_errors(response.json())] == []
    assert "null" not in response.content.decode()
    assert set(response.json()) == {"event_id", "request_event_id", "approved", "decision", "reason", "veto",
                                    "attempt", "max_attempts", "scope", "guidance", "trigger", "severity", "patch"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", [[], "error"])
def test_decide_body_must_be_an_object(superuser, body):
    response = superuser.post("/controlloop/decide", body, format="json")
    assert (response.status_code, response.json()) == (400, {"detail": "the body must be a JSON object"})


@pytest.mark.django_db
def test_policy_uniqueness_and_whole_policy_checks_keep_their_messages(superuser):
    ensure_default_policy()
    created = superuser.post(POLICIES, {"name": "strict", "tenant_id": "acme"}, format="json")
    assert created.status_code == 201, created.json()
    second = superuser.post(POLICIES, {"name": "other", "tenant_id": "acme"}, format="json")
    assert (second.status_code, second.json()) == (
        400, {"tenant_id": ["replan policy with this tenant id already exists."]})
    default = superuser.post(POLICIES, {"name": "another-default", "is_default": True}, format="json")
    assert (default.status_code, default.json()) == (
        400, {"is_default": ["replan policy with this is default already exists."]})
    mixed = superuser.post(POLICIES, {"name": "d", "tenant_id": "globex", "is_default": True}, format="json")
    assert (mixed.status_code, mixed.json()) == (400, {"tenant_id": ["the default policy belongs to no tenant"]})
    interval = superuser.patch(f"{POLICIES}/{created.json()['id']}", {"min_interval_seconds": 60}, format="json")
    assert interval.status_code == 400 and list(interval.json()) == ["__all__"]
    assert "min_interval_seconds must not exceed cooling_period_seconds" in interval.json()["__all__"][0]


@pytest.mark.django_db
def test_policy_put_keeps_absent_fields_and_patch_changes_only_the_sent_ones(superuser):
    created = superuser.post(POLICIES, {"name": "strict", "tenant_id": "acme", "max_replans": 1,
                                        "allowed_triggers": ["error"]}, format="json").json()
    put = superuser.put(f"{POLICIES}/{created['id']}", {"name": "renamed"}, format="json")
    assert put.status_code == 200, put.json()
    assert (put.json()["name"], put.json()["max_replans"], put.json()["allowed_triggers"]) == (
        "renamed", 1, ["error"])
    assert "name" in superuser.put(f"{POLICIES}/{created['id']}", {"max_replans": 2}, format="json").json()
    patched = superuser.patch(f"{POLICIES}/{created['id']}", {"max_replans": 3}, format="json")
    assert (patched.json()["name"], patched.json()["max_replans"]) == ("renamed", 3)
    assert ReplanPolicy.objects.get(pk=created["id"]).tenant_id == "acme"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/controlloop/decide", POLICIES])
def test_options_requests_answer_without_a_request_serializer(superuser, url):
    assert superuser.options(url).status_code == 200
