"""Answers that used to contradict the OpenAPI schema now match it exactly and carry no JSON null.

Each answer is validated against the schema drf-spectacular generates for its
operation, status and content type (OpenAPI 3.1, i.e. JSON Schema 2020-12).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from inspector.services import trace_ingest
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun
from testkit.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db
QUESTION = "Which servers run checkout-api?"


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def assert_conforms(openapi: dict[str, Any], response, path: str, method: str) -> None:
    """The answer's status and content type are documented for the operation, and its body fits their schema."""
    documented = openapi["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, f"{response.status_code} not documented for {method} {path}"
    media_type = response["Content-Type"].split(";")[0]
    content = documented[str(response.status_code)].get("content", {})
    assert media_type in content, f"{media_type} not documented for {method} {path} {response.status_code}"
    if media_type != "application/json":
        return
    schema = {**content[media_type]["schema"], "components": openapi["components"]}
    body = response.json()
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft202012Validator(schema).iter_errors(body)]
    assert errors == []


def assert_no_null(value: Any, where: str = "") -> None:
    """The product rule: no API answer carries null (absent keys or typed empty values instead)."""
    assert value is not None, f"null at {where or 'the root'}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_null(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_null(item, f"{where}.{index}")


@pytest.fixture
def asset_id(admin_client) -> int:
    response = admin_client.post("/asset-registry/assets", {"asset_type": "prompt", "name": "schema_probe",
                                                            "spec": VALID_SPECS["prompt"]}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def test_versions_and_publish_leave_out_copied_from_and_unset_dates(openapi, admin_client, asset_id):
    listed = admin_client.get(f"/asset-registry/assets/{asset_id}/versions")
    assert_conforms(openapi, listed, "/asset-registry/assets/{id}/versions", "get")
    assert_no_null(listed.json())
    draft = listed.json()["results"][0]
    assert "copied_from" not in draft and "published_at" not in draft and "archived_at" not in draft

    published = admin_client.post(f"/asset-registry/assets/{asset_id}/publish", {"version": 1}, format="json")
    assert_conforms(openapi, published, "/asset-registry/assets/{id}/publish", "post")
    assert_no_null(published.json())
    assert "copied_from" not in published.json() and "published_at" in published.json()


def test_a_rolled_back_version_names_the_version_it_copies(openapi, admin_client, asset_id):
    admin_client.post(f"/asset-registry/assets/{asset_id}/publish", {"version": 1}, format="json")
    admin_client.post(f"/asset-registry/assets/{asset_id}/versions", {"spec": {"template": "v2 {question}"}},
                      format="json")
    admin_client.post(f"/asset-registry/assets/{asset_id}/publish", {"version": 2}, format="json")

    rollback = admin_client.post(f"/asset-registry/assets/{asset_id}/rollback", {"version": 1}, format="json")

    assert_conforms(openapi, rollback, "/asset-registry/assets/{id}/rollback", "post")
    assert_no_null(rollback.json())
    assert rollback.json()["copied_from"] == 1


@pytest.fixture
def golden() -> GoldenQuery:
    query = GoldenQuery.objects.create(name="schema-probe", question=QUESTION)
    trace, _ = trace_ingest(payload=trace_body(trace_id="t-baseline", question=QUESTION))
    Baseline.objects.create(golden_query=query, trace=trace, note="first")
    return query


def test_runs_leave_out_score_and_other_unset_values(openapi, admin_client, golden):
    pending = RegressionRun.objects.create(golden_query=golden, baseline=golden.current_baseline)
    analysing = RegressionRun.objects.create(
        golden_query=golden, baseline=golden.current_baseline,
        analysis=RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=["t-baseline"]))
    scored = RegressionRun.objects.create(
        golden_query=golden, baseline=golden.current_baseline, status="completed",
        analysis=RegressionAnalysis.objects.create(kind="pair", status="completed", score=0, verdict="PASS"))

    listed = admin_client.get("/inspector/regression/runs")
    assert_conforms(openapi, listed, "/inspector/regression/runs", "get")
    assert_no_null(listed.json())
    runs = {run["id"]: run for run in listed.json()["results"]}
    for run_id in (pending.pk, analysing.pk):
        assert "score" not in runs[run_id] and "finished_at" not in runs[run_id]
    assert "analysis_id" not in runs[pending.pk] and "candidate_trace_id" not in runs[pending.pk]
    assert runs[scored.pk]["score"] == 0 and runs[scored.pk]["verdict"] == "PASS"

    one = admin_client.get(f"/inspector/regression/runs/{pending.pk}")
    assert_conforms(openapi, one, "/inspector/regression/runs/{id}", "get")
    assert_no_null(one.json())


def test_baseline_history_is_a_documented_list(openapi, admin_client, golden):
    listed = admin_client.get(f"/inspector/regression/golden-queries/{golden.pk}/baseline")

    assert_conforms(openapi, listed, "/inspector/regression/golden-queries/{id}/baseline", "get")
    assert_no_null(listed.json())
    assert [(b["trace_id"], b["note"]) for b in listed.json()] == [("t-baseline", "first")]


def test_setting_a_baseline_answers_the_documented_baseline(openapi, admin_client, golden):
    trace_ingest(payload=trace_body(trace_id="t-second", question=QUESTION))

    created = admin_client.post(f"/inspector/regression/golden-queries/{golden.pk}/baseline",
                                {"trace_id": "t-second"}, format="json")

    assert created.status_code == 201
    assert_conforms(openapi, created, "/inspector/regression/golden-queries/{id}/baseline", "post")
    assert_no_null(created.json())


@pytest.mark.parametrize(("export", "media_type"), [("", "application/json"), ("json", "application/json"),
                                                    ("csv", "text/csv")])
def test_impact_answers_and_downloads_have_documented_content_types(openapi, admin_client, asset_id, export,
                                                                     media_type):
    response = admin_client.get(f"/asset-registry/assets/{asset_id}/impact" + (f"?export={export}" if export else ""))

    assert response.status_code == 200 and response["Content-Type"].split(";")[0] == media_type
    assert_conforms(openapi, response, "/asset-registry/assets/{id}/impact", "get")
    if export == "csv":
        assert next(csv.reader(io.StringIO(response.content.decode())))  # a header row
