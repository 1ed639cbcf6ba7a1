"""Two deciders of the same trace at once cannot both pass the replan limit (PostgreSQL)."""

import threading

import pytest
from django.db import connection, connections

from controlloop.contracts import ReplanTrigger
from controlloop.models import ReplanEvent, ReplanLedger
from controlloop.services import ensure_default_policy, replan_decide

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_concurrent_decisions_respect_the_replan_limit(monkeypatch):
    import time

    from controlloop import services

    real_decide = services.decide

    def slow_decide(data):
        # Widen the window between reading the trace's replans and recording the
        # decision: without the ledger lock every thread would read "0 used".
        time.sleep(0.3)
        return real_decide(data)

    monkeypatch.setattr(services, "decide", slow_decide)
    policy = ensure_default_policy()
    policy.max_replans = 1
    policy.save()
    # The ledger row exists already (as after a first decision), so only the row lock can serialise.
    ReplanLedger.objects.create(trace_id="race-1")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def decide():
        try:
            barrier.wait(timeout=10)
            record = replan_decide(trace_id="race-1", tenant_id="default",
                                   trigger=ReplanTrigger(trigger_type="error", stage_name="execute", severity="high"))
            results.append(record.decision)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(d.approved for d in results) == [False, False, False, True]
    assert sorted(d.veto for d in results) == ["", "no_replans_left", "no_replans_left", "no_replans_left"]
    assert ReplanEvent.objects.filter(trace_id="race-1", kind="decision", approved=True).count() == 1
