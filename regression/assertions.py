"""Expected-output assertions of suite items: validated as a contract, evaluated on a stage's output.

An assertion names a stage, an RFC 6901 JSON pointer into that stage's
output (``StageOutput`` as stored: ``/result/...``, ``/diagnostics/...``),
and an ``op``:

* ``equals`` ``value``: the pointed-at value equals ``value``;
* ``contains`` ``value``: a string holds the substring, a list holds the
  element, an object holds the key (``value`` a string) or every pair of
  ``value`` (an object);
* ``matches`` ``pattern``: a string in which the regular expression is found
  (``re.search``);
* ``row_count`` ``min`` / ``max``: a list with that many elements (bounds inclusive);
* ``json_schema`` ``schema``: the value is valid against the JSON Schema.

Evaluation is pure: it takes the stage outputs of one trace and returns,
per assertion, ``passed`` and a message naming the pointer, what was
expected and what was found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import jsonpointer
import jsonschema
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from inspector.contracts import StageName
from kernel.contracts import Contract
from kernel.errors import InvalidInput

MAX_ASSERTIONS = 50
_SHOWN = 120  # characters of a value shown in a message


class _Assertion(Contract):
    stage: StageName
    pointer: str = Field(default="", max_length=500,
                         description='RFC 6901 JSON pointer into the stage output ("" = the whole output), '
                                     'e.g. "/result/rows".')

    @field_validator("pointer")
    @classmethod
    def _valid_pointer(cls, pointer: str) -> str:
        try:
            jsonpointer.JsonPointer(pointer)
        except jsonpointer.JsonPointerException as exc:
            raise ValueError(f'not a JSON pointer (RFC 6901: "" or "/a/0/b"): {exc}') from exc
        return pointer

    def describe(self) -> str:
        """What is expected, as the messages say it."""
        raise NotImplementedError

    def check(self, actual: Any) -> bool:
        raise NotImplementedError


class EqualsAssertion(_Assertion):
    op: Literal["equals"]
    value: Any = Field(description="The expected value (any JSON).")

    def describe(self) -> str:
        return f"equals {_show(self.value)}"

    def check(self, actual: Any) -> bool:
        return _same(actual, self.value)


class ContainsAssertion(_Assertion):
    op: Literal["contains"]
    value: Any = Field(description="Substring, list element, object key, or object subset.")

    def describe(self) -> str:
        return f"contains {_show(self.value)}"

    def check(self, actual: Any) -> bool:
        if isinstance(actual, str):
            return isinstance(self.value, str) and self.value in actual
        if isinstance(actual, list):
            return any(_same(element, self.value) for element in actual)
        if isinstance(actual, dict):
            if isinstance(self.value, str):
                return self.value in actual
            if isinstance(self.value, dict):
                return all(key in actual and _same(actual[key], want) for key, want in self.value.items())
        return False


class MatchesAssertion(_Assertion):
    op: Literal["matches"]
    pattern: str = Field(min_length=1, max_length=1000, description="A Python regular expression, searched for.")

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return pattern

    def describe(self) -> str:
        return f"a string matching /{self.pattern}/"

    def check(self, actual: Any) -> bool:
        return isinstance(actual, str) and re.search(self.pattern, actual) is not None


class RowCountAssertion(_Assertion):
    op: Literal["row_count"]
    min: int | None = Field(default=None, ge=0, description="At least this many elements.")
    max: int | None = Field(default=None, ge=0, description="At most this many elements.")

    @model_validator(mode="after")
    def _bounds(self) -> RowCountAssertion:
        if self.min is None and self.max is None:
            raise ValueError("row_count needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"row_count min ({self.min}) is greater than max ({self.max})")
        return self

    def describe(self) -> str:
        if self.max is None:
            return f"a list of at least {self.min} rows"
        if self.min is None:
            return f"a list of at most {self.max} rows"
        return f"a list of {self.min}–{self.max} rows"

    def check(self, actual: Any) -> bool:
        if not isinstance(actual, list):
            return False
        return (self.min is None or len(actual) >= self.min) and (self.max is None or len(actual) <= self.max)


class JsonSchemaAssertion(_Assertion):
    # "schema" would shadow BaseModel.schema: the field has another name and takes "schema" as its key.
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    op: Literal["json_schema"]
    expected_schema: dict[str, Any] = Field(alias="schema", description="A JSON Schema the value must satisfy.")

    @field_validator("expected_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
        return schema

    def describe(self) -> str:
        return f"a value valid against the JSON Schema {_show(self.expected_schema)}"

    def check(self, actual: Any) -> bool:
        return self.schema_error(actual) is None

    def schema_error(self, actual: Any) -> str | None:
        error = jsonschema.exceptions.best_match(
            jsonschema.validators.validator_for(self.expected_schema)(self.expected_schema).iter_errors(actual))
        if error is None:
            return None
        where = "/" + "/".join(str(part) for part in error.absolute_path) if error.absolute_path else ""
        return f"{where or 'the value'}: {error.message}"


Assertion = Annotated[
    EqualsAssertion | ContainsAssertion | MatchesAssertion | RowCountAssertion | JsonSchemaAssertion,
    Field(discriminator="op"),
]
# The type a request contract declares for an item's ``assertions``.
Assertions = Annotated[list[Assertion], Field(max_length=MAX_ASSERTIONS)]
_ASSERTIONS = TypeAdapter(Assertions)
_OPS = frozenset(get_args(kind.model_fields["op"].annotation)[0] for kind in get_args(get_args(Assertion)[0]))


def assertions_parse(raw: Any) -> list[Assertion]:
    """Validate stored or sent assertions; ``InvalidInput`` (400, field ``assertions``) names each problem."""
    try:
        return _ASSERTIONS.validate_python(raw if raw is not None else [])
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            # The union's tag (the op) in an error's location says nothing the item's index does not.
            parts = [part for index, part in enumerate(error["loc"]) if not (index == 1 and part in _OPS)]
            location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)
            problems.append(f"assertions{location}: {error['msg'].removeprefix('Value error, ')}")
        raise InvalidInput("; ".join(problems), field="assertions") from exc


def assertions_dump(assertions: list[Assertion]) -> list[dict[str, Any]]:
    """The stored form (as sent: ``schema``, not the field's own name; no empty bounds)."""
    dumped = [assertion.model_dump(mode="json", by_alias=True) for assertion in assertions]
    # An absent bound is left out (no null is stored); a null ``value`` is an expected value and stays.
    return [{key: value for key, value in item.items() if not (key in ("min", "max") and value is None)}
            for item in dumped]


@dataclass(frozen=True)
class AssertionOutcome:
    passed: bool
    message: str


_MISSING = object()


def assertion_evaluate(assertion: Assertion, outputs: dict[str, dict[str, Any]]) -> AssertionOutcome:
    """Check one assertion against a trace's stage outputs (stage name → its output, as stored)."""
    where = f"{assertion.stage}{assertion.pointer or ' output'}"
    output = outputs.get(str(assertion.stage))
    if output is None:
        return AssertionOutcome(False, f"{where}: expected {assertion.describe()}, but stage {assertion.stage} did not run")
    actual = jsonpointer.resolve_pointer(output, assertion.pointer, _MISSING)
    if actual is _MISSING:
        return AssertionOutcome(False, f"{where}: expected {assertion.describe()}, but nothing is at that pointer")
    if isinstance(assertion, JsonSchemaAssertion):
        error = assertion.schema_error(actual)
        if error is None:
            return AssertionOutcome(True, f"{where}: valid against the JSON Schema")
        return AssertionOutcome(False, f"{where}: expected {assertion.describe()}, got {_show(actual)} ({error})")
    if assertion.check(actual):
        return AssertionOutcome(True, f"{where}: {assertion.describe()} (got {_show(actual)})")
    found = f"{len(actual)} rows" if isinstance(assertion, RowCountAssertion) and isinstance(actual, list) else _show(actual)
    return AssertionOutcome(False, f"{where}: expected {assertion.describe()}, got {found}")


def assertions_evaluate(assertions: list[Assertion], outputs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every assertion on one trace: ``[{index, stage, pointer, op, passed, message}]`` in order."""
    results = []
    for index, assertion in enumerate(assertions):
        outcome = assertion_evaluate(assertion, outputs)
        results.append({"index": index, "stage": str(assertion.stage), "pointer": assertion.pointer,
                        "op": assertion.op, "passed": outcome.passed, "message": outcome.message})
    return results


def _same(actual: Any, expected: Any) -> bool:
    # JSON has one number type: 1 equals 1.0, but true is not 1.
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(_same(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(_same(actual[key], expected[key]) for key in actual)
    return actual == expected


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
