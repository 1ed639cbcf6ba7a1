"""The request contracts of the regression API (regression/contracts.py) and the one scoring-options check."""

import pytest
from pydantic import ValidationError

from inspector.api_errors import pydantic_field_errors
from regression.contracts import (
    MAX_GROUP,
    AnalyzeRequest,
    GoldenQueryIn,
    GoldenQueryPatch,
    RunRequest,
    SetBaselineRequest,
    StageCompareRequest,
)
from regression.engine import scoring_options_check

EITHER = "give either baseline_trace_id + candidate_trace_id or baseline_trace_ids + candidate_trace_ids"
IDS_OR_BODIES = "give baseline_trace_id + candidate_trace_id, or baseline + candidate StageOutput bodies"


def errors(model, body) -> dict[str, list[str]]:
    """The 400 body the API answers for ``body`` (inspector.api_errors)."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return pydantic_field_errors(caught.value)


# --- scoring options: one check, one message wherever they are sent


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"no_such_penalty": 3}, {"options": ["unknown scoring option(s): no_such_penalty"]}),
        ({"warn_at": 60, "fail_at": 50}, {"options": ["warn_at (60) must not exceed fail_at (50)"]}),
        ({"warn_at": "high"}, {"options.warn_at": ["Input should be a valid integer, unable to parse string as an "
                                                   "integer"]}),
        ({"volatile_patterns": ["("]}, "options.volatile_patterns"),
    ],
)
def test_bad_scoring_options_are_refused_alike_by_every_contract_and_the_service_check(options, expected):
    bodies = {
        AnalyzeRequest: {"baseline_trace_id": "a", "candidate_trace_id": "b", "options": options},
        StageCompareRequest: {"stage": "execute", "baseline_trace_id": "a", "candidate_trace_id": "b",
                              "options": options},
        GoldenQueryIn: {"name": "g", "question": "q", "options": options},
        GoldenQueryPatch: {"options": options},
    }
    answers = [errors(model, body) for model, body in bodies.items()]
    with pytest.raises(ValidationError) as caught:
        scoring_options_check(options)
    answers.append(pydantic_field_errors(caught.value))
    assert all(answer == answers[0] for answer in answers), answers
    if isinstance(expected, dict):
        assert answers[0] == expected
    else:
        assert list(answers[0]) == [expected]


def test_good_scoring_options_pass_unchanged():
    options = {"warn_at": 10, "fail_at": 40, "list_keys": ["id"]}
    assert scoring_options_check(options) == options
    assert scoring_options_check(None) == {}
    assert AnalyzeRequest.model_validate({"baseline_trace_id": "a", "candidate_trace_id": "b",
                                          "options": options}).options == options


# --- analyze


def test_analyze_pair_and_group_name_their_sides():
    pair = AnalyzeRequest.model_validate({"baseline_trace_id": " a ", "candidate_trace_id": "b"})
    assert (pair.baseline, pair.candidate, pair.options) == (["a"], ["b"], {})
    group = AnalyzeRequest.model_validate({"baseline_trace_ids": ["a", "b"], "candidate_trace_ids": ["c"]})
    assert (group.baseline, group.candidate) == (["a", "b"], ["c"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"non_field_errors": [EITHER]}),
        ({"options": {}}, {"non_field_errors": [EITHER]}),
        ({"baseline_trace_id": "a", "candidate_trace_ids": ["b"]}, {"non_field_errors": [EITHER]}),
        ({"baseline_trace_id": "a"}, {"non_field_errors": ["baseline_trace_id and candidate_trace_id are both "
                                                           "required"]}),
        ({"baseline_trace_id": "", "candidate_trace_id": "b"},
         {"non_field_errors": ["baseline_trace_id and candidate_trace_id are both required"]}),
        ({"baseline_trace_ids": [], "candidate_trace_ids": ["b"]},
         {"non_field_errors": ["baseline_trace_ids and candidate_trace_ids are both required"]}),
        ({"baseline_trace_ids": ["a"]}, {"non_field_errors": ["baseline_trace_ids and candidate_trace_ids are "
                                                              "both required"]}),
    ],
)
def test_analyze_needs_one_pair_or_two_groups(body, expected):
    assert errors(AnalyzeRequest, body) == expected


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"baseline_trace_id": "a" * 129, "candidate_trace_id": "b"}, "baseline_trace_id"),
        ({"baseline_trace_ids": ["a", " "], "candidate_trace_ids": ["b"]}, "baseline_trace_ids.1"),
        ({"baseline_trace_ids": ["a"] * (MAX_GROUP + 1), "candidate_trace_ids": ["b"]}, "baseline_trace_ids"),
        ({"baseline_trace_ids": "a", "candidate_trace_ids": ["b"]}, "baseline_trace_ids"),
        ({"baseline_trace_id": "a", "candidate_trace_id": "b", "options": []}, "options"),
        ({"baseline_trace_id": "a", "candidate_trace_id": "b", "extra": 1}, "extra"),
    ],
)
def test_analyze_field_errors_name_their_path(body, path):
    assert path in errors(AnalyzeRequest, body)


# --- stage compare


def test_stage_compare_by_ids_or_by_bodies():
    by_ids = StageCompareRequest.model_validate({"stage": "execute", "baseline_trace_id": "a",
                                                 "candidate_trace_id": "b"})
    assert by_ids.by_ids and not by_ids.by_bodies
    by_bodies = StageCompareRequest.model_validate({"stage": "execute", "baseline": {}, "candidate": {"x": 1}})
    assert by_bodies.by_bodies and not by_bodies.by_ids and by_bodies.candidate == {"x": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"stage": "execute"},
        {"stage": "execute", "baseline_trace_id": "a"},
        {"stage": "execute", "baseline": {}},
        {"stage": "execute", "baseline_trace_id": "a", "candidate_trace_id": "b", "baseline": {}, "candidate": {}},
    ],
)
def test_stage_compare_needs_exactly_ids_or_bodies(body):
    assert errors(StageCompareRequest, body) == {"non_field_errors": [IDS_OR_BODIES]}


def test_stage_compare_needs_a_known_stage():
    assert "stage" in errors(StageCompareRequest, {"stage": "nope", "baseline_trace_id": "a",
                                                   "candidate_trace_id": "b"})
    assert "stage" in errors(StageCompareRequest, {"baseline_trace_id": "a", "candidate_trace_id": "b"})


# --- golden queries, baselines, runs


def test_golden_query_defaults_and_trimming():
    query = GoldenQueryIn.model_validate({"name": " nightly-1 ", "question": "Which hosts?"})
    assert query.model_dump() == {"name": "nightly-1", "question": "Which hosts?", "tenant_id": "default",
                                  "options": {}, "enabled": True}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"question": "q"}, "name"),
        ({"name": "not a slug", "question": "q"}, "name"),
        ({"name": "x" * 101, "question": "q"}, "name"),
        ({"name": "g"}, "question"),
        ({"name": "g", "question": "   "}, "question"),
        ({"name": "g", "question": "q", "tenant_id": ""}, "tenant_id"),
        ({"name": "g", "question": "q", "tenant_id": "t" * 65}, "tenant_id"),
        ({"name": "g", "question": "q", "enabled": "maybe"}, "enabled"),
        ({"name": "g", "question": "q", "id": 3}, "id"),
    ],
)
def test_golden_query_field_errors(body, path):
    assert path in errors(GoldenQueryIn, body)


def test_golden_query_patch_changes_only_the_fields_sent():
    assert GoldenQueryPatch.model_validate({}).changes() == {}
    assert GoldenQueryPatch.model_validate({"enabled": False}).changes() == {"enabled": False}
    assert GoldenQueryPatch.model_validate({"name": " renamed "}).changes() == {"name": "renamed"}
    assert "name" in errors(GoldenQueryPatch, {"name": "not a slug"})
    assert "question" in errors(GoldenQueryPatch, {"question": ""})
    assert "default" not in str(GoldenQueryPatch.model_json_schema()["properties"])


def test_set_baseline_and_run_bodies():
    assert SetBaselineRequest.model_validate({"trace_id": " t1 "}).model_dump() == {"trace_id": "t1", "note": ""}
    assert "trace_id" in errors(SetBaselineRequest, {"note": "n"})
    assert "trace_id" in errors(SetBaselineRequest, {"trace_id": ""})
    assert "note" in errors(SetBaselineRequest, {"trace_id": "t", "note": "n" * 2001})
    assert RunRequest.model_validate({}).overrides == {}
    assert RunRequest.model_validate({"overrides": {"prompt": "p@2"}}).overrides == {"prompt": "p@2"}
    assert "overrides.prompt" in errors(RunRequest, {"overrides": {"prompt": " "}})
    assert "overrides.prompt" in errors(RunRequest, {"overrides": {"prompt": 2}})
