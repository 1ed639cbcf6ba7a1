"""safe_parse_trigger (SPEC §4): examples, totality and idempotence.

Pure tests: no database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controlloop.contracts import EPOCH, TRIGGER_TYPES, ReplanTrigger
from controlloop.triggers import ALIASES, normalise, safe_parse_trigger, severity_of

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


# --- examples ---------------------------------------------------------------

@pytest.mark.parametrize("trigger_type", TRIGGER_TYPES)
def test_each_canonical_type_parses_to_itself(trigger_type):
    assert safe_parse_trigger(trigger_type).trigger_type == trigger_type
    assert safe_parse_trigger(trigger_type.upper().replace("_", "-")).trigger_type == trigger_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("policy_blocked", "policy_violation"),
        ("time-out", "timeout"),
        ("user_initiated", "manual"),
        ("Blocked by policy", "policy_violation"),
        ("deadline exceeded", "timeout"),
        ("TIMED_OUT", "timeout"),
        ("retry-requested", "manual"),
        ("no rows", "empty_result"),
        ("zero_rows", "empty_result"),
        ("exception", "error"),
        ("stage error", "error"),
        ("tool failure", "tool_error_fatal"),
        ("fatal", "tool_error_fatal"),
        ("missing-entity", "slot_missing"),
        ("few references", "low_evidence"),
        ("output too large", "present_limit"),
    ],
)
def test_aliases_map_to_canonical_types(text, expected):
    trigger = safe_parse_trigger(text)
    assert trigger.trigger_type == expected
    assert trigger.trigger_raw == text


def test_every_alias_targets_a_known_type_and_is_normalised():
    assert set(ALIASES.values()) <= set(TRIGGER_TYPES)
    assert all(normalise(alias) == alias for alias in ALIASES)


def test_type_stage_reason_text():
    trigger = safe_parse_trigger("EMPTY-RESULT execute no rows for checkout")
    assert trigger.trigger_type == "empty_result"
    assert trigger.stage_name == "execute"
    assert trigger.reason == "no rows for checkout"
    assert trigger.trigger_raw == "EMPTY-RESULT execute no rows for checkout"


def test_upper_case_stage_and_two_word_type():
    trigger = safe_parse_trigger("policy blocked VALIDATE contains PII")
    assert (trigger.trigger_type, trigger.stage_name) == ("policy_violation", "validate")
    assert trigger.reason == "contains PII"


def test_multi_word_alias_is_taken_whole():
    trigger = safe_parse_trigger("Blocked by policy execute pii in output")
    assert (trigger.trigger_type, trigger.stage_name) == ("policy_violation", "execute")
    assert trigger.reason == "pii in output"


def test_type_colon_stage_form():
    trigger = safe_parse_trigger("timeout:execute query took 31s")
    assert (trigger.trigger_type, trigger.stage_name, trigger.reason) == ("timeout", "execute", "query took 31s")


def test_second_word_that_is_not_a_stage_starts_the_reason():
    trigger = safe_parse_trigger("error database unreachable", default_stage="compose")
    assert (trigger.stage_name, trigger.reason) == ("compose", "database unreachable")


def test_json_string_is_parsed_as_a_dict():
    text = json.dumps({"type": "time-out", "stage": "Execute", "severity": "P1", "reason": "slow",
                       "timestamp": "2025-01-02T03:04:05Z", "metadata": {"ms": 31000}})
    trigger = safe_parse_trigger(text)
    assert trigger.trigger_type == "timeout"
    assert trigger.stage_name == "execute"
    assert trigger.severity == "critical"
    assert trigger.reason == "slow"
    assert trigger.timestamp == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert trigger.metadata == {"ms": 31000}
    assert trigger.trigger_raw == text


def test_dict_with_short_keys():
    trigger = safe_parse_trigger({"type": "no_results", "stage": "execute", "severity": "major", "message": "0 rows"})
    assert (trigger.trigger_type, trigger.stage_name, trigger.severity, trigger.reason) == (
        "empty_result", "execute", "high", "0 rows")


def test_dict_with_bad_values_is_coerced_not_rejected():
    trigger = safe_parse_trigger({"trigger_type": 7, "stage_name": ["x"], "severity": object(), "reason": 3.5,
                                  "timestamp": "yesterday", "metadata": [1, 2], "extra": "ignored"}, now=NOW)
    assert trigger.trigger_type == "unknown"
    assert trigger.trigger_raw == "7"
    assert trigger.severity == "medium"
    assert trigger.reason == "3.5"
    assert trigger.timestamp == NOW
    assert trigger.metadata == {}


def test_metadata_that_is_not_json_safe_or_too_large_is_dropped():
    cyclic: dict = {}
    cyclic["self"] = cyclic
    assert safe_parse_trigger({"type": "error", "metadata": cyclic}).metadata == {}
    assert safe_parse_trigger({"type": "error", "metadata": {"x": float("nan")}}).metadata == {}
    assert safe_parse_trigger({"type": "error", "metadata": {"x": "y" * 20_000}}).metadata == {}
    assert safe_parse_trigger({"type": "error", "metadata": {1: NOW}}).metadata == {"1": str(NOW)}


def test_unknown_text_keeps_the_raw_text():
    trigger = safe_parse_trigger("the moon is made of cheese")
    assert trigger.trigger_type == "unknown"
    assert trigger.trigger_raw == "the moon is made of cheese"
    assert trigger.reason == "the moon is made of cheese"


def test_timestamp_defaults_to_now_or_epoch():
    assert safe_parse_trigger("error").timestamp == EPOCH
    assert safe_parse_trigger("error", now=NOW).timestamp == NOW


def test_long_text_is_truncated_to_the_contract_limits():
    trigger = safe_parse_trigger("error execute " + "x" * 5000)
    assert len(trigger.reason) == 2000
    assert len(trigger.trigger_raw) == 2000


@pytest.mark.parametrize(("text", "expected"), [
    ("P1", "critical"), ("sev1", "critical"), ("CRIT", "critical"), ("major", "high"), ("warn", "medium"),
    ("minor", "low"), ("info", "low"), ("high", "high"), ("nonsense", "medium"), (None, "medium"), (3, "medium"),
])
def test_severity_aliases(text, expected):
    assert severity_of(text) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None, "", "   ", b"\xff\xfe", bytearray(b"timeout"), 42, 3.14, float("nan"), True, [1, 2],
        {"a": {"b": [1, {"c": None}]}}, "x" * 1_000_000, "[" * 100_000, "{" * 100_000,
        '{"metadata": ' * 5000, "\ud800 error \udfff", 10 ** 5000, object(), {1: 2, (3, 4): 5}, {"type": None},
    ],
    ids=lambda raw: type(raw).__name__,
)
def test_pathological_inputs_never_raise(raw):
    trigger = safe_parse_trigger(raw)
    assert isinstance(trigger, ReplanTrigger)
    assert trigger.trigger_type in TRIGGER_TYPES
    trigger.model_dump_json()  # what we return can always be stored


def test_deeply_nested_list_never_raises():
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    assert safe_parse_trigger(nested).trigger_type == "unknown"


def test_parsed_trigger_round_trips():
    trigger = safe_parse_trigger("empty_result execute no rows", now=NOW)
    assert safe_parse_trigger(trigger) == trigger
    assert safe_parse_trigger(trigger.model_dump()) == trigger
    assert safe_parse_trigger(trigger.model_dump(mode="json")) == trigger


# --- properties -------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text())
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(), children, max_size=4)),
    max_leaves=20,
)
word = st.one_of(
    st.sampled_from([*TRIGGER_TYPES, *ALIASES, "route_plan", "VALIDATE", "execute", "Compose", "present",
                     "P1", "warn", "high", "time-out", "policy blocked"]),
    st.text(max_size=12),
)
trigger_texts = st.lists(word, max_size=5).map(" ".join)
timestamps = st.one_of(
    st.datetimes(timezones=st.none() | st.builds(timezone, st.timedeltas(min_value=-timedelta(hours=23),
                                                                          max_value=timedelta(hours=23)))),
    st.text(max_size=30),
    st.sampled_from(["2025-01-02T03:04:05Z", "2025-01-02", "1700000000", "not a date"]),
)
trigger_dicts = st.fixed_dictionaries(
    {},
    optional={
        "trigger_type": word, "type": json_values | word, "trigger": word, "stage_name": word, "stage": json_values,
        "severity": word | json_values, "reason": json_values, "message": st.text(), "timestamp": timestamps,
        "metadata": json_values, "trigger_raw": json_values,
    },
)
anything = st.one_of(
    st.none(), st.text(), st.binary(), st.integers(), st.floats(allow_nan=True), trigger_texts,
    st.lists(json_values, max_size=4), st.dictionaries(st.text(), json_values, max_size=4), json_values,
    trigger_dicts, trigger_dicts.map(lambda d: json.dumps(d, default=str)),
)


@settings(max_examples=300, deadline=None)
@given(anything)
def test_parsing_is_total(raw):
    trigger = safe_parse_trigger(raw)
    assert isinstance(trigger, ReplanTrigger)
    assert trigger.trigger_type in TRIGGER_TYPES


@settings(max_examples=300, deadline=None)
@given(anything, st.sampled_from(["", "execute", "Route-Plan"]))
def test_parsing_a_parsed_trigger_gives_it_back(raw, default_stage):
    parsed = safe_parse_trigger(raw, default_stage=default_stage, now=NOW)
    assert safe_parse_trigger(parsed) == parsed
    assert safe_parse_trigger(parsed.model_dump()) == parsed
    assert safe_parse_trigger(parsed.model_dump(mode="json")) == parsed
    assert safe_parse_trigger(parsed.model_dump_json()) == parsed


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once
    assert all(char.isascii() and (char.isalnum() or char == "_") for char in once)
