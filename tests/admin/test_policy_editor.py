"""The replan policy form: rules as indented JSON beside their schema, checked on save by the policy's contract."""

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from controlloop.models import ReplanPolicy
from controlloop.services import ensure_default_policy
from testkit.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy_page(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    policy = ensure_default_policy()
    return client, policy, reverse("admin:controlloop_replanpolicy_change", args=[policy.pk])


def form_data(policy: ReplanPolicy, **changes) -> dict:
    data = {"name": policy.name, "tenant_id": policy.tenant_id, "is_default": "on" if policy.is_default else "",
            "allowed_triggers": policy.allowed_triggers, "min_severity": policy.min_severity,
            "max_replans": policy.max_replans, "min_interval_seconds": policy.min_interval_seconds,
            "cooling_period_seconds": policy.cooling_period_seconds, "rules": json.dumps(policy.rules),
            "breaker_window": policy.breaker_window, "breaker_min_samples": policy.breaker_min_samples,
            "breaker_failure_ratio": policy.breaker_failure_ratio,
            "breaker_cooldown_seconds": policy.breaker_cooldown_seconds}
    data.update(changes)
    return {key: value for key, value in data.items() if value != "" or key == "rules"}


def test_rules_are_indented_beside_their_schema_and_triggers_are_words(policy_page):
    client, policy, url = policy_page
    page = client.get(url).content.decode()
    policy.refresh_from_db()  # the rules as the database hands them back (PostgreSQL's jsonb reorders keys)
    assert escape(json.dumps(policy.rules, indent=2, ensure_ascii=False)) in page
    assert 'data-testid="json-schema"' in page and "JSON schema of the rules" in page
    assert "&quot;stop_with_guidance&quot;" in page  # the schema names the decisions
    assert 'value="tool_error_fatal"' in page and "Tool error fatal</label>" in page
    assert '<option value="low" selected>Low</option>' in page


@pytest.mark.parametrize(("rules", "message"), [
    ('{"timeout": {', "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 14)."),
    ('{"bogus": {}}', "unknown trigger type(s): bogus"),
    ('{"timeout": {"decision": "explode"}}',
     "timeout.decision: Input should be &#x27;auto_retry&#x27;, &#x27;ask_user&#x27; or &#x27;stop_with_guidance&#x27;"),
    ('["timeout"]', "rules must be an object: trigger type → rule"),
])
def test_bad_rules_are_refused_with_the_contracts_message(policy_page, rules, message):
    client, policy, url = policy_page
    response = client.post(url, form_data(policy, rules=rules))
    assert response.status_code == 200 and message in response.content.decode()
    policy.refresh_from_db()
    assert policy.version == 1


def test_valid_rules_and_ticked_triggers_are_saved(policy_page):
    client, policy, url = policy_page
    rules = {"timeout": {"decision": "ask_user", "scope": "execute", "guidance": "ask first"}}
    response = client.post(url, form_data(policy, rules=json.dumps(rules, indent=2),
                                          allowed_triggers=["timeout", "error"]))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.rules["timeout"]["decision"] == "ask_user"
    assert policy.allowed_triggers == ["error", "timeout"]  # in the contract's order, whatever the form's
    assert policy.version == 2


def test_empty_rules_are_an_empty_object(policy_page):
    client, policy, url = policy_page
    assert client.post(url, form_data(policy, rules="")).status_code == 302
    policy.refresh_from_db()
    assert policy.rules == {}
