"""The replan event and breaker lists show codes as words and pills, not snake_case (issue 19)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from controlloop.models import ReplanBreaker, ReplanEvent
from controlloop.services import ensure_default_policy
from testkit.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_events_and_breakers_read_as_words(client):
    policy = ensure_default_policy()
    ReplanEvent.objects.create(kind="decision", trace_id="t-1", trigger_type="empty_result", severity="medium",
                               stage_name="execute", decision="stop_with_guidance", veto="no_replans_left",
                               breaker_state="half_open", policy=policy, created_at=timezone.now())
    ReplanBreaker.objects.create(tenant_id="default", policy=policy, trigger_type="tool_error_fatal",
                                 stage_name="execute", state="half_open")
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    events = client.get(reverse("admin:controlloop_replanevent_changelist")).content.decode()
    assert "Empty result" in events and "Stop with guidance" in events and "No replans left" in events
    assert "<td class=\"field-decision_words\">stop_with_guidance" not in events
    assert 'ops-status-warning">Half open</span>' in events
    breakers = client.get(reverse("admin:controlloop_replanbreaker_changelist")).content.decode()
    assert "Tool error fatal" in breakers and 'ops-status-warning">Half open</span>' in breakers
