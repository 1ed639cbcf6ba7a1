"""The replan timeline page: an unreadable filter is answered with its error, not ignored and not a 500."""

import pytest
from django.urls import reverse
from django.utils import timezone

from controlloop.models import ReplanEvent
from testkit.factories import UserFactory
from testkit.plugin import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def test_an_unreadable_date_answers_400_with_the_error_shown(staff):
    ReplanEvent.objects.create(kind="decision", trace_id="t", trigger_type="error", created_at=timezone.now())

    page = staff.get(reverse("admin:controlloop_timeline"), {"from": "yesterday"})

    assert page.status_code == 400
    assert page.context["error"] == "from: 'yesterday' is not a date or a time; write YYYY-MM-DD or YYYY-MM-DD HH:MM"
    assert page.context["timeline"]["events"] == []
    html = page.content.decode()
    assert 'data-testid="filter-error"' in html and 'aria-invalid="true"' in html
    assert 'value="yesterday"' in html  # kept, so it can be corrected


def test_a_zoom_shows_its_times_as_the_fields_read_them_back(staff):
    page = staff.get(reverse("admin:controlloop_timeline"), {"from": "2026-11-27T10:00:00Z",
                                                               "to": "2026-11-27T12:00:30Z"})
    assert page.status_code == 200
    assert (page.context["params"]["from"], page.context["params"]["to"]) == ("2026-11-27 10:00", "2026-11-27 12:00:30")


def test_trace_links_need_the_permission_to_see_traces(client):
    ReplanEvent.objects.create(kind="decision", trace_id="t", trigger_type="error", created_at=timezone.now())
    client.force_login(grant(UserFactory(is_staff=True), "controlloop.view_replanevent"))

    page = client.get(reverse("admin:controlloop_timeline"))

    assert page.status_code == 200
    assert page.context["timeline"]["events"][0]["traceUrl"] == ""
