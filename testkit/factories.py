"""Factories for users, assets and whole trace bodies."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import factory
from django.contrib.auth import get_user_model

from inspector.models import Asset, AssetVersion
from inspector.services import asset_version_create, asset_version_publish
from kernel.tenancy import SHARED_TENANT

VALID_SPECS: dict[str, dict[str, Any]] = {
    "prompt": {"template": "Route the question: {question}", "rules": [{"intent": "lookup", "keywords": ["show"]}]},
    "policy": {"allowed_tools": ["sql"], "max_steps": 3, "max_rows": 100},
    "mapping": {"blocks": [{"block_type": "table", "title": "Rows"}]},
    "query": {"sql": "SELECT id, name FROM ci WHERE name = :name", "params": ["name"]},
    "source": {"connection": "inventory", "description": "The sample inventory"},
    "schema": {"tables": {"ci": ["id", "name"]}},
    "resolver": {"aliases": {"checkout": "app-001"}},
    "screen": {"max_blocks": 3},
    "price_table": {"models": {"gpt-4o": {"input_per_million": 2.5, "output_per_million": 10.0}}},
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")

    @factory.post_generation
    def tenants(self, create, extracted, **kwargs):
        """Member of the shared tenant unless ``tenants=[...]`` says otherwise."""
        if not create:
            return
        from access.models import TenantMembership

        for tenant_id in [SHARED_TENANT] if extracted is None else extracted:
            TenantMembership.objects.create(user=self, tenant_id=tenant_id)


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Asset

    tenant_id = SHARED_TENANT
    asset_type = "query"
    name = factory.Sequence(lambda n: f"asset_{n}")


class AssetVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssetVersion

    asset = factory.SubFactory(AssetFactory)
    version = factory.Sequence(lambda n: n + 1)
    spec = factory.LazyAttribute(lambda o: copy.deepcopy(VALID_SPECS[o.asset.asset_type]))


STAGE_RESULTS: dict[str, dict[str, Any]] = {
    "route_plan": {"kind": "plan", "plan": {"intent": "lookup", "steps": [{"tool": "sql"}]}, "direct_answer": ""},
    "validate": {"validation_passed": True, "violations": []},
    "execute": {"tool_results": [{"rows": [{"id": "app-001", "name": "checkout-api"}]}], "references": []},
    "compose": {"blocks": [{"type": "table", "rows": 1}], "references": []},
    "present": {"ui_model": {"title": "Answer"}, "final_blocks": [], "final_references": [], "final_attributions": []},
}


def stage_body(stage: str, *, attempt: int = 1, status: str = "ok", duration_ms: int = 12,
               padding: int = 0, **result_overrides: Any) -> dict[str, Any]:
    """One stage run as the ingest endpoint expects it."""
    result = {**copy.deepcopy(STAGE_RESULTS[stage]), **result_overrides}
    if padding:
        result["padding"] = "x" * padding
    return {
        "stage": stage,
        "attempt": attempt,
        "input": {"stage": stage, "applied_assets": {"prompt": "route_rules@1"} if stage == "route_plan" else {},
                  "params": {"limit": 10}, "prev_output": {}, "trace_id": ""},
        "output": {
            "stage": stage,
            "result": result,
            "diagnostics": {"status": status, "warnings": ["slow"] if status == "warning" else [],
                            "errors": ["boom"] if status == "error" else [],
                            "empty_flags": {"result_empty": False}, "counts": {"rows": 1}},
            "references": [{"type": "db_row", "source": "inventory", "entity_id": "app-001",
                            "entity_name": "checkout-api"}] if stage == "execute" else [],
            "duration_ms": duration_ms,
        },
    }


def trace_body(*, trace_id: str | None = None, question: str = "Which servers run checkout-api?",
               stages: tuple[str, ...] = ("route_plan", "validate", "execute", "compose", "present"),
               padding: int = 0, **fields: Any) -> dict[str, Any]:
    """A whole valid trace body; ``padding`` adds that many bytes to each stage's result."""
    body = {
        "trace_id": trace_id if trace_id is not None else f"t-{uuid.uuid4().hex[:12]}",
        "tenant_id": SHARED_TENANT,
        "question": question,
        "started_at": "2026-11-20T10:00:00Z",
        "applied_assets": {"prompt": {"name": "route_rules", "version": 1, "status": "published"}},
        "stages": [stage_body(stage, padding=padding) for stage in stages],
        "metadata": {"client": "tests"},
    }
    body.update(fields)
    return body


def retried_execute_pair(*, empty_rows: list[Any], empty_duration_ms: int,
                         replans: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Trace bodies "base" and "cand": the candidate's execute ran twice — attempt 1 came back empty
    (``empty_rows`` as its tool results, in ``empty_duration_ms``), attempt 2 as the baseline's —
    and its metadata lists ``replans``."""
    baseline = trace_body(trace_id="base")
    candidate = copy.deepcopy(baseline)
    candidate["trace_id"] = "cand"
    first = copy.deepcopy(candidate["stages"][2])
    first["output"]["diagnostics"].update(status="warning", empty_flags={"result_empty": True})
    first["output"]["result"]["tool_results"] = empty_rows
    first["output"]["duration_ms"] = empty_duration_ms
    candidate["stages"][2]["attempt"] = 2
    candidate["stages"].insert(2, first)
    candidate["metadata"] = {"replans": replans}
    return baseline, candidate


def publish_changed_version(asset_name: str, **spec_changes: Any) -> AssetVersion:
    """Create and publish a new version of the asset: its version 1 spec with ``spec_changes``."""
    asset = Asset.objects.get(name=asset_name)
    version = asset_version_create(asset=asset, spec={**asset.versions.get(version=1).spec, **spec_changes})
    asset_version_publish(version=version)
    return version
