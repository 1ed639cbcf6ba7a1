"""The trigram index behind text search in questions exists on PostgreSQL and the search still finds the same traces."""

import pytest
from django.db import connection

from inspector.services import trace_ingest
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL index")
def test_trigram_index_on_questions_exists():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'trace_question_trgm_idx'")
        row = cursor.fetchone()
    assert row and "gin_trgm_ops" in row[0] and "upper" in row[0].lower()


def test_text_search_is_case_insensitive_and_matches_inside_words(viewer_client):
    trace_ingest(payload=trace_body(trace_id="cpu", question="CPU usage of Checkout-API"))
    trace_ingest(payload=trace_body(trace_id="events", question="Events on pg-orders"))
    found = [t["trace_id"] for t in viewer_client.get("/inspector/traces?q=checkout-ap").json()["results"]]
    assert found == ["cpu"]
