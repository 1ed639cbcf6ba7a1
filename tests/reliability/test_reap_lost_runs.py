"""Golden-query runs and override tests share the analyses' claim lifecycle: a stale claim is requeued, then failed.

The broker refuses here, so requeued work stays pending (unsent) instead of
running in-process; tests/reliability/test_worker_killed.py runs the retry on
real workers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from inspector.services import trace_ingest
from regression.models import Baseline, GoldenQuery, OverrideTest, RegressionAnalysis, RegressionRun, WorkStatus
from regression.services import work_reap
from testkit.factories import trace_body
from tests.reliability.conftest import celery_publishing_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(db):
    """One run and one override test, each with its analysis, claimed by a worker whose heartbeat stopped."""
    trace, _ = trace_ingest(payload=trace_body(trace_id="lost-base"))
    golden = GoldenQuery.objects.create(name="lost", question=trace.question)
    baseline = Baseline.objects.create(golden_query=golden, trace=trace)
    silent = timezone.now() - timedelta(seconds=settings.OPS_CLAIM_STALE_AFTER_S + 5)
    claim = {"status": WorkStatus.RUNNING, "started_at": silent, "heartbeat_at": silent, "attempts": 1}
    run = RegressionRun.objects.create(
        golden_query=golden, baseline=baseline, **claim,
        analysis=RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=["lost-base"],
                                                   candidate_trace_ids=["lost-base"], **claim))
    test = OverrideTest.objects.create(
        trace=trace, baseline_trace=trace, overrides={"query": "x@1"}, **claim,
        analysis=RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=["lost-base"],
                                                   candidate_trace_ids=["lost-base"], **claim))
    return run, test


def _reap(refused_broker_url: str) -> dict[str, int]:
    with celery_publishing_to(refused_broker_url):
        return work_reap()


def test_stale_runs_and_tests_go_back_to_pending_and_their_analyses_wait_for_them(claimed, refused_broker_url):
    run, test = claimed
    result = _reap(refused_broker_url)
    assert result["runs_requeued"] == 1 and result["override_tests_requeued"] == 1
    # Their analyses are theirs: the run's next attempt takes its analysis back, the reaper does not send it.
    assert result["analyses_requeued"] == 0 and result["not_sent"] == 2
    for obj in (run, test):
        obj.refresh_from_db()
        assert obj.status == WorkStatus.PENDING and obj.attempts == 1
        assert obj.enqueued_at is None and obj.heartbeat_at is None and obj.started_at is None
        assert obj.analysis.status == WorkStatus.RUNNING


def test_the_last_attempt_ends_failed_with_its_analysis(claimed, refused_broker_url):
    run, test = claimed
    RegressionRun.objects.update(attempts=settings.OPS_ANALYSIS_MAX_ATTEMPTS)
    OverrideTest.objects.update(attempts=settings.OPS_ANALYSIS_MAX_ATTEMPTS)
    result = _reap(refused_broker_url)
    assert result["runs_failed"] == 1 and result["override_tests_failed"] == 1
    for obj in (run, test):
        obj.refresh_from_db()
        assert obj.status == WorkStatus.FAILED and "worker lost" in obj.error_message and obj.finished_at
        assert obj.analysis.status == WorkStatus.FAILED and "worker lost" in obj.analysis.error_message


def test_a_fresh_heartbeat_keeps_the_claim_however_long_it_has_run(claimed, refused_broker_url):
    run, _test = claimed
    RegressionRun.objects.update(started_at=timezone.now() - timedelta(hours=1), heartbeat_at=timezone.now())
    OverrideTest.objects.update(heartbeat_at=timezone.now())
    RegressionAnalysis.objects.update(heartbeat_at=timezone.now())
    result = _reap(refused_broker_url)
    assert result["runs_requeued"] == result["override_tests_requeued"] == result["analyses_requeued"] == 0
    run.refresh_from_db()
    assert run.status == WorkStatus.RUNNING


def test_claims_from_before_heartbeats_keep_the_time_limit_rule(claimed, refused_broker_url):
    """Rows claimed by an older worker (no heartbeat) are taken back only past the hard time limit + 60 s."""
    _run, _ = claimed
    RegressionRun.objects.update(heartbeat_at=None, started_at=timezone.now() - timedelta(seconds=60))
    assert _reap(refused_broker_url)["runs_requeued"] == 0
    RegressionRun.objects.update(
        started_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))
    assert _reap(refused_broker_url)["runs_requeued"] == 1


def test_a_claim_records_when_it_started_and_beats(reference_assets):
    from regression.services import golden_query_run, regression_run_execute

    trace, _ = trace_ingest(payload=trace_body(trace_id="claim-base", question="What is checkout-api?"))
    golden = GoldenQuery.objects.create(name="claim", question=trace.question)
    Baseline.objects.create(golden_query=golden, trace=trace)
    run = golden_query_run(golden_query=golden, enqueue=False)
    regression_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == WorkStatus.COMPLETED and run.attempts == 1
    assert run.started_at is not None and run.heartbeat_at >= run.started_at
