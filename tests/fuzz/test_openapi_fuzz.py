"""Bounded schemathesis run over the OpenAPI schema: no 5xx, and responses match the schema.

Every operation gets ``OPS_FUZZ_EXAMPLES`` generated requests (default 12) as
a superuser, against a database holding real traces, assets, a golden query
and an analysis, so id-based operations also reach their success paths.
Checks: no server error, documented response bodies and content types.
Undocumented 4xx codes (404 for an unknown id, 400 for bad input) are
expected answers to generated input and are not failures.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from controlloop.services import ensure_default_policy
from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from regression.models import GoldenQuery
from regression.services import analysis_request, golden_query_set_baseline
from tests.factories import UserFactory

EXAMPLES = int(os.environ.get("OPS_FUZZ_EXAMPLES", "12"))
QUESTION = "What is checkout-api?"


def _load_schema():
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator

    document = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture
def stored_data(db, reference_assets):
    """Real objects, so id-based operations also reach their success paths."""
    # Django's test client does the same: the WSGI handler must not close the
    # test's connection (inside its transaction) after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    ensure_default_policy()
    t1 = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    t2 = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    golden = GoldenQuery.objects.create(name="fuzz-golden", question=QUESTION)
    golden_query_set_baseline(golden_query=golden, trace_id=t1)
    analysis_request(baseline_trace_ids=[t1], candidate_trace_ids=[t2])
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db):
    return Token.objects.create(user=UserFactory(is_superuser=True, is_staff=True)).key


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, token, stored_data):
    case.call_and_validate(headers={"Authorization": f"Token {token}"},
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
