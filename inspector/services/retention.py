"""Retention: delete old traces in batches, keeping every trace something still refers to.

A trace is old when it *started* before the cutoff (``Trace.started_at``,
indexed). It is kept, whatever its age, when it is

* pinned by a golden-query baseline (any baseline, not only the current one);
* on either side of a regression analysis (``baseline_trace_ids`` /
  ``candidate_trace_ids`` JSON lists);
* the candidate of a golden-query run;
* the trace, baseline or candidate of an override test;
* the parent (``parent_trace_id``) of a test-mode trace kept for one of the
  reasons above, so a kept re-run still links to what it re-ran.

Batches walk the old traces oldest first by ``(started_at, id)``, so kept
traces are looked at once per purge, not once per batch. Each batch is one
transaction: its protection check, then the deletes of stage payloads, stage
runs, asset usage rows, replan events and ledger rows, and the traces. The
database's own foreign keys (baselines, runs, override tests) stop a batch
that would break one, rolling it back whole.

The protection rules read the regression models (imported lazily: the
inspector app does not otherwise depend on regression).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from inspector.models import StagePayload, StageRun, Trace, TraceAssetUsage
from inspector.services.rollups import days_dirty

logger = logging.getLogger(__name__)


@dataclass
class PurgeCounts:
    traces: int = 0
    stage_runs: int = 0
    stage_payloads: int = 0
    asset_usages: int = 0
    replan_events: int = 0
    replan_ledgers: int = 0
    kept: int = 0
    batches: int = 0
    finished: bool = True

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def traces_purge(*, older_than: datetime, batch_size: int = 500, dry_run: bool = False,
                 max_seconds: float | None = None) -> PurgeCounts:
    """Delete traces that started before ``older_than`` (and their rows), ``batch_size`` traces a transaction.

    ``dry_run`` counts what would go and deletes nothing. ``max_seconds``
    stops starting new batches after that long (``finished`` is then False;
    the next call continues where this one stopped, as deleted rows are gone).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    counts = PurgeCounts()
    deadline = time.monotonic() + max_seconds if max_seconds is not None else None
    after: tuple[datetime, int] | None = None
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            counts.finished = False
            break
        with transaction.atomic():
            batch = _next_batch(older_than, after, batch_size)
            if not batch:
                break
            after = (batch[-1][2], batch[-1][0])
            keep = traces_protected([trace_id for _, trace_id, _ in batch])
            doomed = [(pk, trace_id) for pk, trace_id, _ in batch if trace_id not in keep]
            counts.kept += len(batch) - len(doomed)
            counts.batches += 1
            if doomed:
                _delete_batch(doomed, counts, dry_run=dry_run)
        if doomed and not dry_run:
            # After the commit: the days' roll-ups still count the deleted traces.
            gone = {pk for pk, _ in doomed}
            days_dirty({started.astimezone(UTC).date() for pk, _, started in batch if pk in gone})
        if len(batch) < batch_size:
            break
    logger.info("trace retention (cutoff %s%s): %s", older_than.isoformat(), ", dry run" if dry_run else "",
                counts.as_dict())
    return counts


def traces_purge_expired(*, now: datetime | None = None) -> dict[str, int | bool]:
    """The beat job: apply ``OPS_RETENTION_DAYS`` (0 disables) within ``OPS_RETENTION_MAX_SECONDS``."""
    days = settings.OPS_RETENTION_DAYS
    if not days:
        return {"disabled": True}
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return traces_purge(older_than=cutoff, batch_size=settings.OPS_RETENTION_BATCH,
                        max_seconds=settings.OPS_RETENTION_MAX_SECONDS).as_dict()


def traces_protected(trace_ids: list[str]) -> set[str]:
    """Those of ``trace_ids`` that must be kept (see the module docstring)."""
    if not trace_ids:
        return set()
    keep = _referenced(trace_ids)
    # Parents of kept test-mode re-runs.
    children = dict(Trace.objects.filter(parent_trace_id__in=trace_ids, test_mode=True)
                    .values_list("trace_id", "parent_trace_id"))
    if children:
        kept_children = _referenced(list(children)) | (keep & set(children))
        keep |= {children[child] for child in kept_children}
    return keep


def _next_batch(older_than: datetime, after: tuple[datetime, int] | None,
                batch_size: int) -> list[tuple[int, str, datetime]]:
    old = Trace.objects.filter(started_at__lt=older_than)
    if after is not None:
        started, pk = after
        old = old.filter(Q(started_at__gt=started) | Q(started_at=started, pk__gt=pk))
    return list(old.order_by("started_at", "pk").values_list("pk", "trace_id", "started_at")[:batch_size])


def _referenced(trace_ids: list[str]) -> set[str]:
    """Trace ids among ``trace_ids`` that baselines, runs, override tests or analyses refer to."""
    baseline = apps.get_model("regression", "Baseline")
    run = apps.get_model("regression", "RegressionRun")
    override_test = apps.get_model("regression", "OverrideTest")
    found: set[str] = set(baseline.objects.filter(trace_id__in=trace_ids).values_list("trace_id", flat=True))
    found |= set(run.objects.filter(candidate_trace_id__in=trace_ids).values_list("candidate_trace_id", flat=True))
    for field in ("trace_id", "baseline_trace_id", "candidate_trace_id"):
        found |= set(override_test.objects.filter(**{f"{field}__in": trace_ids}).values_list(field, flat=True))
    found |= _referenced_by_analyses(trace_ids)
    return found & set(trace_ids)


def _referenced_by_analyses(trace_ids: list[str]) -> set[str]:
    """Trace ids among ``trace_ids`` listed on either side of any regression analysis.

    The id lists are JSON arrays. PostgreSQL tests each row with ``?|`` (any of
    these strings is an element; ``has_any_keys``), SQLite expands the arrays
    with ``json_each``; either way the database answers, not Python.
    """
    analysis = apps.get_model("regression", "RegressionAnalysis")
    wanted = set(trace_ids)
    if connection.vendor == "postgresql":
        rows = analysis.objects.filter(
            Q(baseline_trace_ids__has_any_keys=trace_ids) | Q(candidate_trace_ids__has_any_keys=trace_ids)
        ).values_list("baseline_trace_ids", "candidate_trace_ids")
        return {trace_id for sides in rows for side in sides for trace_id in side} & wanted
    if connection.vendor == "sqlite":
        table = connection.ops.quote_name(analysis._meta.db_table)
        marks = ", ".join(["%s"] * len(trace_ids))
        sql = " UNION ".join(
            f"SELECT j.value FROM {table} AS a, json_each(a.{column}) AS j WHERE j.value IN ({marks})"
            for column in ("baseline_trace_ids", "candidate_trace_ids")
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*trace_ids, *trace_ids])
            return {row[0] for row in cursor.fetchall()}
    # Any other database: read the lists (slow, but correct).
    found: set[str] = set()
    for sides in analysis.objects.values_list("baseline_trace_ids", "candidate_trace_ids").iterator(chunk_size=2000):
        found |= {trace_id for side in sides for trace_id in side} & wanted
    return found


def _delete_batch(doomed: list[tuple[int, str]], counts: PurgeCounts, *, dry_run: bool) -> None:
    replan_event = apps.get_model("controlloop", "ReplanEvent")
    replan_ledger = apps.get_model("controlloop", "ReplanLedger")
    pks = [pk for pk, _ in doomed]
    trace_ids = [trace_id for _, trace_id in doomed]
    events = replan_event.objects.filter(trace_id__in=trace_ids)
    steps: list[tuple[str, QuerySet]] = [
        ("stage_payloads", StagePayload.objects.filter(stage_run__trace_id__in=pks)),
        ("stage_runs", StageRun.objects.filter(trace_id__in=pks)),
        ("asset_usages", TraceAssetUsage.objects.filter(trace_id__in=pks)),
        # Follow-ups (decisions, executions) point at their request: they go first.
        ("replan_events", events.filter(request__isnull=False)),
        ("replan_events", events.filter(request__isnull=True)),
        ("replan_ledgers", replan_ledger.objects.filter(trace_id__in=trace_ids)),
        ("traces", Trace.objects.filter(pk__in=pks)),
    ]
    for name, queryset in steps:
        # Children are deleted explicitly, in order, so a plain DELETE is enough:
        # Django's collector would load every row into memory first, and no
        # delete signals are connected to these models.
        deleted = queryset.count() if dry_run else queryset._raw_delete(queryset.db)
        setattr(counts, name, getattr(counts, name) + deleted)
