"""A worker killed (SIGKILL) mid-work: its claim goes stale, the reaper requeues it within a minute, never stuck.

Real worker processes on Redis and PostgreSQL (the worker reads the test
database through its own connection). ``worker_main.py`` makes the killed
worker's analyses slow, so the kill lands mid-analysis. Two cases: the whole
worker process dies (``--pool solo``: OOM killer, lost node) and a prefork
pool child dies under a surviving parent. Run with ``-s`` for the measured
times (docs/reliability.md quotes them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun
from regression.services import analysis_request, golden_query_run, golden_query_set_baseline, work_reap
from tests.reliability.conftest import celery_publishing_to, database_url, trace_pair

pytestmark = pytest.mark.django_db(transaction=True)
WORKER_MAIN = Path(__file__).with_name("worker_main.py")
REPO = Path(__file__).resolve().parents[2]


class Workers:
    def __init__(self, broker_url: str, tmp_path: Path) -> None:
        self.broker_url, self.tmp_path = broker_url, tmp_path
        self.pid_file = tmp_path / "analysis.pid"
        self.started: list[subprocess.Popen] = []

    def start(self, *, pool: str, slow_s: float = 0, **settings_env: str) -> subprocess.Popen:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsproject.settings", "DATABASE_URL": database_url(),
               "CELERY_BROKER_URL": self.broker_url, "CELERY_TASK_ALWAYS_EAGER": "false",
               "OPS_CELERY_LOG_LEVEL": "INFO", "OPS_TEST_SLOW_ANALYSIS_S": str(slow_s),
               "OPS_TEST_PID_FILE": str(self.pid_file), **settings_env}
        log = (self.tmp_path / f"worker-{len(self.started)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, str(WORKER_MAIN), "--pool", pool, "--concurrency", "1",
             "--hostname", f"reliab-{uuid.uuid4().hex[:8]}@%h"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process

    def wait_ready(self, process: subprocess.Popen) -> None:
        log = self.tmp_path / f"worker-{self.started.index(process)}.log"
        _wait(lambda: " ready." in log.read_text(), 30, "the worker to start", self)

    def stop(self, process: subprocess.Popen) -> None:
        """Kill the worker and its pool children (its own process group) and reap them."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        try:  # pool children left behind by a killed parent are in the same group
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.tmp_path.glob("worker-*.log")))


@pytest.fixture
def workers(redis_url, tmp_path):
    import redis

    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()  # this test's own Redis database: no messages left over from an earlier run
    pool = Workers(redis_url, tmp_path)
    yield pool
    for process in pool.started:
        pool.stop(process)
    broker.flushdb()
    broker.close()


def _wait(condition, timeout_s: float, what: str, workers: Workers) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; worker logs:\n{workers.logs()}")


def _status(analysis: RegressionAnalysis) -> str:
    analysis.refresh_from_db()
    return analysis.status


def _stale_clock():
    """The reaper's clock once a claim's last heartbeat is older than the stale window."""
    return timezone.now() + timedelta(seconds=settings.OPS_CLAIM_STALE_AFTER_S + 1)


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_worker_killed_mid_analysis_is_requeued_within_a_minute_and_completes_on_another_worker(pool, workers):
    """Real clock, real heartbeat and stale window, the reaper called at its beat interval."""
    base, cand = trace_pair(f"wk-{pool}")
    doomed = workers.start(pool=pool, slow_s=120)
    with celery_publishing_to(workers.broker_url):
        analysis = analysis_request(baseline_trace_ids=[base], candidate_trace_ids=[cand])
    _wait(lambda: _status(analysis) == "running" and workers.pid_file.exists(), 60, "the analysis to start", workers)

    os.kill(int(workers.pid_file.read_text()), signal.SIGKILL)
    killed = time.monotonic()
    if pool == "solo":
        doomed.wait(timeout=10)  # the worker itself is gone
    time.sleep(2)
    analysis.refresh_from_db()
    # Nothing else would ever finish it: the claim is taken and the worker is dead.
    assert analysis.status == "running" and analysis.attempts == 1
    workers.stop(doomed)
    workers.wait_ready(workers.start(pool=pool))

    with celery_publishing_to(workers.broker_url):
        while True:  # the beat job, every OPS_REAPER_INTERVAL_S
            result = work_reap()
            if result["analyses_requeued"]:
                break
            assert time.monotonic() - killed < 90, "not requeued 90 s after the kill"
            time.sleep(settings.OPS_REAPER_INTERVAL_S)
    requeued = time.monotonic() - killed
    elapsed = _wait(lambda: _status(analysis) in {"completed", "failed"}, 60, "the re-run", workers)
    print(f"\n[measured] worker killed ({pool}): SIGKILL to requeue {requeued:.1f} s, "
          f"to completed {requeued + elapsed:.1f} s (reaper every {settings.OPS_REAPER_INTERVAL_S} s, "
          f"stale after {settings.OPS_CLAIM_STALE_AFTER_S} s)")
    assert result["analyses_requeued"] == 1 and result["analyses_failed"] == 0 and result["analyses_sent"] == 1
    assert requeued <= 60
    assert analysis.status == "completed" and analysis.verdict == "FAIL" and analysis.attempts == 2, workers.logs()


def test_a_live_worker_keeps_its_claim_past_the_stale_window(settings, workers):
    """The heartbeat, not the time since the claim, decides: a slow analysis on a live worker is never taken over."""
    base, cand = trace_pair("wk-live")
    settings.OPS_CLAIM_STALE_AFTER_S = 3
    workers.start(pool="solo", slow_s=8, OPS_HEARTBEAT_INTERVAL_S="1", OPS_CLAIM_STALE_AFTER_S="3")
    with celery_publishing_to(workers.broker_url):
        analysis = analysis_request(baseline_trace_ids=[base], candidate_trace_ids=[cand])
        _wait(lambda: _status(analysis) == "running", 60, "the analysis to start", workers)
        reaper_runs = 0
        while _status(analysis) == "running":
            assert work_reap()["analyses_requeued"] == 0
            reaper_runs += 1
            time.sleep(0.5)
    analysis.refresh_from_db()
    assert reaper_runs >= 10 and analysis.status == "completed" and analysis.attempts == 1, workers.logs()
    # The worker refreshed the heartbeat while it slept in the analysis, well past the stale window.
    assert (analysis.heartbeat_at - analysis.started_at).total_seconds() >= 5


def test_an_analysis_whose_workers_keep_dying_ends_failed_not_stuck(settings, workers):
    """After OPS_ANALYSIS_MAX_ATTEMPTS lost workers the reaper fails it, with a message saying why."""
    base, cand = trace_pair("wk-max")
    settings.OPS_ANALYSIS_MAX_ATTEMPTS = 2
    with celery_publishing_to(workers.broker_url):
        analysis = analysis_request(baseline_trace_ids=[base], candidate_trace_ids=[cand])
        for attempt in (1, 2):
            doomed = workers.start(pool="solo", slow_s=120)
            _wait(lambda: _status(analysis) == "running" and workers.pid_file.exists(), 60,
                  f"attempt {attempt} to start", workers)
            os.kill(int(workers.pid_file.read_text()), signal.SIGKILL)
            workers.stop(doomed)
            workers.pid_file.unlink()
            result = work_reap(now=_stale_clock())
            assert result == {**result, "analyses_requeued": 1 if attempt == 1 else 0,
                              "analyses_failed": 0 if attempt == 1 else 1}
    analysis.refresh_from_db()
    assert analysis.status == "failed" and analysis.attempts == 2 and "worker lost" in analysis.error_message


@pytest.mark.usefixtures("reference_assets")
def test_a_worker_killed_mid_golden_run_is_requeued_and_the_retry_reuses_its_candidate_trace(workers):
    """The same claim lifecycle for golden-query runs; the run's own analysis is recovered with the run."""
    from inspector.contracts import ExecutionContext
    from inspector.models import Trace
    from inspector.pipeline.runner import pipeline_run

    question = "Events on checkout-api last 30 days"
    query = GoldenQuery.objects.create(name="wk-golden", question=question)
    golden_query_set_baseline(golden_query=query, trace_id=pipeline_run(context=ExecutionContext(
        question=question)).trace_id)
    doomed = workers.start(pool="solo", slow_s=120)
    with celery_publishing_to(workers.broker_url):
        run = golden_query_run(golden_query=query)
    # The slow part is the run's analysis: the candidate trace is stored by then.
    _wait(lambda: workers.pid_file.exists(), 60, "the run's analysis to start", workers)
    run.refresh_from_db()
    candidate, analysis = run.candidate_trace_id, run.analysis
    assert run.status == "running" and candidate and analysis.status == "running"

    os.kill(int(workers.pid_file.read_text()), signal.SIGKILL)
    workers.stop(doomed)
    with celery_publishing_to(workers.broker_url):
        result = work_reap(now=_stale_clock())
    # The run goes back to pending; its analysis is left to the run, not sent on its own.
    assert result["runs_requeued"] == 1 and result["runs_sent"] == 1
    assert result["analyses_requeued"] == 0 and result["analyses_sent"] == 0
    workers.wait_ready(workers.start(pool="solo"))
    _wait(lambda: RegressionRun.objects.get(pk=run.pk).status in {"completed", "failed"}, 60, "the re-run", workers)

    run.refresh_from_db()
    analysis.refresh_from_db()
    assert run.status == "completed" and run.attempts == 2, workers.logs()
    assert run.candidate_trace_id == candidate and run.analysis_id == analysis.pk
    assert analysis.status == "completed" and analysis.attempts == 2
    assert Trace.objects.filter(question=question).count() == 2  # the baseline and one candidate, not two
