"""Each reference stage on normal, empty and invalid input, through the StageExecutor."""

import pytest

from inspector.contracts import ExecutionContext, StageInput
from inspector.pipeline.executor import StageExecutor
from inspector.pipeline.resolution import AssetResolver
from inspector.pipeline.runner import pipeline_execute

pytestmark = pytest.mark.usefixtures("reference_assets")


def run_stage(stage, question="", **input_fields):
    context = ExecutionContext(question=question)
    executor = StageExecutor(context, AssetResolver(context))
    return executor.run(StageInput(stage=stage, **input_fields))


def plan_for(question):
    return pipeline_execute(context=ExecutionContext(question=question), stop_after="route_plan").executions[0]


def test_route_plan_normal_records_prompt_and_resolver():
    execution = run_stage("route_plan", "What is checkout-api?")
    assert execution.output.result["kind"] == "plan"
    assert execution.stage_input.applied_assets == {"prompt": "route_rules@1", "resolver": "ci_aliases@1"}
    assert execution.output.diagnostics.status == "ok"


def test_route_plan_empty_question_is_direct_with_warning():
    execution = run_stage("route_plan", "")
    assert execution.output.result["kind"] == "direct"
    assert execution.output.diagnostics.status == "warning"


def test_validate_passes_a_good_plan():
    plan = plan_for("List all servers").output.result["plan"]
    execution = run_stage("validate", params={"plan": plan})
    assert execution.output.result["validation_passed"] is True
    assert execution.stage_input.applied_assets == {"policy": "budget@1"}


def test_validate_reports_each_violation():
    plan = {"intent": "list", "steps": [{"tool": "shell"}] * 4, "params": {"limit": 5000, "days": 90}}
    execution = run_stage("validate", params={"plan": plan})
    codes = [v["code"] for v in execution.output.result["violations"]]
    assert codes == ["tool_not_allowed"] * 4 + ["too_many_steps", "row_limit", "time_range"]
    assert execution.output.diagnostics.status == "error"


def test_validate_empty_plan_is_a_violation():
    execution = run_stage("validate", params={"plan": {}})
    assert [v["code"] for v in execution.output.result["violations"]] == ["empty_plan"]


def test_execute_returns_rows_and_references():
    plan = plan_for("What is checkout-api?").output.result["plan"]
    execution = run_stage("execute", params={"plan": plan})
    result = execution.output.result
    assert result["tool_results"][0]["rows"][0]["name"] == "checkout-api"
    assert execution.output.references[0].entity_id == "app-001"
    assert execution.output.diagnostics.counts == {"rows": 1, "references": 1, "queries": 1}
    assert execution.stage_input.applied_assets == {
        "schema": "inventory_schema@1", "query": "ci_lookup@1", "source": "inventory@1"
    }


def test_execute_unknown_system_is_empty_with_warning():
    plan = plan_for("What is zz-nothing-01?").output.result["plan"]
    execution = run_stage("execute", params={"plan": plan})
    assert execution.output.diagnostics.empty_flags["result_empty"] is True
    assert execution.output.diagnostics.status == "warning"


def test_execute_invalid_plan_names_unknown_query():
    execution = run_stage("execute", params={"plan": {"steps": [{"tool": "sql", "query": "no_such_query"}]}})
    # an unpublished/unknown query asset is a configuration error for the caller
    assert execution.output.diagnostics.status == "error"
    assert "no_such_query" in execution.output.diagnostics.errors[0]


def test_compose_builds_blocks_for_the_intent():
    run = pipeline_execute(context=ExecutionContext(question="What does checkout depend on?"), stop_after="compose")
    blocks = run.stage("compose").output.result["blocks"]
    assert [b["type"] for b in blocks] == ["text", "graph_edges"]
    assert {"source": "checkout-api", "target": "pg-orders-prod", "relation": "depends_on"} in blocks[1]["edges"]


def test_compose_with_no_rows_is_empty():
    execution = run_stage("compose", params={"plan": {"intent": "lookup"}, "question": "q"},
                          prev_output={"tool_results": [{"rows": []}]})
    assert execution.output.diagnostics.empty_flags["result_empty"] is True


def test_compose_skips_blocks_the_rows_cannot_fill():
    execution = run_stage("compose", params={"plan": {"intent": "metric_summary"}, "question": "q"},
                          prev_output={"tool_results": [{"rows": [{"id": "x"}]}]})
    assert execution.output.diagnostics.status == "warning"
    assert "metric_summary skipped" in execution.output.diagnostics.warnings[0]


def test_present_orders_and_caps_blocks():
    blocks = [{"type": "table", "rows": [{"i": i} for i in range(40)]}, {"type": "text", "text": "2 results"}]
    execution = run_stage("present", params={"route": "plan", "question": "q", "plan": {"intent": "list"}},
                          prev_output={"blocks": blocks, "references": []})
    result = execution.output.result
    assert [b["type"] for b in result["final_blocks"]] == ["text", "table"]
    assert len(result["final_blocks"][1]["rows"]) == 25 and result["final_blocks"][1]["truncated"] is True
    assert result["ui_model"]["answer"] == "2 results"


def test_present_explains_a_halted_run():
    execution = run_stage("present", params={"route": "plan", "halted": {"stage": "validate", "errors": ["too big"]}})
    assert execution.output.result["ui_model"]["answer"] == "I could not answer this: too big."
    assert execution.output.result["final_attributions"][-1]["type"] == "fallback"


def test_present_with_nothing_is_empty():
    execution = run_stage("present", params={"route": "plan"}, prev_output={})
    assert execution.output.diagnostics.empty_flags["result_empty"] is True
