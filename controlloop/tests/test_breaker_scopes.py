"""The breaker per (tenant, policy, trigger type, stage), stored in ReplanBreaker and locked while deciding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controlloop.contracts import ReplanTrigger
from controlloop.models import ReplanBreaker, ReplanEvent
from controlloop.services import ensure_default_policy, replan_decide, replan_record_execution

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def trigger(kind: str = "empty_result", stage: str = "execute") -> ReplanTrigger:
    return ReplanTrigger(trigger_type=kind, stage_name=stage, severity="medium")


def ask(trace: str, tenant: str = "acme", when: float = 0, **kind):
    return replan_decide(trace_id=trace, tenant_id=tenant, trigger=trigger(**kind), plan={}, now=at(when))


def failing_retries(count: int, tenant: str = "acme", **kind) -> None:
    """``count`` approved replans in one scope whose re-runs raised the trigger again."""
    for number in range(count):
        record = ask(f"{tenant}-fail-{number}", tenant, when=number, **kind)
        assert record.decision.approved, record.decision.reason
        replan_record_execution(decision_event=record.decision_event, succeeded=False, now=at(number + 0.5))


def test_failing_retries_open_only_their_own_scope():
    ensure_default_policy()
    failing_retries(4, "acme")

    refused = ask("acme-next", "acme", when=10)
    assert refused.decision.veto == "breaker_open" and refused.breaker == "open"
    assert refused.decision.reason == "breaker open for execute/empty_result in tenant acme: 4 of the last 4 replans failed"
    # Another tenant, another trigger type, another stage of the same tenant: untouched.
    assert ask("globex-1", "globex", when=10).decision.approved
    assert ask("acme-error", "acme", when=10, kind="error").decision.approved
    assert ask("acme-compose", "acme", when=10, stage="compose").decision.approved
    scopes = {(b.tenant_id, b.trigger_type, b.stage_name): b.state for b in ReplanBreaker.objects.all()}
    assert scopes == {("acme", "empty_result", "execute"): "open", ("globex", "empty_result", "execute"): "closed",
                      ("acme", "error", "execute"): "closed", ("acme", "empty_result", "compose"): "closed"}


def test_half_open_admits_one_trial_and_its_success_closes_the_breaker():
    ensure_default_policy()
    failing_retries(4)
    cooled = 3.5 + 300  # the fourth outcome (at 3.5 s) opened it; the default cool-down is 300 s

    trial = ask("trial", when=cooled)
    assert trial.decision.approved and trial.breaker == "half_open"
    other = ask("other", when=cooled + 1)
    assert other.decision.veto == "breaker_open" and "a trial replan is running" in other.decision.reason

    replan_record_execution(decision_event=trial.decision_event, succeeded=True, now=at(cooled + 2))
    row = ReplanBreaker.objects.get(tenant_id="acme")
    assert (row.state, row.outcomes, row.opened_at, row.trial_started_at) == ("closed", [], None, None)
    # The four old failures are gone: one more failure does not reopen it.
    again = ask("after", when=cooled + 3)
    replan_record_execution(decision_event=again.decision_event, succeeded=False, now=at(cooled + 4))
    assert ask("after-2", when=cooled + 5).decision.approved


def test_failed_trial_reopens_and_the_cool_down_starts_again():
    ensure_default_policy()
    failing_retries(4)
    trial = ask("trial", when=310)
    replan_record_execution(decision_event=trial.decision_event, succeeded=False, now=at(311))

    assert ReplanBreaker.objects.get(tenant_id="acme").state == "open"
    assert ask("soon", when=311 + 299).decision.veto == "breaker_open"
    assert ask("later", when=311 + 300).decision.approved


def test_asking_the_user_never_creates_or_consults_a_breaker():
    ensure_default_policy()
    record = ask("slot", kind="slot_missing", stage="route_plan")
    assert record.decision.decision == "ask_user" and record.breaker == ""
    assert not ReplanBreaker.objects.exists()


def test_decisions_record_the_policy_version_they_used():
    policy = ensure_default_policy()
    first = ask("v-1")
    policy.max_replans = 3
    policy.save()
    policy.refresh_from_db()
    second = ask("v-2")
    assert second.decision_event.policy_version == first.decision_event.policy_version + 1 == policy.version
    assert not ReplanEvent.objects.filter(isolated=True).exists()


def test_every_save_raises_the_policy_version():
    policy = ensure_default_policy()
    version = policy.version
    policy.save()
    assert policy.version == version + 1
    policy.min_severity = "high"
    policy.save(update_fields=["min_severity"])
    policy.refresh_from_db()
    assert policy.version == version + 2


def test_admin_lists_breakers_read_only_with_their_scope(client):
    from django.contrib.auth import get_user_model

    ensure_default_policy()
    failing_retries(4)
    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.login(username="root", password="pw")
    listing = client.get("/admin/controlloop/replanbreaker/?state__exact=open")
    assert listing.status_code == 200 and b"empty_result" in listing.content and b"acme" in listing.content
    row = ReplanBreaker.objects.get()
    page = client.get(f"/admin/controlloop/replanbreaker/{row.pk}/change/")
    assert page.status_code == 200 and b'name="state"' not in page.content  # nothing to edit
    assert client.get("/admin/controlloop/replanevent/?isolated__exact=1").status_code == 200
