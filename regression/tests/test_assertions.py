"""Suite item assertions: the contract (what is refused, and how it is said) and the evaluation of each op."""

import pytest

from kernel.errors import InvalidInput
from regression.assertions import (
    MAX_ASSERTIONS,
    assertion_evaluate,
    assertions_dump,
    assertions_evaluate,
    assertions_parse,
)

OUTPUTS = {
    "route_plan": {"stage": "route_plan", "result": {"intent": "event_history", "kind": "plan",
                                                     "plan": {"params": {"days": 30, "limit": 50}}}},
    "execute": {"stage": "execute", "references": [{"entity_id": "app-001"}, {"entity_id": "app-002"}],
                "result": {"tool_results": [{"rows": [{"id": 1}, {"id": 2}, {"id": 3}]}], "empty": [],
                           "ok": True, "count": 1, "nothing": None, "a/b": "slash", "t~x": "tilde"}},
    "present": {"stage": "present", "result": {"text": "13 results for: Events on checkout-api"}},
}


def check(assertion: dict, outputs: dict = OUTPUTS):
    [parsed] = assertions_parse([assertion])
    return assertion_evaluate(parsed, outputs)


# --- equals -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pointer", "value"), [
    ("/result/intent", "event_history"),
    ("/result/plan/params", {"limit": 50, "days": 30}),
    ("/result/tool_results/0/rows/2/id", 3),
    ("/result/count", 1.0),  # JSON has one number type
    ("/result/nothing", None),
    ("/result/a~1b", "slash"),  # RFC 6901 escapes: ~1 is "/", ~0 is "~"
    ("/result/t~0x", "tilde"),
])
def test_equals_passes_on_the_same_json_value(pointer, value):
    outcome = check({"stage": "route_plan" if "intent" in pointer or "plan" in pointer else "execute",
                     "pointer": pointer, "op": "equals", "value": value})
    assert outcome.passed, outcome.message


def test_equals_fails_naming_pointer_expected_and_actual():
    outcome = check({"stage": "route_plan", "pointer": "/result/intent", "op": "equals", "value": "metric_history"})
    assert not outcome.passed
    assert outcome.message == ('route_plan/result/intent: expected equals "metric_history", got "event_history"')


@pytest.mark.parametrize(("pointer", "value"), [("/result/ok", 1), ("/result/count", True), ("/result/count", "1")])
def test_equals_does_not_mix_booleans_numbers_and_strings(pointer, value):
    assert not check({"stage": "execute", "pointer": pointer, "op": "equals", "value": value}).passed


# --- contains ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("stage", "pointer", "value", "passed"), [
    ("present", "/result/text", "checkout-api", True),
    ("present", "/result/text", "payments", False),
    ("execute", "/references", {"entity_id": "app-002"}, True),  # a list holding the element
    ("execute", "/references", {"entity_id": "app-009"}, False),
    ("route_plan", "/result/plan/params", "days", True),  # an object holding the key
    ("route_plan", "/result/plan/params", {"days": 30}, True),  # ... or these pairs
    ("route_plan", "/result/plan/params", {"days": 7}, False),
    ("execute", "/result/count", 1, False),  # a number contains nothing
    ("present", "/result/text", 13, False),  # a string contains only strings
])
def test_contains(stage, pointer, value, passed):
    outcome = check({"stage": stage, "pointer": pointer, "op": "contains", "value": value})
    assert outcome.passed is passed, outcome.message


# --- matches ----------------------------------------------------------------------------------------

def test_matches_searches_a_string_for_the_pattern():
    assert check({"stage": "present", "pointer": "/result/text", "op": "matches", "pattern": r"^\d+ results"}).passed
    outcome = check({"stage": "present", "pointer": "/result/text", "op": "matches", "pattern": r"^no results"})
    assert not outcome.passed and "/^no results/" in outcome.message and "13 results for" in outcome.message


def test_matches_fails_on_a_value_that_is_not_a_string():
    assert not check({"stage": "execute", "pointer": "/result/count", "op": "matches", "pattern": "1"}).passed


# --- row_count --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("bounds", "passed"), [
    ({"min": 3}, True), ({"min": 4}, False), ({"max": 3}, True), ({"max": 2}, False),
    ({"min": 3, "max": 3}, True), ({"min": 0, "max": 0}, False),
])
def test_row_count_bounds_are_inclusive(bounds, passed):
    outcome = check({"stage": "execute", "pointer": "/result/tool_results/0/rows", "op": "row_count", **bounds})
    assert outcome.passed is passed, outcome.message


def test_row_count_says_how_many_rows_there_were():
    outcome = check({"stage": "execute", "pointer": "/result/empty", "op": "row_count", "min": 1})
    assert outcome.message == "execute/result/empty: expected a list of at least 1 rows, got 0 rows"


def test_row_count_of_something_that_is_not_a_list_fails():
    outcome = check({"stage": "present", "pointer": "/result/text", "op": "row_count", "min": 1})
    assert not outcome.passed and "13 results" in outcome.message


# --- json_schema ------------------------------------------------------------------------------------

def test_json_schema_validates_the_value():
    schema = {"type": "object", "required": ["days", "limit"],
              "properties": {"days": {"type": "integer", "minimum": 1}}}
    assert check({"stage": "route_plan", "pointer": "/result/plan/params", "op": "json_schema", "schema": schema}).passed
    outcome = check({"stage": "route_plan", "pointer": "/result/plan/params", "op": "json_schema",
                     "schema": {**schema, "properties": {"days": {"type": "integer", "maximum": 7}}}})
    assert not outcome.passed
    assert "route_plan/result/plan/params" in outcome.message and "/days: 30 is greater than the maximum of 7" in \
        outcome.message


# --- where the value is ----------------------------------------------------------------------------

def test_an_empty_pointer_is_the_whole_stage_output():
    assert check({"stage": "present", "pointer": "", "op": "contains", "value": "result"}).passed


def test_a_pointer_to_nothing_fails_saying_so():
    outcome = check({"stage": "execute", "pointer": "/result/rows", "op": "row_count", "min": 1})
    assert not outcome.passed and outcome.message.endswith("but nothing is at that pointer")
    assert not check({"stage": "execute", "pointer": "/references/9", "op": "equals", "value": 1}).passed


def test_a_stage_that_did_not_run_fails_saying_so():
    outcome = check({"stage": "validate", "pointer": "/result", "op": "equals", "value": {}})
    assert not outcome.passed and "stage validate did not run" in outcome.message


def test_evaluating_a_list_keeps_order_index_and_what_each_checked():
    assertions = assertions_parse([
        {"stage": "route_plan", "pointer": "/result/intent", "op": "equals", "value": "event_history"},
        {"stage": "execute", "pointer": "/references", "op": "row_count", "max": 1},
    ])
    results = assertions_evaluate(assertions, OUTPUTS)
    assert [(r["index"], r["stage"], r["pointer"], r["op"], r["passed"]) for r in results] == [
        (0, "route_plan", "/result/intent", "equals", True), (1, "execute", "/references", "row_count", False)]
    assert results[1]["message"] == "execute/references: expected a list of at most 1 rows, got 2 rows"


def test_long_values_are_shortened_in_messages():
    outcome = check({"stage": "present", "pointer": "/result/text", "op": "equals", "value": "x" * 500})
    assert len(outcome.message) < 400 and "…" in outcome.message


# --- the contract ----------------------------------------------------------------------------------

def test_the_stored_form_is_what_was_sent_without_empty_bounds():
    sent = [
        {"stage": "execute", "pointer": "/references", "op": "row_count", "min": 1},
        {"stage": "present", "pointer": "", "op": "json_schema", "schema": {"type": "object"}},
        {"stage": "present", "pointer": "/result/text", "op": "equals", "value": None},
        {"stage": "present", "pointer": "/result/text", "op": "matches", "pattern": "a+"},
    ]
    assert assertions_dump(assertions_parse(sent)) == sent
    assert assertions_parse(None) == [] and assertions_parse([]) == []


@pytest.mark.parametrize(("assertions", "message"), [
    ("equals", "assertions: Input should be a valid list"),
    ([{"pointer": "/x", "op": "equals", "value": 1}], "assertions[0].stage: Field required"),
    ([{"stage": "nowhere", "op": "equals", "value": 1}], "assertions[0].stage: Input should be 'route_plan'"),
    ([{"stage": "execute", "value": 1}], "assertions[0]: Unable to extract tag using discriminator 'op'"),
    ([{"stage": "execute", "op": "sorted"}], "assertions[0]: Input tag 'sorted' found using 'op' does not match"),
    ([{"stage": "execute", "op": "equals"}], "assertions[0].value: Field required"),
    ([{"stage": "execute", "op": "contains"}], "assertions[0].value: Field required"),
    ([{"stage": "execute", "op": "equals", "value": 1, "pointer": "result"}], "assertions[0].pointer: not a JSON pointer"),
    ([{"stage": "execute", "op": "matches"}], "assertions[0].pattern: Field required"),
    ([{"stage": "execute", "op": "matches", "pattern": "(unclosed"}],
     "assertions[0].pattern: not a valid regular expression"),
    ([{"stage": "execute", "op": "row_count"}], "assertions[0]: row_count needs min, max or both"),
    ([{"stage": "execute", "op": "row_count", "min": 5, "max": 2}],
     "assertions[0]: row_count min (5) is greater than max (2)"),
    ([{"stage": "execute", "op": "row_count", "min": -1}], "assertions[0].min: Input should be greater than or equal"),
    ([{"stage": "execute", "op": "json_schema"}], "assertions[0].schema: Field required"),
    ([{"stage": "execute", "op": "json_schema", "schema": {"type": "nonsense"}}],
     "assertions[0].schema: not a valid JSON Schema"),
    ([{"stage": "execute", "op": "equals", "value": 1, "extra": 2}], "assertions[0].extra: Extra inputs are not permitted"),
    ([{"stage": "execute", "op": "equals", "value": 1}, {"stage": "execute", "op": "row_count"}],
     "assertions[1]: row_count needs min, max or both"),
])
def test_bad_assertions_are_refused_saying_where_and_why(assertions, message):
    with pytest.raises(InvalidInput) as caught:
        assertions_parse(assertions)
    assert caught.value.field == "assertions"
    assert message in caught.value.message, caught.value.message


def test_at_most_max_assertions():
    many = [{"stage": "execute", "op": "equals", "value": 1}] * (MAX_ASSERTIONS + 1)
    with pytest.raises(InvalidInput, match=f"at most {MAX_ASSERTIONS} items"):
        assertions_parse(many)
