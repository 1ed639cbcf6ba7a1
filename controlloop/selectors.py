"""Reading replan events (with the FilterSet applied) and policies."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from controlloop.filters import ReplanEventFilter
from controlloop.models import ReplanEvent
from inspector.selectors import raise_filter_errors


def replan_event_list(*, filters: dict[str, Any] | None = None) -> QuerySet[ReplanEvent]:
    filterset = ReplanEventFilter(filters or {}, queryset=ReplanEvent.objects.select_related("policy"))
    if not filterset.is_valid():
        raise_filter_errors(filterset.errors)
    return filterset.qs.order_by("created_at", "id")


def replan_decisions_for_trace(trace) -> list[ReplanEvent]:
    """The control loop's decisions for one trace, in order (the trace page's replan list)."""
    return list(ReplanEvent.objects.filter(trace_id=trace.trace_id, tenant_id=trace.tenant_id,
                                           kind=ReplanEvent.Kind.DECISION).order_by("created_at", "id")[:100])
