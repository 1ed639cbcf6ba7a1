"""Role × endpoint: every API endpoint and screen allows exactly the roles that should use it.

Allowed means a 2xx answer with a valid request; denied means 403 (401 when
anonymous). Each case gets fresh data, so destructive calls do not interfere.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from access.roles import ADMIN, ASSET_EDITOR, OPERATOR, PUBLISHER, VIEWER
from controlloop.services import ensure_default_policy
from inspector.contracts import ExecutionContext
from inspector.models import Asset
from inspector.pipeline.runner import pipeline_run
from inspector.services import asset_create, asset_version_create, asset_version_publish
from regression.models import GoldenQuery
from regression.services import analysis_request, golden_query_set_baseline
from testkit.factories import VALID_SPECS, trace_body
from testkit.plugin import client_for, role_user

pytestmark = pytest.mark.django_db

ROLES = [None, VIEWER, OPERATOR, ASSET_EDITOR, PUBLISHER, ADMIN]
EVERY_ROLE = {VIEWER, OPERATOR, ASSET_EDITOR, PUBLISHER, ADMIN}
QUESTION = "What is checkout-api?"


@dataclass
class World:
    t1: str
    t2: str
    asset: Asset
    golden: GoldenQuery
    analysis_id: str


@pytest.fixture
def world(reference_assets) -> World:
    ensure_default_policy()
    t1 = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    t2 = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    asset = asset_create(tenant_id="default", asset_type="prompt", name="matrix_prompt")
    asset_version_publish(version=asset_version_create(asset=asset, spec=VALID_SPECS["prompt"]))
    asset_version_create(asset=asset, spec={**VALID_SPECS["prompt"], "template": "v2 {question}"})
    golden = GoldenQuery.objects.create(name="matrix-golden", question=QUESTION)
    golden_query_set_baseline(golden_query=golden, trace_id=t1)
    analysis = analysis_request(baseline_trace_ids=[t1], candidate_trace_ids=[t2])
    return World(t1=t1, t2=t2, asset=asset, golden=golden, analysis_id=str(analysis.pk))


@dataclass
class Call:
    method: str
    url: Callable[[World], str]
    allowed: set
    body: Callable[[World], Any] | None = None


def policy_body(w: World) -> dict:
    return {"name": "matrix", "tenant_id": "default", "max_replans": 1, "allowed_triggers": ["error"],
            "min_severity": "low", "min_interval_seconds": 0, "cooling_period_seconds": 0, "rules": {}}


API: dict[str, Call] = {
    "trace list": Call("get", lambda w: "/inspector/traces", EVERY_ROLE),
    "trace ingest": Call("post", lambda w: "/inspector/traces", {OPERATOR, ADMIN},
                         lambda w: trace_body(trace_id=f"m-{uuid.uuid4().hex[:8]}")),
    "trace batch ingest": Call("post", lambda w: "/inspector/traces", {OPERATOR, ADMIN},
                               lambda w: [trace_body(trace_id=f"m-{uuid.uuid4().hex[:8]}") for _ in range(2)]),
    "trace detail": Call("get", lambda w: f"/inspector/traces/{w.t1}", EVERY_ROLE),
    "stage payloads": Call("get", lambda w: f"/inspector/traces/{w.t1}/stages/execute", EVERY_ROLE),
    "trace diff": Call("get", lambda w: f"/inspector/traces/{w.t2}/diff?baseline={w.t1}", EVERY_ROLE),
    "ask": Call("post", lambda w: "/ops/ask", {OPERATOR, ADMIN}, lambda w: {"question": QUESTION}),
    "ask in test mode": Call("post", lambda w: "/ops/ask", {OPERATOR, ADMIN},
                             lambda w: {"question": QUESTION, "test_mode": True,
                                        # the published version: drafts need asset-edit rights
                                        "asset_overrides": {"prompt": "matrix_prompt@1"}}),
    "stage test": Call("post", lambda w: "/ops/stage-test", {OPERATOR, ADMIN},
                       lambda w: {"stage": "execute", "trace_id": w.t1}),
    "analyze": Call("post", lambda w: "/inspector/regression/analyze", {OPERATOR, ADMIN},
                    lambda w: {"baseline_trace_id": w.t1, "candidate_trace_id": w.t2}),
    "analysis detail": Call("get", lambda w: f"/inspector/regression/{w.analysis_id}", EVERY_ROLE),
    "stage compare": Call("post", lambda w: "/inspector/regression/stage-compare", EVERY_ROLE,
                          lambda w: {"baseline_trace_id": w.t1, "candidate_trace_id": w.t2, "stage": "execute"}),
    "golden list": Call("get", lambda w: "/inspector/regression/golden-queries", EVERY_ROLE),
    "golden create": Call("post", lambda w: "/inspector/regression/golden-queries", {OPERATOR, ADMIN},
                          lambda w: {"name": "new-golden", "question": QUESTION}),
    "golden delete": Call("delete", lambda w: f"/inspector/regression/golden-queries/{w.golden.pk}", {ADMIN}),
    "golden baseline": Call("post", lambda w: f"/inspector/regression/golden-queries/{w.golden.pk}/baseline",
                            {OPERATOR, ADMIN}, lambda w: {"trace_id": w.t2}),
    "golden run": Call("post", lambda w: f"/inspector/regression/golden-queries/{w.golden.pk}/run",
                       {OPERATOR, ADMIN}, lambda w: {}),
    "runs": Call("get", lambda w: "/inspector/regression/runs", EVERY_ROLE),
    "asset list": Call("get", lambda w: "/asset-registry/assets", EVERY_ROLE),
    "asset create": Call("post", lambda w: "/asset-registry/assets", {ASSET_EDITOR, ADMIN},
                         lambda w: {"asset_type": "prompt", "name": "brand_new"}),
    "asset edit": Call("patch", lambda w: f"/asset-registry/assets/{w.asset.pk}", {ASSET_EDITOR, ADMIN},
                       lambda w: {"description": "edited"}),
    "asset delete": Call("delete", lambda w: f"/asset-registry/assets/{w.asset.pk}", {ADMIN}),
    "versions": Call("get", lambda w: f"/asset-registry/assets/{w.asset.pk}/versions", EVERY_ROLE),
    "new version": Call("post", lambda w: f"/asset-registry/assets/{w.asset.pk}/versions", {ASSET_EDITOR, ADMIN},
                        lambda w: {"spec": VALID_SPECS["prompt"]}),
    "publish": Call("post", lambda w: f"/asset-registry/assets/{w.asset.pk}/publish", {PUBLISHER, ADMIN},
                    lambda w: {"version": 2}),
    "rollback": Call("post", lambda w: f"/asset-registry/assets/{w.asset.pk}/rollback", {PUBLISHER, ADMIN},
                     lambda w: {"version": 2, "note": "copy of the draft"}),
    "impact": Call("get", lambda w: f"/asset-registry/assets/{w.asset.pk}/impact", EVERY_ROLE),
    "impact export": Call("get", lambda w: f"/asset-registry/assets/{w.asset.pk}/impact?export=csv", EVERY_ROLE),
    "asset traces": Call("get", lambda w: f"/asset-registry/assets/{w.asset.pk}/traces", EVERY_ROLE),
    "policies": Call("get", lambda w: "/controlloop/policies", EVERY_ROLE),
    "policy create": Call("post", lambda w: "/controlloop/policies", {ADMIN}, policy_body),
    "decide": Call("post", lambda w: "/controlloop/decide", {OPERATOR, ADMIN},
                   lambda w: {"trace_id": w.t1, "trigger": "empty_result"}),
    "events": Call("get", lambda w: "/controlloop/events", EVERY_ROLE),
    "otlp ingest": Call("post", lambda w: "/v1/traces", {OPERATOR, ADMIN}, lambda w: {"resourceSpans": []}),
}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no-role")
@pytest.mark.parametrize("name", list(API))
def test_api_role_matrix(world, name, role):
    call = API[name]
    client = client_for(role_user(role))
    body = call.body(world) if call.body else None
    response = getattr(client, call.method)(call.url(world), body, format="json")
    if role in call.allowed:
        assert 200 <= response.status_code < 300, (name, role, response.status_code, response.content[:300])
    else:
        assert response.status_code == 403, (name, role, response.status_code, response.content[:300])


@pytest.mark.parametrize("name", list(API))
def test_api_refuses_anonymous(world, name, anon_client):
    call = API[name]
    response = getattr(anon_client, call.method)(call.url(world), call.body(world) if call.body else None,
                                                 format="json")
    assert response.status_code == 401


SCREENS: dict[str, tuple[Callable[[World], str], set]] = {
    "trace list": (lambda w: reverse("admin:inspector_trace_changelist"), EVERY_ROLE),
    "trace page": (lambda w: reverse("admin:inspector_trace_by_id", args=[w.t1]), EVERY_ROLE),
    "compare": (lambda w: _trace_admin_url(w.t2, "inspector_trace_compare") + f"?baseline={w.t1}", EVERY_ROLE),
    "override screen": (lambda w: _trace_admin_url(w.t1, "inspector_trace_overrides"), {OPERATOR, ADMIN}),
    "asset impact": (lambda w: reverse("admin:inspector_asset_impact", args=[w.asset.pk]), EVERY_ROLE),
    "asset add": (lambda w: reverse("admin:inspector_asset_add"), {ASSET_EDITOR, ADMIN}),
    "replan timeline": (lambda w: reverse("admin:controlloop_timeline"), EVERY_ROLE),
    "analyses": (lambda w: reverse("admin:regression_regressionanalysis_changelist"), EVERY_ROLE),
    "policy add": (lambda w: reverse("admin:controlloop_replanpolicy_add"), {ADMIN}),
    "span stage rules": (lambda w: reverse("admin:otlp_spanstagerule_changelist"), EVERY_ROLE),
    "span stage rule add": (lambda w: reverse("admin:otlp_spanstagerule_add"), {ASSET_EDITOR, ADMIN}),
    "span buffer": (lambda w: reverse("admin:otlp_bufferedspan_changelist"), EVERY_ROLE),
}


def _trace_admin_url(trace_id: str, name: str) -> str:
    from inspector.models import Trace

    return reverse(f"admin:{name}", args=[Trace.objects.get(trace_id=trace_id).pk])


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no-role")
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_role_matrix(client, world, name, role):
    url, allowed = SCREENS[name]
    client.force_login(role_user(role, staff=True))
    response = client.get(url(world), follow=True)
    if role in allowed:
        assert response.status_code == 200, (name, role, response.status_code)
    else:
        assert response.status_code == 403, (name, role, response.status_code)
