"""The migrations to per-tenant trace ids keep every reference: forward, backward and forward again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("regression", "0006_work_heartbeat_outbox"), ("inspector", "0006_source_specs_name_connections"),
          ("controlloop", "0003_breaker_cooldown")]
AFTER = [("regression", "0007_trace_references_by_pk"), ("inspector", "0007_trace_id_unique_per_tenant"),
         ("controlloop", "0004_ledger_per_tenant")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrator(transactional_db):
    yield _migrate
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_references_by_trace_id_become_primary_keys_and_ledgers_get_their_tenant(migrator):
    apps = migrator(BEFORE)
    trace = apps.get_model("inspector", "Trace")
    now = timezone.now()
    first, second = (trace.objects.create(trace_id=f"m-{n}", tenant_id="acme", question="q", status="success",
                                          started_at=now) for n in (1, 2))
    query = apps.get_model("regression", "GoldenQuery").objects.create(name="mig", question="q", tenant_id="acme")
    baseline = apps.get_model("regression", "Baseline").objects.create(golden_query=query, trace_id="m-1")
    runs = apps.get_model("regression", "RegressionRun").objects
    run = runs.create(golden_query=query, baseline=baseline, candidate_trace_id="m-2")
    pending = runs.create(golden_query=query, baseline=baseline)
    test = apps.get_model("regression", "OverrideTest").objects.create(
        trace_id="m-1", baseline_trace_id="m-2", candidate_trace_id="m-2", overrides={})
    apps.get_model("controlloop", "ReplanEvent").objects.create(kind="request", trace_id="m-1", tenant_id="acme",
                                                                trigger_type="error", created_at=now)
    for trace_id in ("m-1", "never-stored"):
        apps.get_model("controlloop", "ReplanLedger").objects.create(trace_id=trace_id)

    apps = migrator(AFTER)
    assert apps.get_model("regression", "Baseline").objects.get(pk=baseline.pk).trace_id == first.pk
    runs = apps.get_model("regression", "RegressionRun").objects
    assert runs.get(pk=run.pk).candidate_trace_id == second.pk and runs.get(pk=pending.pk).candidate_trace_id is None
    moved = apps.get_model("regression", "OverrideTest").objects.get(pk=test.pk)
    assert (moved.trace_id, moved.baseline_trace_id, moved.candidate_trace_id) == (first.pk, second.pk, second.pk)
    ledgers = apps.get_model("controlloop", "ReplanLedger").objects.values_list("trace_id", "tenant_id")
    assert dict(ledgers) == {"m-1": "acme", "never-stored": "default"}

    apps = migrator(BEFORE)
    assert apps.get_model("regression", "Baseline").objects.get(pk=baseline.pk).trace_id == "m-1"
    back = apps.get_model("regression", "OverrideTest").objects.get(pk=test.pk)
    assert (back.trace_id, back.baseline_trace_id, back.candidate_trace_id) == ("m-1", "m-2", "m-2")
    migrator(AFTER)
