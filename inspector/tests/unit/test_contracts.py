"""The stage contract: no nulls, defaults, required result keys, validation errors."""

import pydantic
import pytest

from inspector.contracts import (
    ExecutionContext,
    Reference,
    StageDiagnostics,
    StageInput,
    StageOutput,
    TraceIn,
    parse_asset_ref,
)
from testkit.factories import trace_body


def test_null_lists_and_objects_become_empty_defaults():
    output = StageOutput.model_validate(
        {"stage": "execute", "result": None, "diagnostics": None, "references": None, "duration_ms": None}
    )
    assert output.references == []
    assert output.diagnostics == StageDiagnostics()
    assert output.duration_ms == 0
    assert output.result == {"tool_results": [], "references": []}


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("route_plan", {"kind": "", "plan": {}, "direct_answer": ""}),
        ("validate", {"validation_passed": False, "violations": []}),
        ("execute", {"tool_results": [], "references": []}),
        ("compose", {"blocks": [], "references": []}),
        ("present", {"ui_model": {}, "final_blocks": [], "final_references": [], "final_attributions": []}),
    ],
)
def test_required_result_keys_are_filled_per_stage(stage, expected):
    assert StageOutput.model_validate({"stage": stage}).result == expected


def test_null_required_result_key_is_filled_and_others_kept():
    output = StageOutput.model_validate({"stage": "compose", "result": {"blocks": None, "extra": 1}})
    assert output.result == {"blocks": [], "references": [], "extra": 1}


def test_diagnostics_always_have_result_empty_flag():
    diagnostics = StageDiagnostics.model_validate({"empty_flags": {"rows_empty": True}})
    assert diagnostics.empty_flags == {"rows_empty": True, "result_empty": False}


def test_diagnostics_reject_negative_counts_and_unknown_status():
    with pytest.raises(pydantic.ValidationError) as caught:
        StageDiagnostics.model_validate({"status": "fine", "counts": {"rows": -1}})
    fields = {error["loc"][0] for error in caught.value.errors()}
    assert fields == {"status", "counts"}


def test_stage_input_defaults_and_asset_reference_validation():
    stage_input = StageInput.model_validate({"stage": "validate", "params": None, "applied_assets": None})
    assert stage_input.params == {} and stage_input.applied_assets == {} and stage_input.prev_output == {}
    with pytest.raises(pydantic.ValidationError, match="name@version"):
        StageInput.model_validate({"stage": "validate", "applied_assets": {"policy": "budget"}})
    with pytest.raises(pydantic.ValidationError, match="unknown asset type"):
        StageInput.model_validate({"stage": "validate", "applied_assets": {"widget": "x@1"}})


def test_unknown_stage_and_negative_duration_are_rejected():
    with pytest.raises(pydantic.ValidationError):
        StageOutput.model_validate({"stage": "deploy"})
    with pytest.raises(pydantic.ValidationError, match="greater than or equal to 0"):
        StageOutput.model_validate({"stage": "present", "duration_ms": -5})


def test_reference_type_is_checked_and_integer_ids_become_text():
    assert Reference.model_validate({"type": "db_row", "entity_id": 42}).entity_id == "42"
    with pytest.raises(pydantic.ValidationError):
        Reference.model_validate({"type": "rumour"})


def test_unknown_fields_are_rejected():
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        StageOutput.model_validate({"stage": "present", "colour": "blue"})


def test_execution_context_defaults():
    context = ExecutionContext.model_validate({"question": "q", "asset_overrides": None})
    assert context.asset_overrides == {} and context.tenant_id == "default" and context.test_mode is False


@pytest.mark.parametrize("ref", ["route_rules", "a@b", "@1", "x@0", "x@1@2", ""])
def test_parse_asset_ref_rejects_malformed(ref):
    with pytest.raises(ValueError):
        parse_asset_ref(ref)


def test_parse_asset_ref_accepts_v_prefix():
    assert parse_asset_ref("route_rules@v3").version == 3


def test_trace_requires_a_question_and_matching_stage_names():
    body = trace_body()
    del body["question"]
    with pytest.raises(pydantic.ValidationError, match="question"):
        TraceIn.model_validate(body)
    body = trace_body()
    body["stages"][0]["output"]["stage"] = "validate"
    with pytest.raises(pydantic.ValidationError, match="does not match"):
        TraceIn.model_validate(body)


def test_trace_rejects_duplicate_stage_attempts_and_accepts_compact_asset_refs():
    body = trace_body()
    body["stages"].append(body["stages"][0])
    with pytest.raises(pydantic.ValidationError, match="appears twice"):
        TraceIn.model_validate(body)
    trace = TraceIn.model_validate(trace_body(applied_assets={"policy": "budget@2"}))
    assert trace.applied_assets["policy"].name == "budget" and trace.applied_assets["policy"].version == 2
