"""Broker down when an analysis is requested: 202 at once, the analysis stays pending (unsent), the reaper sends it.

"Down" is simulated two ways, without touching the shared Redis: a port that
refuses connections (Redis stopped) and a server that accepts connections and
never answers (a hung broker, a half-open connection). Run with ``-s`` to see
the measured request times (docs/reliability.md quotes them).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from regression.models import RegressionAnalysis
from regression.services import work_reap
from regression.services.work import UNSENT_GRACE
from testkit.factories import UserFactory
from testkit.plugin import client_for
from tests.reliability.conftest import celery_publishing_to, trace_pair

pytestmark = pytest.mark.django_db(transaction=True)


def _request_analysis(broker_url: str, prefix: str) -> tuple[RegressionAnalysis, float, int]:
    base, cand = trace_pair(prefix)
    client = client_for(UserFactory(is_superuser=True, is_staff=True))
    with celery_publishing_to(broker_url):
        started = time.monotonic()
        response = client.post("/inspector/regression/analyze",
                               {"baseline_trace_id": base, "candidate_trace_id": cand}, format="json")
        elapsed = time.monotonic() - started
    assert response.json()["status"] == "pending", response.json()
    return RegressionAnalysis.objects.get(pk=response.json()["analysis_id"]), elapsed, response.status_code


@pytest.mark.parametrize("broker", ["refused", "hung"])
def test_analysis_requested_while_the_broker_is_down_is_accepted_quickly_and_stays_pending(broker, request, caplog):
    url = request.getfixturevalue(f"{broker}_broker_url")
    analysis, elapsed, status = _request_analysis(url, f"bd-{broker}")
    print(f"\n[measured] analyze request with the broker {broker}: {elapsed:.2f} s → {status}")
    assert status == 202
    # Bounded by the publish timeouts (2 attempts × OPS_BROKER_TIMEOUT_MS), not kombu's default of waiting for ever.
    assert elapsed < 4 * settings.OPS_BROKER_TIMEOUT_S + 2
    assert analysis.status == "pending" and analysis.attempts == 0 and analysis.enqueued_at is None
    assert "could not enqueue regression.tasks.run_analysis" in caplog.text


def test_the_reaper_sends_an_analysis_the_broker_never_took_on_its_next_run(refused_broker_url):
    analysis, _, _ = _request_analysis(refused_broker_url, "bd-later")
    # A row this fresh may still have its own send under way: left alone...
    assert work_reap()["analyses_sent"] == 0
    # ...but the next beat tick sends it. Broker back (here: in-process execution).
    result = work_reap(now=timezone.now() + UNSENT_GRACE + timedelta(seconds=1))
    analysis.refresh_from_db()
    assert result["analyses_sent"] == 1 and result["not_sent"] == 0
    assert analysis.status == "completed" and analysis.verdict == "FAIL" and analysis.attempts == 1
    assert analysis.enqueued_at is not None


def test_work_whose_message_went_out_is_sent_again_only_after_the_requeue_delay(monkeypatch):
    """The broker took the message (it may sit in a backlog): one resend per OPS_PENDING_REQUEUE_AFTER_S, expiring."""
    from regression.tasks import run_analysis

    base, cand = trace_pair("bd-sent")
    sent_at = timezone.now()
    analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[base], candidate_trace_ids=[cand],
                                                 enqueued_at=sent_at)
    calls = []
    monkeypatch.setattr(run_analysis, "apply_async", lambda args, **options: calls.append((args, options)))

    assert work_reap(now=sent_at + timedelta(seconds=settings.OPS_PENDING_REQUEUE_AFTER_S - 1))["analyses_sent"] == 0
    later = sent_at + timedelta(seconds=settings.OPS_PENDING_REQUEUE_AFTER_S + 1)
    assert work_reap(now=later)["analyses_sent"] == 1
    assert calls == [((str(analysis.pk),), {"expires": settings.OPS_PENDING_REQUEUE_AFTER_S})]
    analysis.refresh_from_db()
    assert analysis.enqueued_at > sent_at  # the clock of the next resend restarts


def test_a_reaper_run_while_the_broker_is_still_down_gives_up_fast_and_loses_nothing(hung_broker_url):
    base, cand = trace_pair("bd-still")
    pending = [RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[base], candidate_trace_ids=[cand])
               for _ in range(5)]
    later = timezone.now() + UNSENT_GRACE + timedelta(seconds=1)
    with celery_publishing_to(hung_broker_url):
        started = time.monotonic()
        result = work_reap(now=later)
        elapsed = time.monotonic() - started
    print(f"\n[measured] reaper run with a hung broker and 5 pending analyses: {elapsed:.2f} s")
    assert result["analyses_sent"] == 0 and result["not_sent"] == 5
    assert elapsed < 4 * settings.OPS_BROKER_TIMEOUT_S + 2  # stopped at the first failure
    assert all(RegressionAnalysis.objects.get(pk=a.pk).status == "pending" for a in pending)


def test_the_reaper_runs_often_enough_to_pick_pending_work_up():
    entry = settings.CELERY_BEAT_SCHEDULE["reap-stuck-analyses"]
    assert entry["task"] == "regression.tasks.reap_stuck_analyses"
    assert entry["schedule"] <= settings.OPS_PENDING_REQUEUE_AFTER_S
    assert entry["options"]["expires"] < entry["schedule"]
    # A lost worker's claim is taken back within a minute: stale window + one reaper interval.
    assert settings.OPS_CLAIM_STALE_AFTER_S + entry["schedule"] <= 60
    assert settings.OPS_CLAIM_STALE_AFTER_S >= 2 * settings.OPS_HEARTBEAT_INTERVAL_S


def test_broker_outage_end_to_end_with_redis_and_a_real_worker(redis_url, refused_broker_url):
    """Requested while the broker is down; once it is back, the reaper's message reaches a real worker."""
    from celery.contrib.testing.worker import start_worker

    analysis, _, _ = _request_analysis(refused_broker_url, "bd-e2e")
    assert analysis.status == "pending"
    with celery_publishing_to(redis_url) as app:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            started = time.monotonic()
            result = work_reap(now=timezone.now() + UNSENT_GRACE + timedelta(seconds=1))
            while time.monotonic() - started < 30:
                analysis.refresh_from_db()
                if analysis.status in {"completed", "failed"}:
                    break
                time.sleep(0.1)
            elapsed = time.monotonic() - started
    print(f"\n[measured] broker back: reaper run to completed analysis in a real worker: {elapsed:.2f} s")
    assert result["analyses_sent"] == 1
    assert analysis.status == "completed" and analysis.verdict == "FAIL" and analysis.attempts == 1


@pytest.mark.usefixtures("reference_assets")
def test_golden_runs_and_override_tests_the_broker_never_took_are_sent_by_the_reaper(refused_broker_url):
    from inspector.contracts import ExecutionContext
    from inspector.pipeline.runner import pipeline_run
    from regression.models import GoldenQuery
    from regression.services import golden_query_run, golden_query_set_baseline
    from regression.services.override_tests import override_test_start

    question = "Events on checkout-api last 30 days"
    query = GoldenQuery.objects.create(name="bd-golden", question=question)
    trace = pipeline_run(context=ExecutionContext(question=question))
    golden_query_set_baseline(golden_query=query, trace_id=trace.trace_id)
    with celery_publishing_to(refused_broker_url):
        run = golden_query_run(golden_query=query)
        test = override_test_start(trace=trace, overrides={"prompt": "route_rules@1"}, reason="broker down")
    run.refresh_from_db()
    test.refresh_from_db()
    assert run.status == "pending" and test.status == "pending"

    result = work_reap(now=timezone.now() + UNSENT_GRACE + timedelta(seconds=1))

    run.refresh_from_db()
    test.refresh_from_db()
    assert result["runs_sent"] == 1 and result["override_tests_sent"] == 1
    assert run.status == "completed" and test.status == "completed"
