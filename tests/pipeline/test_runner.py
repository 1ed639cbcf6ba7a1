"""The runner: routes, overrides, stored traces, failing handlers, read-only SQL."""

import pytest

from inspector.contracts import ExecutionContext
from inspector.models import AssetVersion, StageRun, Trace, TraceAssetUsage
from inspector.pipeline.resolution import PipelineNotConfigured
from inspector.pipeline.runner import pipeline_run
from inspector.selectors import stage_run_with_payload
from inspector.services import asset_version_create
from kernel.errors import InvalidInput
from reference.assets import reference_v2_install
from reference.inventory import connect_readonly, ensure_inventory

pytestmark = pytest.mark.usefixtures("reference_assets")


def run(question, **context):
    return pipeline_run(context=ExecutionContext(question=question, **context))


def stages_of(trace):
    return list(trace.stage_runs.order_by("sequence").values_list("stage", flat=True))


def answer_of(trace):
    return stage_run_with_payload(trace_id=trace.trace_id, stage="present").payload.output["result"]["ui_model"]["answer"]


@pytest.mark.parametrize(
    ("question", "route", "stages"),
    [
        ("What is checkout-api?", "plan", ["route_plan", "validate", "execute", "compose", "present"]),
        ("hello", "direct", ["route_plan", "present"]),
        ("Delete all servers", "reject", ["route_plan", "present"]),
    ],
)
def test_routes_run_the_right_stages(question, route, stages):
    trace = run(question)
    assert trace.route == route and stages_of(trace) == stages
    assert trace.status == "success"


def test_stored_trace_has_bill_of_materials_of_all_eight_types():
    trace = run("What is checkout-api?")
    bom = set(TraceAssetUsage.objects.filter(trace=trace, stage="").values_list("asset_type", "asset_name", "version"))
    assert {t for t, _, _ in bom} == {"prompt", "resolver", "policy", "schema", "query", "source", "mapping", "screen"}
    assert all(version == 1 for _, _, version in bom)
    assert TraceAssetUsage.objects.filter(trace=trace, asset_version__isnull=True).count() == 0
    assert trace.metadata["executor"]["handler_ms"] > 0


def test_validation_violation_halts_plan_and_present_explains():
    trace = run("List all servers last 400 days")
    assert stages_of(trace) == ["route_plan", "validate", "present"]
    assert trace.status == "error"
    assert "max_time_range_days" in answer_of(trace)


def test_override_changes_applied_version_and_output_but_not_published():
    reference_v2_install(publish=False)  # version 2 of event_history hides info events, as a draft
    question = "Events on checkout-api last 30 days"
    baseline = run(question)
    candidate = run(question, test_mode=True, asset_overrides={"query": "event_history@2"},
                    baseline_trace_id=baseline.trace_id)

    rows = lambda t: stage_run_with_payload(trace_id=t.trace_id, stage="execute").payload.output["result"][
        "tool_results"][0]["rows"]
    assert {r["severity"] for r in rows(baseline)} >= {"info"}
    assert "info" not in {r["severity"] for r in rows(candidate)} and rows(candidate)
    assert candidate.parent_trace_id == baseline.trace_id and candidate.test_mode
    usage = TraceAssetUsage.objects.get(trace=candidate, stage="execute", asset_type="query")
    assert (usage.version, usage.version_status) == (2, "draft")
    published = AssetVersion.objects.get(asset__name="event_history", status="published")
    assert published.version == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"query": "no_such@1"}, "no query asset named"),
        ({"query": "event_history@9"}, "has no version 9"),
        ({"prompt": "event_history@1"}, "it is a query asset"),
        ({"widget": "x@1"}, "unknown asset type"),
        ({"query": "event_history"}, "name@version"),
    ],
)
def test_bad_overrides_are_rejected_before_anything_is_written(overrides, message):
    with pytest.raises(InvalidInput, match=message):
        run("What is checkout-api?", test_mode=True, asset_overrides=overrides)
    assert Trace.objects.count() == 0 and StageRun.objects.count() == 0


def test_overrides_outside_test_mode_are_rejected():
    with pytest.raises(InvalidInput, match="only allowed in test mode"):
        run("What is checkout-api?", asset_overrides={"query": "ci_lookup@1"})
    assert Trace.objects.count() == 0


def test_unknown_baseline_is_rejected():
    with pytest.raises(InvalidInput, match="baseline trace"):
        run("What is checkout-api?", test_mode=True, baseline_trace_id="nope")


def test_handler_that_raises_gives_error_diagnostics_and_a_stored_error_trace(settings):
    settings.OPS_STAGE_HANDLERS = {**settings.OPS_STAGE_HANDLERS, "compose": "tests.pipeline.handlers.explode"}
    trace = run("What is checkout-api?")
    composes = trace.stage_runs.filter(stage="compose").order_by("attempt")
    assert [c.status for c in composes] == ["error", "error", "error"]  # the default policy retries errors twice
    assert composes[0].diagnostics["errors"] == ["ZeroDivisionError: the compose handler broke"]
    assert trace.status == "error" and stages_of(trace)[-1] == "present" and trace.replan_count == 2
    assert "ZeroDivisionError" in answer_of(trace)


def test_unknown_handler_path_is_an_error_stage(settings):
    settings.OPS_STAGE_HANDLERS = {**settings.OPS_STAGE_HANDLERS, "validate": "tests.pipeline.handlers.missing"}
    trace = run("What is checkout-api?")
    assert trace.stage_runs.filter(stage="validate").first().status == "error"


def test_missing_published_default_asset_is_a_configuration_error():
    AssetVersion.objects.filter(asset__name="route_rules").update(status="archived")
    with pytest.raises(PipelineNotConfigured, match="route_rules"):
        run("What is checkout-api?")
    assert Trace.objects.count() == 0


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM ci", "only SELECT"),
        ("UPDATE ci SET name = 'x'", "only SELECT"),
        ("SELECT id, name FROM ci; DELETE FROM ci", "more than one statement"),
        ("SELECT id, name FROM ci WHERE name = 'a';DROP TABLE ci", "more than one statement"),
        ("WITH x AS (SELECT id FROM ci) DELETE FROM ci", "only SELECT"),
        ("SELECT id, name FROM sqlite_master", "not in the schema"),
    ],
)
def test_query_assets_cannot_write(sql, message, settings):
    query = AssetVersion.objects.get(asset__name="ci_lookup", status="published").asset
    asset_version_create(asset=query, spec={"sql": sql, "params": []})
    before = _ci_count(settings)

    trace = run("What is checkout-api?", test_mode=True, asset_overrides={"query": "ci_lookup@2"})

    execute = trace.stage_runs.get(stage="execute")
    assert execute.status == "error" and message in execute.diagnostics["errors"][0]
    assert _ci_count(settings) == before


def test_readonly_connection_refuses_writes_even_past_the_checker(settings):
    import sqlite3

    path = ensure_inventory(settings.OPS_INVENTORY_PATH)
    with pytest.raises(sqlite3.OperationalError):
        connect_readonly(path).execute("DELETE FROM ci")


def _ci_count(settings):
    conn = connect_readonly(ensure_inventory(settings.OPS_INVENTORY_PATH))
    try:
        return conn.execute("SELECT COUNT(*) FROM ci").fetchone()[0]
    finally:
        conn.close()


def test_query_timeout_is_an_error_stage():
    query = AssetVersion.objects.get(asset__name="ci_lookup", status="published").asset
    slow = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) "
            "SELECT COUNT(*) AS id, 'x' AS name FROM n")
    asset_version_create(asset=query, spec={"sql": slow, "params": [], "timeout_ms": 50})
    trace = run("What is checkout-api?", test_mode=True, asset_overrides={"query": "ci_lookup@2"})
    executes = trace.stage_runs.filter(stage="execute").order_by("attempt")
    assert all("timed out after 50 ms" in run.diagnostics["errors"][0] for run in executes)
    # the timeout rule retries with half the row limit, twice
    limits = [run.payload.input["params"]["plan"]["params"]["limit"] for run in executes.select_related("payload")]
    assert limits == [50, 25, 12]
