"""Values the ingest contract writes into bounded columns are bounded there: 400 naming the field, never wrapped.

Above 2**31 - 1, PostgreSQL's binary COPY used to wrap an integer silently
(10**14 was stored as 276447232) or fail with a 500; SQLite failed above 2**63.
An asset name over 200 characters in a stage's ``applied_assets`` failed the
COPY into ``varchar(200)`` with a 500 on PostgreSQL.
"""

import pytest

from inspector.contracts import ASSET_NAME_MAX, INT_COLUMN_MAX
from inspector.models import StageRun, Trace, TraceAssetUsage
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db
LIST = "/inspector/traces"
TOO_BIG = [2**31, 10**14, 2**53, 2**64]


def assert_nothing_stored():
    assert not Trace.objects.exists() and not StageRun.objects.exists() and not TraceAssetUsage.objects.exists()


def test_the_bounds_are_the_ranges_of_the_columns_they_protect():
    from django.db.backends.base.operations import BaseDatabaseOperations  # PostgreSQL's integer ranges

    for field in (Trace._meta.get_field("duration_ms"), StageRun._meta.get_field("duration_ms"),
                  TraceAssetUsage._meta.get_field("duration_ms"), TraceAssetUsage._meta.get_field("version"),
                  TraceAssetUsage._meta.get_field("rows_count")):
        assert BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()] == (0, INT_COLUMN_MAX)
    assert TraceAssetUsage._meta.get_field("asset_name").max_length == ASSET_NAME_MAX


@pytest.mark.parametrize("value", TOO_BIG)
def test_trace_duration_above_the_column_is_400(editor_client, value):
    response = editor_client.post(LIST, trace_body(duration_ms=value), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["duration_ms"]
    assert_nothing_stored()


def test_the_400_says_what_the_limit_is(editor_client):
    response = editor_client.post(LIST, trace_body(duration_ms=10**14), format="json")

    assert response.json() == {"duration_ms": [f"Input should be less than or equal to {INT_COLUMN_MAX}"]}


@pytest.mark.parametrize("value", TOO_BIG)
def test_stage_duration_above_the_column_is_400(editor_client, value):
    body = trace_body()
    body["stages"][1]["output"]["duration_ms"] = value

    response = editor_client.post(LIST, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["stages.1.output.duration_ms"]
    assert_nothing_stored()


def test_stage_durations_whose_sum_overflows_the_trace_duration_are_400(editor_client):
    body = trace_body()
    for stage in body["stages"]:
        stage["output"]["duration_ms"] = INT_COLUMN_MAX

    response = editor_client.post(LIST, body, format="json")

    assert response.status_code == 400
    assert "duration_ms" in response.json() and str(INT_COLUMN_MAX) in response.json()["duration_ms"][0]
    assert_nothing_stored()


def test_a_trace_duration_given_explicitly_needs_no_sum_of_stages(editor_client):
    body = trace_body(duration_ms=7)
    for stage in body["stages"]:
        stage["output"]["duration_ms"] = INT_COLUMN_MAX

    assert editor_client.post(LIST, body, format="json").status_code == 201


def test_the_largest_values_are_stored_exactly(editor_client):
    body = trace_body(trace_id="t-max", duration_ms=INT_COLUMN_MAX,
                      applied_assets={"prompt": {"name": "route_rules", "version": INT_COLUMN_MAX}})
    body["stages"][0]["output"]["duration_ms"] = INT_COLUMN_MAX
    body["stages"][2]["output"]["diagnostics"]["counts"]["rows"] = INT_COLUMN_MAX

    response = editor_client.post(LIST, body, format="json")

    assert response.status_code == 201, response.json()
    trace = Trace.objects.get(trace_id="t-max")
    assert trace.duration_ms == INT_COLUMN_MAX
    assert StageRun.objects.get(trace=trace, stage="route_plan").duration_ms == INT_COLUMN_MAX
    usage = TraceAssetUsage.objects.get(trace=trace, stage="", asset_type="prompt")
    assert usage.version == INT_COLUMN_MAX and usage.rows_count == INT_COLUMN_MAX  # rows: the execute stage's


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["applied_assets"]["prompt"].update(version=2**31), "applied_assets.prompt.version"),
        (lambda b: b.update(applied_assets={"prompt": f"route_rules@{10**14}"}), "applied_assets"),
        (lambda b: b["stages"][0]["input"]["applied_assets"].update(prompt=f"route_rules@{2**53}"),
         "stages.0.input.applied_assets"),
        (lambda b: b["stages"][2]["output"]["diagnostics"]["counts"].update(rows=10**14),
         "stages.2.output.diagnostics.counts"),
        (lambda b: b["stages"][0]["input"]["applied_assets"].update(prompt="x" * (ASSET_NAME_MAX + 1) + "@1"),
         "stages.0.input.applied_assets"),
    ],
)
def test_other_values_beyond_their_columns_are_400(editor_client, mutate, field):
    body = trace_body()
    mutate(body)

    response = editor_client.post(LIST, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert_nothing_stored()


def test_a_batch_with_one_oversized_duration_stores_nothing(editor_client):
    response = editor_client.post(LIST, [trace_body(), trace_body(duration_ms=10**14)], format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["1.duration_ms"]
    assert_nothing_stored()
