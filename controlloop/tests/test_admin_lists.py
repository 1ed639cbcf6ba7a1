"""The replan event changelist: 50 rows a page (14 columns a row), each with its link and action checkbox."""

import pytest
from django.utils import timezone

from controlloop.models import ReplanEvent
from testkit.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_replan_events_list_fifty_a_page(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    events = [ReplanEvent.objects.create(kind="decision", trace_id=f"re-{index}", trigger_type="error",
                                         decision="auto_retry", created_at=timezone.now()) for index in range(60)]
    page = client.get("/admin/controlloop/replanevent/").content.decode()
    assert page.count('class="action-select"') == 50
    first = events[0]  # oldest first (the model's ordering)
    assert f'href="/admin/controlloop/replanevent/{first.pk}/change/"' in page
    assert f'name="_selected_action" value="{first.pk}"' in page
    assert client.get("/admin/controlloop/replanevent/?p=2").content.decode().count('class="action-select"') == 10
