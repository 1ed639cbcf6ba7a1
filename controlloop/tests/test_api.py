"""/controlloop/policies, /controlloop/decide and /controlloop/events."""

import pytest
from rest_framework.test import APIClient

from controlloop.models import ReplanEvent, ReplanPolicy
from controlloop.services import ensure_default_policy
from inspector.services import trace_ingest
from testkit.factories import UserFactory, trace_body
from testkit.plugin import client_for, grant

pytestmark = pytest.mark.django_db
POLICIES = "/controlloop/policies"


@pytest.fixture
def operator_cl(db) -> APIClient:
    return client_for(grant(UserFactory(tenants=["default", "acme"]), "controlloop.view_replanpolicy",
                            "controlloop.add_replanpolicy",
                            "controlloop.change_replanpolicy", "controlloop.delete_replanpolicy",
                            "controlloop.view_replanevent", "controlloop.add_replanevent"))


@pytest.fixture
def reader_cl(db) -> APIClient:
    return client_for(grant(UserFactory(), "controlloop.view_replanpolicy", "controlloop.view_replanevent"))


@pytest.fixture
def trace(db):
    stored, _ = trace_ingest(payload=trace_body(trace_id="t-cl"))
    return stored


def policy_body(**overrides):
    return {"name": "strict", "tenant_id": "acme", "max_replans": 1, "allowed_triggers": ["error", "timeout"],
            "min_severity": "medium", "min_interval_seconds": 5, "cooling_period_seconds": 30,
            "rules": {"error": {"decision": "auto_retry", "scope": "execute"}}, **overrides}


def test_default_policy_exists_with_documented_rules(reader_cl):
    ensure_default_policy()  # a transactional test elsewhere may have flushed the migration's row
    policies = reader_cl.get(POLICIES).json()["results"]
    default = next(p for p in policies if p["is_default"])
    assert default["rules"]["empty_result"]["decision"] == "auto_retry"
    assert default["rules"]["slot_missing"]["decision"] == "ask_user"
    assert default["rules"]["policy_violation"]["decision"] == "stop_with_guidance"
    assert default["rules"]["present_limit"]["scope"] == "present"


def test_create_update_and_delete_policy(operator_cl):
    created = operator_cl.post(POLICIES, policy_body(), format="json")
    assert created.status_code == 201, created.json()
    policy_id = created.json()["id"]
    patched = operator_cl.patch(f"{POLICIES}/{policy_id}", {"max_replans": 3}, format="json")
    assert patched.status_code == 200 and patched.json()["max_replans"] == 3
    assert operator_cl.delete(f"{POLICIES}/{policy_id}").status_code == 204


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_replans": -1}, "max_replans"),
        ({"min_interval_seconds": -1}, "min_interval_seconds"),
        ({"min_interval_seconds": 60, "cooling_period_seconds": 30}, "__all__"),
        ({"allowed_triggers": ["error", "meteor"]}, "allowed_triggers"),
        ({"rules": {"meteor": {"decision": "auto_retry"}}}, "rules"),
        ({"rules": {"error": {"decision": "panic"}}}, "rules"),
        ({"min_severity": "apocalyptic"}, "min_severity"),
    ],
)
def test_invalid_policies_are_400(operator_cl, overrides, field):
    ensure_default_policy()
    response = operator_cl.post(POLICIES, policy_body(**overrides), format="json")
    assert response.status_code == 400
    # The field's name, or a dotted path into it (allowed_triggers.1).
    assert any(key.split(".")[0] == field for key in response.json()), response.json()
    assert ReplanPolicy.objects.count() == 1


def test_default_policy_cannot_be_deleted(operator_cl):
    default = ensure_default_policy()
    superuser = client_for(UserFactory(is_superuser=True))
    assert superuser.delete(f"{POLICIES}/{default.pk}").status_code == 409
    # Other users may not change it at all: it is shared by every tenant.
    assert operator_cl.delete(f"{POLICIES}/{default.pk}").status_code == 403
    assert operator_cl.patch(f"{POLICIES}/{default.pk}", {"max_replans": 9}, format="json").status_code == 403
    assert ReplanPolicy.objects.get(pk=default.pk).max_replans != 9


def test_policies_of_other_tenants_are_invisible_and_unwritable(operator_cl):
    ensure_default_policy()
    other = ReplanPolicy.objects.create(name="other", tenant_id="globex", max_replans=1)
    names = [p["name"] for p in operator_cl.get(POLICIES).json()["results"]]
    assert "other" not in names
    assert operator_cl.get(f"{POLICIES}/{other.pk}").status_code == 404
    assert operator_cl.patch(f"{POLICIES}/{other.pk}", {"max_replans": 5}, format="json").status_code == 404
    assert operator_cl.post(POLICIES, policy_body(tenant_id="initech", name="mine"), format="json").status_code == 403
    assert operator_cl.post(POLICIES, policy_body(tenant_id="", name="mine"), format="json").status_code == 403


@pytest.mark.parametrize(
    "trigger",
    ["empty_result", "EMPTY-RESULT execute no rows", '{"type": "no_results", "stage": "execute"}',
     {"trigger_type": "empty_result", "stage_name": "execute", "severity": "medium"}],
)
def test_decide_accepts_any_trigger_form(operator_cl, trace, trigger):
    response = operator_cl.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": trigger,
                                                        "plan": {"params": {"days": 1}}}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["trigger"] == "empty_result" and data["decision"] == "auto_retry" and data["approved"] is True
    assert data["patch"]["json_patch"] == [{"op": "replace", "path": "/params/days", "value": 4}]
    assert ReplanEvent.objects.filter(pk=data["event_id"], kind="decision").exists()


def test_decide_unknown_trigger_is_kept_raw_and_stopped(operator_cl, trace):
    data = operator_cl.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": "cosmic rays"},
                            format="json").json()
    assert data["trigger"] == "unknown" and data["decision"] == "stop_with_guidance"
    assert ReplanEvent.objects.get(pk=data["event_id"]).trigger_raw == "cosmic rays"


def test_decide_takes_a_null_trigger_as_an_unknown_one(operator_cl, trace):
    # Given a stored trace, when the trigger is JSON null (a form safe_parse_trigger accepts)
    response = operator_cl.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": None}, format="json")

    # then it is decided as an unknown trigger, and both events are recorded
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["trigger"], data["decision"]) == ("unknown", "stop_with_guidance")
    assert ReplanEvent.objects.filter(trace_id="t-cl", trigger_type="unknown").count() == 2


def test_events_leave_out_what_their_kind_has_not(operator_cl, reader_cl, trace):
    operator_cl.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": "timeout"}, format="json")

    request, decision = reader_cl.get("/controlloop/events?trace=t-cl").json()["results"]

    assert (request["kind"], "request_id" in request, "approved" in request) == ("request", False, False)
    assert (decision["request_id"], decision["approved"]) == (request["id"], True)
    assert None not in request.values() and None not in decision.values()


def test_decide_errors_and_permissions(operator_cl, reader_cl, anon_client, trace):
    assert operator_cl.post("/controlloop/decide", {"trace_id": "nope", "trigger": "error"},
                            format="json").status_code == 404
    assert operator_cl.post("/controlloop/decide", {"trigger": "error"}, format="json").status_code == 400
    assert reader_cl.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": "error"},
                          format="json").status_code == 403
    assert anon_client.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": "error"},
                            format="json").status_code == 401
    assert ReplanEvent.objects.count() == 0


def test_events_filters(operator_cl, reader_cl, trace):
    for trigger in ("error", "timeout", "empty_result"):
        operator_cl.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": trigger}, format="json")
    events = reader_cl.get("/controlloop/events?trace=t-cl").json()["results"]
    assert len(events) == 6  # a request and a decision each
    decisions = reader_cl.get("/controlloop/events?trace=t-cl&kind=decision&trigger_type=timeout").json()["results"]
    assert [e["trigger_type"] for e in decisions] == ["timeout"]
    assert reader_cl.get("/controlloop/events?severity=critical").json()["results"] == []
    # the default policy allows two replans: the third trigger is vetoed and stops
    assert len(reader_cl.get("/controlloop/events?decision=auto_retry&kind=decision").json()["results"]) == 2
    assert reader_cl.get("/controlloop/events?from=2999-01-01T00:00:00Z").json()["results"] == []
    assert reader_cl.get("/controlloop/events?severity=bad").status_code == 400
    assert reader_cl.get("/controlloop/events?from=yesterday").status_code == 400


def test_events_need_view_permission(plain_client, anon_client):
    assert plain_client.get("/controlloop/events").status_code == 403
    assert anon_client.get("/controlloop/events").status_code == 401


def test_migration_default_rules_match_the_code_defaults():
    import importlib

    from controlloop.contracts import TriggerRule
    from controlloop.decisions import DEFAULT_RULES

    migration = importlib.import_module("controlloop.migrations.0002_default_policy")
    assert {k: TriggerRule.model_validate(v) for k, v in migration.RULES.items()} == DEFAULT_RULES
    stored = ensure_default_policy()
    assert {k: TriggerRule.model_validate(v) for k, v in stored.rules.items()} == DEFAULT_RULES


def test_the_stored_default_policy_is_default_policy():
    from controlloop.decisions import default_policy

    for stored in (ensure_default_policy(), _recreated_default()):
        assert stored.snapshot().model_dump(exclude={"policy_id"}) == default_policy().model_dump(exclude={"policy_id"})


def _recreated_default() -> ReplanPolicy:
    ReplanPolicy.objects.filter(is_default=True).delete()
    return ensure_default_policy()


def test_default_policy_is_recreated_if_missing():
    from controlloop.services import policy_for_tenant

    ReplanPolicy.objects.all().delete()
    assert policy_for_tenant("anyone").is_default


def test_events_say_what_they_decided_with_and_filter_isolated_ones(operator_cl, reader_cl, trace):
    operator_cl.post("/controlloop/decide", {"trace_id": "t-cl", "trigger": "error"}, format="json")
    live = ReplanEvent.objects.filter(kind="decision").get()
    ReplanEvent.objects.create(kind="decision", trace_id="t-cl", trigger_type="error", decision="auto_retry",
                               approved=True, isolated=True, breaker_state="neutral", policy_version=3,
                               created_at=live.created_at)

    everything = reader_cl.get("/controlloop/events?trace=t-cl&kind=decision").json()["results"]
    only_live = reader_cl.get("/controlloop/events?trace=t-cl&kind=decision&isolated=false").json()["results"]
    only_isolated = reader_cl.get("/controlloop/events?trace=t-cl&kind=decision&isolated=true").json()["results"]

    assert len(everything) == 2
    assert [e["id"] for e in only_live] == [live.pk]
    assert only_live[0]["isolated"] is False and only_live[0]["policy_version"] == live.policy_version
    assert [(e["isolated"], e["breaker_state"], e["policy_version"]) for e in only_isolated] == [(True, "neutral", 3)]
    assert reader_cl.get("/controlloop/events?isolated=maybe").status_code == 400


def test_a_policy_answers_its_version_raised_by_each_change(operator_cl):
    created = operator_cl.post(POLICIES, policy_body(), format="json").json()
    changed = operator_cl.patch(f"{POLICIES}/{created['id']}", {"max_replans": 2}, format="json").json()

    assert (created["version"], changed["version"]) == (1, 2)
