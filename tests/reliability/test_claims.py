"""The shared claim: one worker at a time, fenced by its attempt, kept alive by heartbeats, retried without new traces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.runner import pipeline_run
from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun, WorkStatus
from regression.services import golden_query_run, golden_query_set_baseline, regression_run_execute, work_reap
from regression.services.work import _heartbeats, work_claim
from tests.reliability.conftest import celery_publishing_to

pytestmark = pytest.mark.django_db
QUESTION = "Events on checkout-api last 30 days"


@pytest.fixture
def analysis(db) -> RegressionAnalysis:
    return RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=["a"], candidate_trace_ids=["b"])


def test_a_row_is_claimed_once(analysis):
    first = work_claim(model=RegressionAnalysis, pk=analysis.pk)
    assert first is not None and first.attempt == 1
    assert work_claim(model=RegressionAnalysis, pk=analysis.pk) is None
    analysis.refresh_from_db()
    assert analysis.status == WorkStatus.RUNNING and analysis.heartbeat_at == analysis.started_at


def test_a_claim_the_reaper_took_back_cannot_overwrite_the_next_attempt(analysis, refused_broker_url):
    lost = work_claim(model=RegressionAnalysis, pk=analysis.pk)
    RegressionAnalysis.objects.filter(pk=analysis.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with celery_publishing_to(refused_broker_url):  # requeued, left unsent
        assert work_reap()["analyses_requeued"] == 1
    current = work_claim(model=RegressionAnalysis, pk=analysis.pk)

    # The first worker was only slow, not dead: its late writes change nothing.
    assert not lost.complete(verdict="PASS") and not lost.fail("late")
    assert current.attempt == 2 and current.complete(verdict="FAIL")
    analysis.refresh_from_db()
    assert analysis.status == WorkStatus.COMPLETED and analysis.verdict == "FAIL"


def test_a_beat_refreshes_only_claims_held_now(analysis):
    claim = work_claim(model=RegressionAnalysis, pk=analysis.pk)
    long_ago = timezone.now() - timedelta(minutes=5)
    RegressionAnalysis.objects.filter(pk=analysis.pk).update(heartbeat_at=long_ago)
    with claim.alive():
        assert _heartbeats.beat_once() == 1
    analysis.refresh_from_db()
    assert analysis.heartbeat_at > long_ago
    assert _heartbeats.beat_once() == 0  # released: nothing to refresh


@pytest.mark.usefixtures("reference_assets")
def test_a_run_retried_after_a_lost_worker_analyses_the_candidate_it_already_stored():
    query = GoldenQuery.objects.create(name="retry", question=QUESTION)
    golden_query_set_baseline(golden_query=query, trace_id=pipeline_run(context=ExecutionContext(
        question=QUESTION)).trace_id)
    run = golden_query_run(golden_query=query, enqueue=False)
    regression_run_execute(run_id=run.pk)
    run.refresh_from_db()
    candidate, traces = run.candidate_trace_id, Trace.objects.count()
    # As a worker killed mid-analysis leaves it, after the reaper put the run back to pending.
    RegressionRun.objects.filter(pk=run.pk).update(status=WorkStatus.PENDING, finished_at=None)
    RegressionAnalysis.objects.filter(pk=run.analysis_id).update(status=WorkStatus.RUNNING, verdict="", score=None)

    retried = regression_run_execute(run_id=run.pk)

    assert retried.status == WorkStatus.COMPLETED and retried.attempts == 2
    assert retried.candidate_trace_id == candidate and Trace.objects.count() == traces
    assert retried.analysis.status == WorkStatus.COMPLETED and retried.analysis.verdict == "PASS"
    assert retried.analysis.attempts == 2
