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


def replan_followups(decisions: list[ReplanEvent]) -> tuple[dict[int, ReplanEvent], dict[int, ReplanEvent]]:
    """The requests and executions of ``decisions``, each by request id (two queries, whatever their number).

    A decision, its request and its execution share the request (the
    execution's ``request`` is the decision's); a request has at most one
    execution, the newest wins if a re-delivery ever recorded two.
    """
    ids = {d.request_id for d in decisions if d.request_id is not None}
    if not ids:
        return {}, {}
    requests = ReplanEvent.objects.filter(pk__in=ids).only(
        "id", "created_at", "trigger_type", "severity", "stage_name", "trigger_reason")
    executions = (ReplanEvent.objects.filter(kind=ReplanEvent.Kind.EXECUTION, request_id__in=ids)
                  .only("id", "request_id", "created_at", "outcome", "reason").order_by("created_at", "id"))
    return {r.pk: r for r in requests}, {e.request_id: e for e in executions}
