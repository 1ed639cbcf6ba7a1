"""The one lifecycle of asynchronous work: analyses, golden-query runs, override tests and suite runs.

    pending ──claim──▶ running ──▶ completed | failed
       ▲                  │ heartbeat stale (worker killed, node lost)
       └───── reaper ─────┘ (or failed after OPS_ANALYSIS_MAX_ATTEMPTS claims)

* **Outbox.** A caller stores its row ``pending`` in its own transaction and
  calls ``work_send_on_commit``: the task message goes out after commit and
  ``enqueued_at`` records that the broker took it. The row, not the message,
  is the record of the work: if the broker is down the row stays pending with
  ``enqueued_at`` empty and the reaper sends it on a later run.
* **Claim.** ``work_claim`` is a conditional UPDATE pending → running that
  adds one to ``attempts``; that number is the claim's token. The claimant's
  later writes (``Claim.complete``, ``Claim.fail``) match the token, so a
  worker the reaper gave up on cannot overwrite the next attempt.
* **Heartbeat.** While a claim is held (``with claim.alive():``) one daemon
  thread per process refreshes ``heartbeat_at`` every
  ``OPS_HEARTBEAT_INTERVAL_S``; a killed process stops beating.
* **Reaper.** ``work_reap`` (beat job ``reap-stuck-analyses``, every
  ``OPS_REAPER_INTERVAL_S``) puts running rows whose heartbeat is older than
  ``OPS_CLAIM_STALE_AFTER_S`` back to pending, or fails them after the last
  attempt, then sends pending rows never sent, or sent more than
  ``OPS_PENDING_REQUEUE_AFTER_S`` ago (a lost message). A duplicate message is
  harmless: the second delivery finds nothing to claim.

An analysis owned by a golden-query run, an override test or a suite run's item runs inline under
its owner's claim; the reaper leaves it to the owner (``analysis_owned_execute``).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from regression.models import ClaimedWork, OverrideTest, RegressionAnalysis, RegressionRun, SuiteRun, WorkStatus

logger = logging.getLogger(__name__)

# A fresh row's own after-commit send is under way (at most 2 attempts × the broker
# timeout): the reaper leaves never-sent rows this young alone, and so do not race
# in-process execution (regression_gate, the demo) that never sends.
UNSENT_GRACE = timedelta(seconds=10)
# Rows one reaper run sends a kind at most (a long outage leaves many; the next run continues).
SEND_BATCH = 1000


@dataclass(frozen=True)
class _Kind:
    label: str  # prefix of the reaper's result keys
    model: type[ClaimedWork]
    task_name: str
    owned_analysis: str = "analysis_id"  # the path from a row to the analyses it runs inline

    @property
    def task(self):
        from regression import tasks

        return getattr(tasks, self.task_name)

    def reapable(self) -> QuerySet:
        if self.model is RegressionAnalysis:
            # Owned analyses run inline under their owner's claim; the owner recovers them.
            return RegressionAnalysis.objects.filter(runs__isnull=True, override_tests__isnull=True,
                                                     suite_results__isnull=True)
        return self.model.objects.all()


KINDS = (
    _Kind("analyses", RegressionAnalysis, "run_analysis"),
    _Kind("runs", RegressionRun, "run_golden_query"),
    _Kind("override_tests", OverrideTest, "run_override_test"),
    _Kind("suite_runs", SuiteRun, "run_suite", owned_analysis="results__analysis_id"),
)
_BY_MODEL = {kind.model: kind for kind in KINDS}


# --- Outbox ------------------------------------------------------------------------------------

def work_send_on_commit(*, item: ClaimedWork) -> None:
    """Send ``item``'s task after the current transaction commits (at once outside one)."""
    kind, pk = _BY_MODEL[type(item)], item.pk
    transaction.on_commit(lambda: _send(kind, pk))


def _send(kind: _Kind, pk: Any, **options) -> bool:
    """Send the task for one row and mark it sent; False if the broker is unreachable.

    A broker that is down must neither lose the work nor fail the caller: the
    row stays pending, unsent, for the reaper. Publishing gives up quickly
    (settings: CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_TASK_PUBLISH_RETRY_POLICY).
    """
    task = kind.task
    arg = str(pk) if kind.model is RegressionAnalysis else pk
    try:
        task.apply_async((arg,), **options)
    except Exception:
        if task.app.conf.task_always_eager:
            # In-process execution: the task itself failed (and recorded it on its row).
            logger.exception("%s(%r) failed", task.name, arg)
            return True
        logger.exception("could not enqueue %s(%r); it stays pending for the reaper", task.name, arg)
        return False
    kind.model.objects.filter(pk=pk).update(enqueued_at=timezone.now())
    return True


# --- Claims and heartbeats ---------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """A worker's hold on one running row; ``attempt`` is its token."""

    model: type[ClaimedWork]
    pk: Any
    attempt: int

    def rows(self) -> QuerySet:
        """The row, only while this claim still holds it."""
        return self.model.objects.filter(pk=self.pk, status=WorkStatus.RUNNING, attempts=self.attempt)

    @contextmanager
    def alive(self) -> Iterator[Claim]:
        """Keep the heartbeat going while the body works on the row."""
        key = _heartbeats.hold(self)
        try:
            yield self
        finally:
            _heartbeats.release(key)

    def complete(self, **fields) -> bool:
        return bool(self.rows().update(status=WorkStatus.COMPLETED, finished_at=timezone.now(), error_message="",
                                       **fields))

    def fail(self, message: str) -> bool:
        return bool(self.rows().update(status=WorkStatus.FAILED, finished_at=timezone.now(),
                                       error_message=message[:2000]))


def work_claim(*, model: type[ClaimedWork], pk: Any) -> Claim | None:
    """Take a pending row (pending → running, one more attempt); None if another worker has it."""
    now = timezone.now()
    if not model.objects.filter(pk=pk, status=WorkStatus.PENDING).update(
            status=WorkStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1):
        return None
    return Claim(model, pk, model.objects.filter(pk=pk).values_list("attempts", flat=True).get())


class _Heartbeats:
    """The claims this process holds, and the one daemon thread that refreshes their heartbeat.

    The thread starts with the first claim in a process that sends tasks to a
    broker (in a prefork pool, in each child; also ``regression_gate`` running
    golden queries in-process next to workers) and writes only if a claim is
    held when it wakes, so work shorter than an interval rarely touches its
    database connection, which it closes after each beat.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, Claim] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None

    def hold(self, claim: Claim) -> int:
        from opsproject.celery import app

        with self._lock:
            # In-process tasks (no broker) have no worker to lose and no reaper to race.
            if self._thread is None and not app.conf.task_always_eager:
                self._thread = threading.Thread(target=self._beat, name="ops-work-heartbeat", daemon=True)
                self._thread.start()
            key = next(self._keys)
            self._held[key] = claim
        return key

    def release(self, key: int) -> None:
        with self._lock:
            self._held.pop(key, None)

    def _beat(self) -> None:
        while True:
            time.sleep(settings.OPS_HEARTBEAT_INTERVAL_S)
            try:
                self.beat_once()
            except Exception:
                logger.exception("could not refresh the heartbeat of the claims held")
            finally:
                connections.close_all()  # this thread's connections only

    def beat_once(self) -> int:
        """Refresh the heartbeat of every claim held now; returns how many rows still held were refreshed."""
        with self._lock:
            claims = list(self._held.values())
        now = timezone.now()
        return sum(claim.rows().update(heartbeat_at=now) for claim in claims)


_heartbeats = _Heartbeats()


# --- Reaper ------------------------------------------------------------------------------------

def _stale_claims(kind: _Kind, now: datetime) -> QuerySet:
    """Running rows whose worker is gone: no heartbeat for OPS_CLAIM_STALE_AFTER_S.

    Rows claimed before heartbeats existed (heartbeat_at empty) keep the old
    rule, past the hard time limit + 60 s, so an older worker still on one
    during a rolling deploy is not taken over.
    """
    legacy = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    return kind.reapable().filter(
        Q(heartbeat_at__lt=now - timedelta(seconds=settings.OPS_CLAIM_STALE_AFTER_S))
        | Q(heartbeat_at__isnull=True, started_at__lt=now - legacy),
        status=WorkStatus.RUNNING)


def work_reap(*, now: datetime | None = None) -> dict[str, int]:
    """Recover work a dead worker or an unreachable broker left behind (the beat job ``reap-stuck-analyses``).

    Returns, per kind (``analyses``, ``runs``, ``override_tests``, ``suite_runs``), how many
    stale claims went back to pending (``_requeued``) or ended failed
    (``_failed``) and how many pending rows were sent (``_sent``); ``not_sent``
    counts rows left for the next run because the broker refused (sending
    stops at the first failure, so a run with the broker down is quick).
    """
    now = now or timezone.now()
    result: dict[str, int] = {}
    for kind in KINDS:
        stale = _stale_claims(kind, now)
        last = stale.filter(attempts__gte=settings.OPS_ANALYSIS_MAX_ATTEMPTS)
        lost_ids = list(last.values_list("pk", flat=True))
        message = "worker lost: its heartbeat stopped during the last attempt"
        result[f"{kind.label}_failed"] = last.filter(pk__in=lost_ids).update(
            status=WorkStatus.FAILED, finished_at=now, error_message=message)
        if kind.model is not RegressionAnalysis and lost_ids:
            owned = kind.model.objects.filter(pk__in=lost_ids).values(kind.owned_analysis)
            RegressionAnalysis.objects.filter(pk__in=owned).exclude(status=WorkStatus.COMPLETED).update(
                status=WorkStatus.FAILED, finished_at=now, error_message=message)
        # Back to the outbox, unsent: the sending pass below sends them at once.
        result[f"{kind.label}_requeued"] = stale.filter(attempts__lt=settings.OPS_ANALYSIS_MAX_ATTEMPTS).update(
            status=WorkStatus.PENDING, started_at=None, heartbeat_at=None, enqueued_at=None)

    resend_before = now - timedelta(seconds=settings.OPS_PENDING_REQUEUE_AFTER_S)
    broker_down = False
    result["not_sent"] = 0
    for kind in KINDS:
        due = list(kind.reapable().filter(
            # Never sent: requeued claims (attempts > 0) at once, fresh rows after their own send had its chance.
            Q(enqueued_at__isnull=True, attempts__gt=0) | Q(enqueued_at__isnull=True, created_at__lt=now - UNSENT_GRACE)
            | Q(enqueued_at__lt=resend_before),
            status=WorkStatus.PENDING).order_by("created_at").values_list("pk", "enqueued_at")[:SEND_BATCH])
        sent = 0
        for pk, enqueued_at in due:
            # A first message must not expire; a resend (the first one may be stuck in a
            # backlog) expires before the next resend, so duplicates do not pile up.
            options = {"expires": settings.OPS_PENDING_REQUEUE_AFTER_S} if enqueued_at else {}
            if broker_down or not _send(kind, pk, **options):
                broker_down = True
                break
            sent += 1
        result[f"{kind.label}_sent"] = sent
        result["not_sent"] += len(due) - sent
    return result
