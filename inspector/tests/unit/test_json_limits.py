"""The request-wide JSON limits (inspector.parsers.json_limit_violation)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.parsers import json_limit_violation

LIMITS = {"max_depth": 4, "max_string": 10, "max_items": 3}


def nested(depth: int):
    value = "leaf"
    for _ in range(depth - 1):
        value = {"a": value}
    return value if depth > 1 else {"a": value}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"a": {"b": {"c": {"d": {"e": 1}}}}}, "nesting deeper than 4 levels at /a/b/c/d"),
        ({"a": "x" * 11}, "string at /a is longer than 10"),
        ({"a": [1, 2, 3, 4]}, "list at /a has more than 3 items"),
        ({"k" * 11: 1}, "key at / is longer than 10"),
        ([[[[["deep"]]]]], "nesting deeper than 4 levels at /0/0/0/0"),
        ({"a": 1, "b": 2, "c": 3, "d": 4}, "object at / has more than 3 items"),
        ({"a": ["ok", "n\x00l"]}, "string at /a/1 contains a NUL character"),
        ({"a": {"k\x00": 1}}, "key at /a contains a NUL character"),
    ],
)
def test_each_limit_names_the_place(data, message):
    assert message in json_limit_violation(data, **LIMITS)


@pytest.mark.parametrize("data", [{}, [], "x" * 10, {"a": {"b": {"c": {"d": 1}}}}, [1, 2, 3], None, 1.5])
def test_data_within_limits_passes(data):
    assert json_limit_violation(data, **LIMITS) == ""


def test_a_hostile_depth_does_not_exhaust_the_stack():
    value = []
    for _ in range(100_000):
        value = [value]
    assert "nesting deeper" in json_limit_violation(value, max_depth=64, max_string=10, max_items=10)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children,
                                                                                      max_size=3),
                    max_leaves=20))
def test_never_raises(data):
    assert isinstance(json_limit_violation(data, **LIMITS), str)
