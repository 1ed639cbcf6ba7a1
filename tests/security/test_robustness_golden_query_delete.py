"""Deleting a golden query that has runs is refused with 409 (was a 500 ProtectedError); nothing is deleted."""

import pytest

from inspector.services import trace_ingest
from regression.models import Baseline, GoldenQuery, RegressionRun
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db
QUESTION = "Which servers run checkout-api?"


@pytest.fixture
def golden(db):
    query = GoldenQuery.objects.create(name="checkout-servers", question=QUESTION)
    trace, _ = trace_ingest(payload=trace_body(question=QUESTION))
    Baseline.objects.create(golden_query=query, trace=trace)
    return query


def test_delete_of_a_golden_query_with_runs_is_409_and_deletes_nothing(admin_client, golden):
    RegressionRun.objects.create(golden_query=golden, baseline=golden.current_baseline)

    response = admin_client.delete(f"/inspector/regression/golden-queries/{golden.pk}")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert "checkout-servers" in detail and "1 run" in detail and "enabled" in detail
    assert GoldenQuery.objects.filter(pk=golden.pk).exists()
    assert Baseline.objects.filter(golden_query=golden).count() == 1
    assert RegressionRun.objects.filter(golden_query=golden).count() == 1


def test_delete_of_a_golden_query_without_runs_still_deletes_it_and_its_baselines(admin_client, golden):
    response = admin_client.delete(f"/inspector/regression/golden-queries/{golden.pk}")

    assert response.status_code == 204
    assert not GoldenQuery.objects.filter(pk=golden.pk).exists()
    assert not Baseline.objects.exists()


def test_the_409_is_documented_for_the_delete_operation():
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    responses = document["paths"]["/inspector/regression/golden-queries/{id}"]["delete"]["responses"]

    schema = responses["409"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorDetail"}
    assert document["components"]["schemas"]["ErrorDetail"]["required"] == ["detail"]
