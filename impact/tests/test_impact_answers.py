"""The impact JSON is null-free, snake_case and exactly its schema; the CSV is rounded, readable and complete."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from testkit.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db
PATH = "/asset-registry/assets/{id}/impact"
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PER_VERSION = 25


def _trace(number: int, version: int, *, duration: int, status: str = "ok", with_prompt: bool = False) -> None:
    applied = {"query": f"ci_lookup@{version}", **({"prompt": "answer@1"} if with_prompt else {})}
    body = trace_body(trace_id=f"t-{version}-{number}", duration_ms=duration, applied_assets=applied,
                      started_at=(START + timedelta(days=version, minutes=number)).isoformat())
    for stage in body["stages"]:
        stage["input"]["applied_assets"] = {"query": f"ci_lookup@{version}"} if stage["stage"] == "execute" else {}
    body["stages"][2]["output"]["diagnostics"].update(status=status, errors=["boom"] if status == "error" else [])
    trace_ingest(payload=body)


@pytest.fixture
def asset(db):
    """v1 (published) and v2 with 25 traces each; v2 is slower and fails more; some traces also apply a prompt."""
    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_publish(version=lookup.versions.get(version=1))
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5})
    answer = asset_create(tenant_id="default", asset_type="prompt", name="answer", spec=VALID_SPECS["prompt"])
    asset_version_publish(version=answer.versions.get(version=1))
    for number in range(PER_VERSION):
        _trace(number, 1, duration=100 + number, status="error" if number < 1 else "ok")
        _trace(number, 2, duration=400 + number, status="error" if number < 9 else "ok", with_prompt=number % 2 == 0)
    return lookup


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def assert_null_free_snake_case(value: Any, where: str = "") -> None:
    assert value is not None, f"null at {where or 'the root'}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert SNAKE.match(key), f"key {key!r} at {where or 'the root'} is not snake_case"
            assert_null_free_snake_case(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_null_free_snake_case(item, f"{where}.{index}")


def assert_exactly_documented(openapi: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "") -> None:
    """Every key of the answer is a documented property (or a documented map's key), recursively."""
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, dict):
        properties = schema.get("properties")
        for key, item in value.items():
            if properties is not None:
                assert key in properties, f"{where}.{key} is not in the schema"
                assert_exactly_documented(openapi, properties[key], item, f"{where}.{key}")
            else:
                assert isinstance(schema.get("additionalProperties"), dict), f"{where} is a free-form object"
                assert_exactly_documented(openapi, schema["additionalProperties"], item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_exactly_documented(openapi, schema["items"], item, f"{where}.{index}")


def check_answer(openapi: dict[str, Any], body: dict[str, Any]) -> None:
    schema = openapi["paths"][PATH]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft202012Validator({**schema, "components": openapi["components"]}).iter_errors(body)]
    assert errors == []
    assert_null_free_snake_case(body)
    assert_exactly_documented(openapi, schema, body)


@pytest.mark.parametrize("query", [
    "?base=1&target=2",  # a full comparison
    "?base=2&target=2",  # nothing to compare
    "?base=1&target=2&from=2026-03-03T09:00:00Z&to=2026-03-03T09:10:00Z",  # 11 traces of v1, none of v2
    "?base=1&target=2&to=2026-03-04T09:09:00Z",  # not enough data: 10 traces of v2
    "?from=2030-01-01",  # no trace in range: the empty report
])
def test_json_answer_has_no_null_only_snake_case_keys_and_fits_its_schema(viewer_client, asset, openapi, query):
    response = viewer_client.get(PATH.format(id=asset.pk) + query)
    assert response.status_code == 200
    check_answer(openapi, response.json())


def test_json_export_is_the_same_null_free_answer_as_a_download(viewer_client, asset, openapi):
    url = PATH.format(id=asset.pk) + "?base=1&target=2&from=2026-03-03T09:00:00Z&to=2026-03-03T09:10:00Z"
    download = viewer_client.get(url + "&export=json")
    assert download["Content-Disposition"] == 'attachment; filename="impact-query-ci_lookup.json"'
    body = download.json()
    check_answer(openapi, body)
    assert body == viewer_client.get(url).json()


def test_missing_figures_are_left_out_not_null(viewer_client, asset):
    full = viewer_client.get(PATH.format(id=asset.pk) + "?base=1&target=2").json()
    assert full["filters"] == {"tenant": "", "include_test_mode": False}  # open range: no "from", no "to"
    assert "regression_health" not in full["axes"]["target"]  # no analyses: no score, no null
    assert full["metrics"]["target"]["verdicts"] == {"pass": 0, "warn": 0, "fail": 0}
    traces_row = next(r for r in full["comparison"] if r["metric"] == "traces")
    assert "p_value" not in traces_row and traces_row["test"] == ""  # descriptive: never tested
    v1 = next(v for v in full["versions"] if v["version"] == 1)
    assert {"published", "first_used", "last_used"} <= set(v1)
    v2 = next(v for v in full["versions"] if v["version"] == 2)
    assert "published" not in v2
    bounded = viewer_client.get(PATH.format(id=asset.pk) + "?from=2026-03-03T09:00:00Z").json()
    assert bounded["filters"]["from"] == "2026-03-03T09:00:00+00:00" and "to" not in bounded["filters"]


def test_verdicts_keys_are_snake_case(viewer_client, asset):
    from regression.models import RegressionAnalysis

    assert not RegressionAnalysis.objects.exists()
    data = viewer_client.get(PATH.format(id=asset.pk)).json()
    assert set(data["metrics"]["base"]["verdicts"]) == {"pass", "warn", "fail"}


def _csv(viewer_client, asset, query: str = "?base=1&target=2") -> list[list[str]]:
    response = viewer_client.get(PATH.format(id=asset.pk) + query + "&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_has_readable_headers_names_percentages_and_p_values(viewer_client, asset):
    rows = _csv(viewer_client, asset)
    assert rows[0] == ["Section", "Item", "Base (v1)", "Target (v2)", "Change", "Change (%)", "p-value",
                       "Significant", "Note"]
    comparison = {row[1]: row for row in rows if row[0] == "Comparison"}
    assert comparison["Error rate"][2:8] == ["4.0%", "36.0%", "+32.0 pts", "+800.0%", "0.0106", "yes"]
    assert comparison["Median duration (ms)"][2:8] == ["112", "412", "+300", "+267.9%", "< 0.001", "yes"]
    assert "EXECUTE median (ms)" in comparison
    assert not any(":" in name or "_" in name for name in comparison)  # no metric keys, no stage:execute:median_ms


def test_csv_numbers_are_rounded(viewer_client, asset):
    text = "\n".join(",".join(row) for row in _csv(viewer_client, asset))
    assert not re.search(r"\d\.\d{7,}", text), "a figure carries float noise"
    assert "0.0000" not in text


def test_csv_has_risk_recommendations_stages_quality_related_and_versions(viewer_client, asset):
    rows = _csv(viewer_client, asset)
    sections = {row[0] for row in rows[1:]}
    assert sections == {"Report", "Risk", "Recommendations", "Comparison", "Per stage", "Quality", "Related assets",
                        "Versions"}
    risk = {row[1]: row for row in rows if row[0] == "Risk"}
    assert risk["Level"][3] in {"low", "medium", "high"} and risk["Points"][3].isdigit()
    assert any(row[1] == "Reason" and "significantly worse" in row[8] for row in rows if row[0] == "Risk")
    assert any("error rate rose from 4.0% to 36.0%" in row[8] for row in rows if row[0] == "Recommendations")
    stages = {row[1]: row for row in rows if row[0] == "Per stage"}
    assert set(stages) == {"EXECUTE runs", "EXECUTE median (ms)", "EXECUTE p95 (ms)"}
    assert stages["EXECUTE runs"][2:4] == ["25", "25"]
    quality = {row[1]: row for row in rows if row[0] == "Quality"}
    assert quality["Regression health"][2:4] == ["no data", "no data"]
    assert quality["Reliability"][2:4] == ["96", "64"]
    related = [row for row in rows if row[0] == "Related assets"]
    assert [(row[1], row[3]) for row in related] == [("prompt answer", "13")]
    versions = [row for row in rows if row[0] == "Versions"]
    assert [row[1] for row in versions] == ["v2 (draft)", "v1 (published)"]
    assert "25 traces" in versions[0][8] and "used 2026-03-04 09:00 UTC to 2026-03-04 09:24 UTC" in versions[0][8]


def test_csv_says_not_enough_data_instead_of_a_level(viewer_client, asset):
    rows = _csv(viewer_client, asset, "?base=1&target=2&to=2026-03-04T09:09:00Z")  # 10 traces of v2
    risk = {row[1]: row for row in rows if row[0] == "Risk"}
    assert risk["Level"][3] == "not enough data: 10 of 20 traces per version"


def test_csv_of_an_empty_report_keeps_the_versions(viewer_client, asset):
    rows = _csv(viewer_client, asset, "?from=2030-01-01")
    assert rows[0][2:4] == ["Base", "Target"]
    assert {row[0] for row in rows[1:]} == {"Report", "Versions"}
    assert any(row[1] == "Message" and "No stored trace" in row[8] for row in rows)
