"""A worker killed (SIGKILL) mid-analysis: the analysis is reaped, re-run by a new worker, never stuck.

Real worker processes on Redis and PostgreSQL (the worker reads the test
database through its own connection). ``worker_main.py`` makes the killed
worker's analyses slow, so the kill lands mid-analysis. Two cases: the whole
worker process dies (``--pool solo``: OOM killer, lost node) and a prefork
pool child dies under a surviving parent.
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

from inspector.services import trace_ingest
from regression.models import RegressionAnalysis
from regression.services import analyses_reap, analysis_request
from tests.factories import trace_body
from tests.reliability.conftest import celery_publishing_to, database_url

pytestmark = pytest.mark.django_db(transaction=True)
WORKER_MAIN = Path(__file__).with_name("worker_main.py")
REPO = Path(__file__).resolve().parents[2]


class Workers:
    def __init__(self, broker_url: str, tmp_path: Path) -> None:
        self.broker_url, self.tmp_path = broker_url, tmp_path
        self.pid_file = tmp_path / "analysis.pid"
        self.started: list[subprocess.Popen] = []

    def start(self, *, pool: str, slow_s: float = 0) -> subprocess.Popen:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsproject.settings", "DATABASE_URL": database_url(),
               "CELERY_BROKER_URL": self.broker_url, "CELERY_TASK_ALWAYS_EAGER": "false",
               "OPS_CELERY_LOG_LEVEL": "INFO", "OPS_TEST_SLOW_ANALYSIS_S": str(slow_s),
               "OPS_TEST_PID_FILE": str(self.pid_file)}
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


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_worker_killed_mid_analysis_is_reaped_and_the_analysis_completes_on_a_new_worker(pool, workers):
    trace_ingest(payload=trace_body(trace_id=f"wk-{pool}-base"))
    candidate = trace_body(trace_id=f"wk-{pool}-cand")
    candidate["stages"][2]["output"]["diagnostics"]["status"] = "error"
    trace_ingest(payload=candidate)

    doomed = workers.start(pool=pool, slow_s=120)
    with celery_publishing_to(workers.broker_url):
        analysis = analysis_request(baseline_trace_ids=[f"wk-{pool}-base"], candidate_trace_ids=[f"wk-{pool}-cand"])
    _wait(lambda: _status(analysis) == "running" and workers.pid_file.exists(), 60, "the analysis to start", workers)

    os.kill(int(workers.pid_file.read_text()), signal.SIGKILL)
    if pool == "solo":
        doomed.wait(timeout=10)  # the worker itself is gone
    time.sleep(2)
    analysis.refresh_from_db()
    # Nothing else would ever finish it: the claim is taken and the worker is dead.
    assert analysis.status == "running" and analysis.attempts == 1
    workers.stop(doomed)

    workers.wait_ready(workers.start(pool=pool))
    with celery_publishing_to(workers.broker_url):
        # The beat job, once the analysis has been running past the hard time limit (+60 s).
        result = analyses_reap(now=timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))
    assert result["requeued"] == 1 and result["failed"] == 0
    elapsed = _wait(lambda: _status(analysis) in {"completed", "failed"}, 60, "the re-run", workers)
    print(f"\n[measured] worker killed ({pool}): reaper run to completed analysis on a running worker: "
          f"{elapsed:.2f} s")
    assert analysis.status == "completed" and analysis.verdict == "FAIL" and analysis.attempts == 2, workers.logs()


def test_an_analysis_whose_workers_keep_dying_ends_failed_not_stuck(settings, workers):
    """After OPS_ANALYSIS_MAX_ATTEMPTS lost workers the reaper fails it, with a message saying why."""
    trace_ingest(payload=trace_body(trace_id="wk-max-base"))
    trace_ingest(payload=trace_body(trace_id="wk-max-cand", question="Another question?"))
    settings.OPS_ANALYSIS_MAX_ATTEMPTS = 2
    with celery_publishing_to(workers.broker_url):
        analysis = analysis_request(baseline_trace_ids=["wk-max-base"], candidate_trace_ids=["wk-max-cand"])
        for attempt in (1, 2):
            doomed = workers.start(pool="solo", slow_s=120)
            _wait(lambda: _status(analysis) == "running" and workers.pid_file.exists(), 60,
                  f"attempt {attempt} to start", workers)
            os.kill(int(workers.pid_file.read_text()), signal.SIGKILL)
            workers.stop(doomed)
            workers.pid_file.unlink()
            result = analyses_reap(now=timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))
            assert result == {**result, "requeued": 1 if attempt == 1 else 0, "failed": 0 if attempt == 1 else 1}
    analysis.refresh_from_db()
    assert analysis.status == "failed" and analysis.attempts == 2 and "worker lost" in analysis.error_message
