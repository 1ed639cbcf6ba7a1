"""Publishing while the broker is down: the golden runs it starts are stored with the publish and run once it is back.

The runs are rows written in the publish transaction (an outbox), sent after
commit; the reaper sends what the broker did not take. Run with ``-s`` for the
measured times (docs/reliability.md quotes them).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inspector.contracts import ExecutionContext
from inspector.models import Asset, AssetVersion
from inspector.pipeline.runner import pipeline_run
from inspector.services import asset_version_publish
from reference.assets import reference_v2_install
from regression.models import GoldenQuery, RegressionRun, WorkStatus
from regression.services import golden_query_set_baseline, work_reap
from regression.services.work import UNSENT_GRACE
from tests.reliability.conftest import celery_publishing_to

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_assets")]
QUESTION = "Events on checkout-api last 30 days"  # its baseline applies the query asset event_history


@pytest.fixture
def golden(reference_assets) -> GoldenQuery:
    query = GoldenQuery.objects.create(name="publish-outbox", question=QUESTION)
    golden_query_set_baseline(golden_query=query,
                              trace_id=pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id)
    return query


@pytest.fixture
def new_version(golden) -> AssetVersion:
    """A draft event_history@2 (it changes the answer), ready to publish."""
    reference_v2_install(publish=False)
    return Asset.objects.get(name="event_history").versions.get(version=2)


def _next_reaper_run():
    return timezone.now() + UNSENT_GRACE + timedelta(seconds=1)


def test_a_publish_while_the_broker_is_down_stores_its_golden_run_and_the_reaper_completes_it(
        golden, new_version, refused_broker_url, caplog):
    with celery_publishing_to(refused_broker_url):
        asset_version_publish(version=new_version)
    new_version.refresh_from_db()
    run = RegressionRun.objects.get(golden_query=golden)
    assert new_version.status == AssetVersion.Status.PUBLISHED  # the publish did not fail
    assert run.trigger == "asset_publish" and run.status == WorkStatus.PENDING and run.enqueued_at is None
    assert "could not enqueue regression.tasks.run_golden_query" in caplog.text

    result = work_reap(now=_next_reaper_run())  # broker back (here: in-process execution)

    run.refresh_from_db()
    assert result["runs_sent"] == 1 and result["not_sent"] == 0
    assert run.status == WorkStatus.COMPLETED and run.analysis.verdict != "PASS"


def test_the_runs_are_written_in_the_publish_transaction(golden, new_version):
    """A publish that rolls back leaves no run, and a run never exists without its publish."""
    with pytest.raises(RuntimeError), transaction.atomic():
        asset_version_publish(version=new_version)
        assert RegressionRun.objects.filter(golden_query=golden, status=WorkStatus.PENDING).exists()
        raise RuntimeError("the caller's transaction fails after the publish")
    new_version.refresh_from_db()
    assert new_version.status == AssetVersion.Status.DRAFT and not RegressionRun.objects.exists()


def test_broker_down_at_publish_then_a_real_worker_completes_the_golden_run(golden, new_version, redis_url,
                                                                          refused_broker_url):
    """Redis + PostgreSQL: the run the publish stored reaches a real worker through the reaper."""
    from celery.contrib.testing.worker import start_worker

    with celery_publishing_to(refused_broker_url):
        asset_version_publish(version=new_version)
    run = RegressionRun.objects.get(golden_query=golden)
    assert run.status == WorkStatus.PENDING and run.enqueued_at is None
    with celery_publishing_to(redis_url) as app:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            started = time.monotonic()
            result = work_reap(now=_next_reaper_run())
            while time.monotonic() - started < 60:
                run.refresh_from_db()
                if run.status in {WorkStatus.COMPLETED, WorkStatus.FAILED}:
                    break
                time.sleep(0.1)
            elapsed = time.monotonic() - started
    print(f"\n[measured] publish with the broker down, broker back: reaper run to completed golden run "
          f"in a real worker: {elapsed:.2f} s")
    assert result["runs_sent"] == 1
    assert run.status == WorkStatus.COMPLETED and run.attempts == 1 and run.analysis.verdict != "PASS"
