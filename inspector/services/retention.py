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

Trace ids are unique per tenant, so a string reference counts in its own
tenant only: a parent id in the child's tenant, an analysis's ids in the
analysis's tenant (an analysis without a tenant, from before analyses had
one, keeps that id in every tenant: retention errs on the side of keeping).
Replan events and ledger rows go by tenant and trace id. Baselines, runs and
override tests point at the trace's primary key.

Batches walk the old traces oldest first by ``(started_at, id)``, so kept
traces are looked at once per purge, not once per batch. Each batch is one
transaction: its protection check, then the deletes of stage payloads, stage
runs, asset usage rows, replan events and ledger rows, and the traces. The
database's own foreign keys (baselines, runs, override tests) stop a batch
that would break one, rolling it back whole.

Which traces are referenced, and which rows of other apps name a trace, is
asked of the hooks those apps register (``inspector/retention_hooks.py``):
inspector does not import them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from inspector import retention_hooks
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
            after = (batch[-1][3], batch[-1][0])
            keep = traces_protected([(pk, tenant_id, trace_id) for pk, tenant_id, trace_id, _ in batch])
            doomed = [(pk, tenant_id, trace_id) for pk, tenant_id, trace_id, _ in batch if pk not in keep]
            counts.kept += len(batch) - len(doomed)
            counts.batches += 1
            if doomed:
                _delete_batch(doomed, counts, dry_run=dry_run)
        if doomed and not dry_run:
            # After the commit: the days' roll-ups still count the deleted traces.
            gone = {pk for pk, _, _ in doomed}
            days_dirty({started.astimezone(UTC).date() for pk, _, _, started in batch if pk in gone})
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


# A trace as retention handles it: (primary key, tenant_id, trace_id).
TraceKey = tuple[int, str, str]


def traces_protected(traces: list[TraceKey]) -> set[int]:
    """The primary keys of those of ``traces`` that must be kept (see the module docstring)."""
    if not traces:
        return set()
    keep = _referenced(traces)
    # Parents of kept test-mode re-runs; a parent is named by its id in the child's tenant.
    by_id = {(tenant_id, trace_id): pk for pk, tenant_id, trace_id in traces}
    children = [(pk, tenant_id, trace_id, parent) for pk, tenant_id, trace_id, parent in Trace.objects.filter(
        parent_trace_id__in={trace_id for _, _, trace_id in traces},
        tenant_id__in={tenant_id for _, tenant_id, _ in traces}, test_mode=True,
    ).values_list("pk", "tenant_id", "trace_id", "parent_trace_id") if (tenant_id, parent) in by_id]
    if children:
        kept_children = _referenced([child[:3] for child in children]) | (keep & {child[0] for child in children})
        keep |= {by_id[(tenant_id, parent)] for pk, tenant_id, _, parent in children if pk in kept_children}
    return keep


def _next_batch(older_than: datetime, after: tuple[datetime, int] | None,
                batch_size: int) -> list[tuple[int, str, str, datetime]]:
    old = Trace.objects.filter(started_at__lt=older_than)
    if after is not None:
        started, pk = after
        old = old.filter(Q(started_at__gt=started) | Q(started_at=started, pk__gt=pk))
    return list(old.order_by("started_at", "pk").values_list("pk", "tenant_id", "trace_id", "started_at")[:batch_size])


def _referenced(traces: list[TraceKey]) -> set[int]:
    """Primary keys among ``traces`` that a registered keeper (regression's references) holds on to."""
    pks = {pk for pk, _, _ in traces}
    found: set[int] = set()
    for keeper in retention_hooks.keepers():
        found |= keeper(traces)
    return found & pks


def _delete_batch(doomed: list[TraceKey], counts: PurgeCounts, *, dry_run: bool) -> None:
    pks = [pk for pk, _, _ in doomed]
    steps: list[tuple[str, QuerySet]] = [
        ("stage_payloads", StagePayload.objects.filter(stage_run__trace_id__in=pks)),
        ("stage_runs", StageRun.objects.filter(trace_id__in=pks)),
        ("asset_usages", TraceAssetUsage.objects.filter(trace_id__in=pks)),
        # Rows of higher apps that name these traces (the control loop's events and ledger).
        *(step for dependents in retention_hooks.dependents() for step in dependents(doomed)),
        ("traces", Trace.objects.filter(pk__in=pks)),
    ]
    for name, queryset in steps:
        # Children are deleted explicitly, in order, so a plain DELETE is enough:
        # Django's collector would load every row into memory first, and no
        # delete signals are connected to these models.
        deleted = queryset.count() if dry_run else queryset._raw_delete(queryset.db)
        setattr(counts, name, getattr(counts, name) + deleted)
