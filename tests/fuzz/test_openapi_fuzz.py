"""Bounded schemathesis run over the OpenAPI schema: no 5xx, and answers match the schema.

Both tests run as a superuser against a database holding real traces, assets,
a golden query with a baseline and a run, and an analysis, so id-based
operations also reach their success paths.

* Generated: every operation gets ``OPS_FUZZ_EXAMPLES`` requests (default 12)
  in each phase (schema examples, coverage, fuzzing), fitting the schema and
  not (positive and negative modes), with NUL characters allowed in strings:
  path and query parameters and bodies.
* Edge cases: every path and query parameter of every operation is sent NUL
  characters and integers no column holds (2**31, 2**63, 10**30, 5,000
  digits, "²"), with the other path parameters naming real objects. A NUL
  anywhere in the URL is always a 400.

Checks: no server error; a documented status comes with a documented content
type and a body that fits its schema. An undocumented 4xx (400 for bad input,
404 for an unknown id, 405) is an expected answer to generated input and not a
failure, but it must still be JSON in the API's error shape:
``{"detail": "..."}`` or ``{"field": ["message", ...]}`` (nested for lists).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from controlloop.models import ReplanPolicy
from controlloop.services import ensure_default_policy
from inspector.contracts import ExecutionContext
from inspector.models import Asset
from inspector.pipeline.runner import pipeline_run
from opsproject.middleware import NUL_REFUSED
from regression.models import GoldenQuery
from regression.services import (
    analysis_request,
    golden_query_run,
    golden_query_set_baseline,
    suite_record_baseline,
    suite_run_execute,
)
from regression.suite_models import GoldenSuite, SuiteItem
from testkit.factories import UserFactory
from testkit.parallel import worker_index

# schemathesis gives all its operations' tests one node id, and pytest-xdist then runs one of them for
# all: this file runs in a plain pytest process (make test runs it after the parallel part).
pytestmark = pytest.mark.skipif(worker_index() is not None,
                                reason="run without -n: its operations share one node id under pytest-xdist")



@schemathesis.serializer("application/x-protobuf")
def _protobuf_bytes(ctx, value) -> bytes:
    """/v1/traces takes OTLP protobuf: the generated binary string is sent as the body, as it is."""
    return value if isinstance(value, bytes) else str(value).encode()


EXAMPLES = int(os.environ.get("OPS_FUZZ_EXAMPLES", "12"))
QUESTION = "What is checkout-api?"
CONFIG = schemathesis.Config.from_dict({"generation": {"mode": "all", "allow-x00": True}})

NUL_VALUES = ["a\x00b", "\x00", "1\x00"]
HUGE_INTEGERS = [2**31, 2**53, 2**63, 2**64, 10**30, -1, "9" * 5000, "²", "1e400"]


def _load_schema():
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator

    document = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    loaded = schemathesis.openapi.from_dict(document, config=CONFIG)
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in schema.get_all_operations())}


def error_answer_conformance(ctx, response, case) -> None:
    """A 4xx answer, documented or not, is JSON in the API's error shape (inspector.api_errors)."""
    if not 400 <= response.status_code < 500:
        return
    content_type = (response.headers.get("content-type") or [""])[0].split(";")[0]
    assert content_type == "application/json", f"{response.status_code} answered as {content_type!r}, not JSON"
    body = json.loads(response.content)
    assert isinstance(body, dict) and body and all(_is_error_value(value) for value in body.values()), (
        f"{response.status_code} body is not {{'detail': str}} nor {{field: [str]}}: {body!r}"[:500])


def _is_error_value(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return bool(value) and all(_is_error_value(item) for item in value)
    if isinstance(value, dict):
        return bool(value) and all(_is_error_value(item) for item in value.values())
    return False


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, error_answer_conformance]


@pytest.fixture
def stored_data(db, reference_assets) -> dict[str, str]:
    """Real objects, so id-based operations also reach their success paths; their ids by path parameter."""
    # Django's test client does the same: the WSGI handler must not close the
    # test's connection (inside its transaction) after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    ensure_default_policy()
    t1 = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    t2 = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    golden = GoldenQuery.objects.create(name="fuzz-golden", question=QUESTION)
    golden_query_set_baseline(golden_query=golden, trace_id=t1)
    run = golden_query_run(golden_query=golden, enqueue=False)
    analysis = analysis_request(baseline_trace_ids=[t1], candidate_trace_ids=[t2])
    suite = GoldenSuite.objects.create(name="fuzz-suite", repeats=1)
    item = SuiteItem.objects.create(suite=suite, name="fuzz-item", question=QUESTION)
    suite_run = suite_record_baseline(suite=suite, enqueue=False)
    suite_run_execute(run_id=suite_run.pk)
    yield {
        "trace_id": t1,
        "stage": "execute",
        "analysis_id": str(analysis.pk),
        "baseline": t2,
        "/asset-registry/assets/": str(Asset.objects.get(name="event_history").pk),
        "/controlloop/policies/": str(ReplanPolicy.objects.values_list("pk", flat=True).first()),
        "/inspector/regression/golden-queries/": str(golden.pk),
        "/inspector/regression/runs/": str(run.pk),
        "/inspector/regression/suites/": str(suite.pk),
        "item_id": str(item.pk),
        "run_id": str(suite_run.pk),
    }
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db):
    return Token.objects.create(user=UserFactory(is_superuser=True, is_staff=True)).key


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, token, stored_data):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


def _valid_path_parameters(operation, stored: dict[str, str]) -> dict[str, str]:
    values = {}
    for parameter in operation.path_parameters:
        if parameter.name == "id":
            values["id"] = next(stored[prefix] for prefix in stored if operation.path.startswith(prefix))
        else:
            values[parameter.name] = stored[parameter.name]
    return values


def _first_line_of_note(exc: Exception) -> str:
    """The failure's title and first detail, without schemathesis' reproduction note."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " | ".join(lines[:4])[:300]


@pytest.mark.parametrize("label", sorted(label for label, operation in OPERATIONS.items()
                                         if list(operation.path_parameters) or list(operation.query)))
def test_nul_and_huge_integers_in_path_and_query_parameters(label, token, stored_data):
    operation = OPERATIONS[label]
    valid_path = _valid_path_parameters(operation, stored_data)
    required_query = {p.name: stored_data[p.name] for p in operation.query if p.is_required}
    targets = [("path", p.name) for p in operation.path_parameters] + [("query", p.name) for p in operation.query]
    failures = []
    for location, name in targets:
        for value in NUL_VALUES + HUGE_INTEGERS:
            path_parameters = {**valid_path, name: value} if location == "path" else valid_path
            query = {**required_query, name: value} if location == "query" else required_query
            case = operation.Case(path_parameters=path_parameters, query=query)
            try:
                response = case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
                if value in NUL_VALUES:
                    assert (response.status_code, response.json()) == (400, {"detail": NUL_REFUSED})
            except (AssertionError, FailureGroup) as exc:
                failures.append(f"{location} {name}={str(value)[:40]!r}: {_first_line_of_note(exc)}")
    assert not failures, "\n".join(failures)
