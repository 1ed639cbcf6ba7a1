"""Found by the extended schemathesis run: ``from``/``to`` query times with offsets PostgreSQL cannot hold.

PostgreSQL refuses a time zone displacement beyond ±15:59 (DataError, a 500),
and an offset that moves a time out of the calendar raised OverflowError (a
500 on any database). Query times are now read as UTC, like ingested times.
"""

from datetime import timedelta

import pytest

from inspector.services import trace_ingest
from inspector.timeparse import parse_moment
from testkit.factories import AssetFactory, AssetVersionFactory, trace_body

pytestmark = pytest.mark.django_db
OUT_OF_CALENDAR = "0001-01-01T00:00:00%2B20:42"  # +20:42: before year 1 in UTC


@pytest.fixture
def trace(db):
    trace, _ = trace_ingest(payload=trace_body(trace_id="t-times", started_at="2026-11-20T10:00:00Z"))
    return trace


def test_parse_moment_answers_utc_and_refuses_times_outside_the_calendar():
    moment = parse_moment("2026-11-21T06:42:00+20:42")

    assert moment.utcoffset() == timedelta(0) and moment.isoformat() == "2026-11-20T10:00:00+00:00"
    with pytest.raises(ValueError):
        parse_moment("0001-01-01T00:00:00+20:42")


@pytest.mark.parametrize(("moment", "found"), [("2026-11-21T06:41:00%2B20:42", True),
                                               ("2026-11-21T06:43:00%2B20:42", False)])
def test_trace_list_times_with_large_offsets_filter_in_utc(admin_client, trace, moment, found):
    response = admin_client.get(f"/inspector/traces?from={moment}")

    assert response.status_code == 200
    assert [t["trace_id"] for t in response.json()["results"]] == (["t-times"] if found else [])


@pytest.mark.parametrize("url", [f"/inspector/traces?from={OUT_OF_CALENDAR}",
                                 f"/inspector/traces?to={OUT_OF_CALENDAR}",
                                 f"/controlloop/events?from={OUT_OF_CALENDAR}",
                                 f"/controlloop/events?to={OUT_OF_CALENDAR}"])
def test_list_filter_times_outside_the_calendar_are_400(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 400 and list(response.json()) == [url.split("?")[1].split("=")[0]]


def test_events_filter_times_with_large_offsets_are_read(admin_client):
    assert admin_client.get("/controlloop/events?from=1701-07-09T16:54:08.574%2B20:42").status_code == 200


@pytest.mark.parametrize(("moment", "status"), [("2026-11-21T06:41:00%2B20:42", 200), (OUT_OF_CALENDAR, 400)])
def test_impact_times_with_large_offsets(admin_client, moment, status):
    version = AssetVersionFactory(asset=AssetFactory(asset_type="prompt"), version=1)

    response = admin_client.get(f"/asset-registry/assets/{version.asset_id}/impact?from={moment}")

    assert response.status_code == status
