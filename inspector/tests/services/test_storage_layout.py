"""What a trace costs on disk: no stored previews, no redundant indexes, payloads kept as sent (docs/performance.md)."""

import pytest
from django.db import connection

from inspector.models import StageRun, TraceAssetUsage
from inspector.services import trace_ingest
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL storage settings")


def index_columns(model) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [spec["columns"] for spec in constraints.values() if spec["index"] or spec["unique"]]


def test_stage_runs_store_no_previews():
    columns = {field.column for field in StageRun._meta.concrete_fields}
    assert not columns & {"input_preview", "output_preview"}


@pytest.mark.parametrize(("model", "column"), [(StageRun, "trace_id"), (TraceAssetUsage, "asset_version_id")])
def test_no_index_repeats_the_first_column_of_a_wider_one(model, column):
    indexes = index_columns(model)
    assert [column] not in indexes
    assert any(columns[0] == column and len(columns) > 1 for columns in indexes)  # still answered by an index


def test_usage_rows_have_one_narrow_trace_index_and_no_wide_unique_one():
    indexes = index_columns(TraceAssetUsage)
    assert [columns for columns in indexes if columns[0] == "trace_id"] == [["trace_id"]]


def test_ingest_writes_each_bill_of_materials_row_once():
    # The uniqueness the dropped usage_unique_row promised comes from the writer: a stage applying an asset
    # in two attempts, and the trace naming it too, still give one row per (stage, type, name, version).
    body = trace_body(trace_id="bom-once")
    retry = {**body["stages"][0], "attempt": 2}
    body["stages"].insert(1, retry)
    trace, _ = trace_ingest(payload=body)
    keys = list(TraceAssetUsage.objects.filter(trace=trace).values_list("stage", "asset_type", "asset_name",
                                                                         "version"))
    assert sorted(keys) == sorted(set(keys)) and ("route_plan", "prompt", "route_rules", 1) in keys


@postgresql_only
def test_parent_trace_id_has_one_plain_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'inspector_trace' "
                       "AND indexdef LIKE '%%(parent_trace_id%%'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert len(definitions) == 1 and "pattern_ops" not in definitions[0]


@postgresql_only
def test_payload_columns_are_stored_external_so_postgresql_neither_recompresses_nor_reads_them_whole():
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname, attstorage FROM pg_attribute WHERE attrelid = 'inspector_stagepayload'::regclass "
                       "AND attname IN ('input_data', 'output_data')")
        assert dict(cursor.fetchall()) == {"input_data": "e", "output_data": "e"}


@postgresql_only
def test_a_large_payload_is_kept_out_of_line_uncompressed_and_its_head_read_alone():
    trace, _ = trace_ingest(payload=trace_body(trace_id="large", stages=("route_plan",)))
    run = trace.stage_runs.get()
    blob = bytes(range(256)) * 40  # 10 KB of repeats: the default storage (EXTENDED) would pglz-compress it
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inspector_stagepayload SET output_data = %s WHERE stage_run_id = %s", [blob, run.pk])
        cursor.execute("SELECT pg_column_size(output_data), octet_length(substring(output_data, 1, 100)) "
                       "FROM inspector_stagepayload WHERE stage_run_id = %s", [run.pk])
        stored, head = cursor.fetchone()
    assert stored >= len(blob) and head == 100  # not compressed again; a slice reads only what it needs
