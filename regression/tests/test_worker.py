"""End to end through a real Celery worker and the Redis broker (runs where CELERY_BROKER_URL is Redis, as in CI)."""

import copy
import time

import pytest
from django.conf import settings

from inspector.services import trace_ingest
from regression.models import RegressionAnalysis
from testkit.factories import trace_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis://"),
                       reason="needs the Redis broker (set CELERY_BROKER_URL=redis://127.0.0.1:6379/0)"),
]


@pytest.fixture
def real_worker():
    from celery.contrib.testing.worker import start_worker

    from opsproject.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app
    finally:
        app.conf.task_always_eager = True


def test_analysis_runs_in_a_real_worker_and_completes(real_worker, viewer):
    from testkit.plugin import client_for, grant

    base = trace_body(trace_id="w-base")
    trace_ingest(payload=base)
    cand = copy.deepcopy(base)
    cand["trace_id"] = "w-cand"
    cand["stages"][2]["output"]["diagnostics"]["status"] = "error"
    trace_ingest(payload=cand)
    client = client_for(grant(viewer, "regression.add_regressionanalysis", "regression.view_regressionanalysis"))

    response = client.post("/inspector/regression/analyze", {"baseline_trace_id": "w-base",
                                                            "candidate_trace_id": "w-cand"}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    deadline = time.monotonic() + 30
    status = "pending"
    while time.monotonic() < deadline and status not in {"completed", "failed"}:
        time.sleep(0.2)
        status = client.get(response.json()["url"]).json()["status"]
    analysis = RegressionAnalysis.objects.get(pk=response.json()["analysis_id"])
    assert analysis.status == "completed" and analysis.verdict == "FAIL" and analysis.attempts == 1
