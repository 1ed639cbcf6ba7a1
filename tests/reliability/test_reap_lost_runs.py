"""Golden-query runs and override tests whose worker died are reaped to ``failed``, never stuck ``running``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from inspector.services import trace_ingest
from regression.models import Baseline, GoldenQuery, OverrideTest, RegressionRun, WorkStatus
from regression.services import analyses_reap
from tests.factories import trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(db):
    """One run and one override test claimed long ago by a worker that then died."""
    trace, _ = trace_ingest(payload=trace_body(trace_id="lost-base"))
    golden = GoldenQuery.objects.create(name="lost", question=trace.question)
    baseline = Baseline.objects.create(golden_query=golden, trace=trace)
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
    run = RegressionRun.objects.create(golden_query=golden, baseline=baseline, status=WorkStatus.RUNNING,
                                       started_at=long_ago)
    test = OverrideTest.objects.create(trace=trace, baseline_trace=trace, overrides={"query": "x@1"},
                                       status=WorkStatus.RUNNING, started_at=long_ago)
    return run, test


def test_lost_runs_and_tests_end_failed_with_a_reason(claimed):
    run, test = claimed
    result = analyses_reap()
    assert result["runs_failed"] == 1 and result["override_tests_failed"] == 1
    for obj in (run, test):
        obj.refresh_from_db()
        assert obj.status == WorkStatus.FAILED and "worker lost" in obj.error_message and obj.finished_at


def test_work_still_within_its_time_limit_is_left_alone(claimed):
    run, test = claimed
    RegressionRun.objects.filter(pk=run.pk).update(started_at=timezone.now())
    OverrideTest.objects.filter(pk=test.pk).update(started_at=timezone.now())
    assert analyses_reap()["runs_failed"] == 0
    run.refresh_from_db()
    assert run.status == WorkStatus.RUNNING


def test_a_claim_records_when_it_started(reference_assets):
    from regression.services import golden_query_run, regression_run_execute

    trace, _ = trace_ingest(payload=trace_body(trace_id="claim-base", question="What is checkout-api?"))
    golden = GoldenQuery.objects.create(name="claim", question=trace.question)
    Baseline.objects.create(golden_query=golden, trace=trace)
    run = golden_query_run(golden_query=golden, enqueue=False)
    regression_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.started_at is not None and run.status == WorkStatus.COMPLETED
