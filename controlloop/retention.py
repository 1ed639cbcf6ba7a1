"""Retention's dependents for the control loop: the replan events and ledger rows of deleted traces.

Registered with ``inspector.retention_hooks`` in ``ControlLoopConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from controlloop.models import ReplanEvent, ReplanLedger
from inspector.retention_hooks import TraceKey


def replan_rows_of(doomed: list[TraceKey]) -> Iterable[tuple[str, QuerySet]]:
    """Replan events and ledger rows name a trace by tenant and trace id."""
    by_tenant: dict[str, list[str]] = {}
    for _, tenant_id, trace_id in doomed:
        by_tenant.setdefault(tenant_id, []).append(trace_id)
    named = Q(pk__in=[])
    for tenant_id, trace_ids in by_tenant.items():
        named |= Q(tenant_id=tenant_id, trace_id__in=trace_ids)
    events = ReplanEvent.objects.filter(named)
    return [
        # Follow-ups (decisions, executions) point at their request: they go first.
        ("replan_events", events.filter(request__isnull=False)),
        ("replan_events", events.filter(request__isnull=True)),
        ("replan_ledgers", ReplanLedger.objects.filter(named)),
    ]
