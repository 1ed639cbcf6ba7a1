"""Data for the replan timeline screen (decision events, their triggers and patches)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from jsonpointer import resolve_pointer

from access.tenancy import EVERY_TENANT, TenantScope
from controlloop.contracts import TRIGGER_TYPES
from controlloop.models import ReplanEvent
from controlloop.selectors import replan_event_list
from inspector.timeparse import parse_moment
from kernel.errors import InvalidInput

MAX_EVENTS = 500


def _when(raw: str, *, end: bool = False):
    # The screen's filters ignore an unreadable date rather than failing the page.
    try:
        return parse_moment(raw, end_of_day=end)
    except ValueError:
        return None


def patch_rows(event: ReplanEvent) -> list[dict[str, Any]]:
    """The patch as a readable diff: one row per changed pointer with before and after."""
    rows = []
    for operation in event.json_patch or []:
        path = operation.get("path", "")
        rows.append({"op": operation.get("op"), "path": path,
                     "before": None if operation.get("op") == "add" else resolve_pointer(event.patch_before, path, None),
                     "after": None if operation.get("op") == "remove" else operation.get("value")})
    return rows


def timeline_filters(params: dict[str, str]) -> QueryDict:
    """The screen's filters as ``ReplanEventFilter`` input: decision events only.

    The screen reads ``from``/``to`` as ``parse_moment`` does and ignores an
    unreadable one, reads ``approved`` as ``yes``/``no``, and with no trace and
    no dates shows the last 7 days.
    """
    filters = QueryDict(mutable=True)
    filters["kind"] = ReplanEvent.Kind.DECISION
    trace = params.get("trace", "").strip()
    if trace:
        filters["trace"] = trace
    if params.get("tenant"):
        # Trace ids are unique per tenant: the trace page links here with its tenant.
        filters["tenant"] = params["tenant"]
    start, end = _when(params.get("from", "")), _when(params.get("to", ""), end=True)
    if not trace and start is None and end is None:
        start = timezone.now() - timedelta(days=7)
    if start:
        filters["from"] = start.isoformat()
    if end:
        filters["to"] = end.isoformat()
    for field in ("trigger_type", "severity", "decision"):
        if params.get(field):
            filters[field] = params[field]
    if params.get("approved") in ("yes", "no"):
        filters["approved"] = "true" if params["approved"] == "yes" else "false"
    return filters


def timeline_data(params: dict[str, str], scope: TenantScope = EVERY_TENANT) -> dict[str, Any]:
    """Decision events matching the screen's filters, newest ``MAX_EVENTS`` in the range."""
    try:
        events = scope.filter(replan_event_list(filters=timeline_filters(params)))
    except InvalidInput:
        # A value outside the choices (a hand-edited link) matches no event.
        events = ReplanEvent.objects.none()
    # The screen shows neither the policy nor these columns: 500 events' JSON would be read and decoded for nothing.
    events = events.select_related(None).defer("patch_after", "trigger_metadata", "policy_version", "outcome",
                                               "breaker_state")
    chosen = list(events.order_by("-created_at", "-id")[:MAX_EVENTS])[::-1]
    return {
        "truncated": len(chosen) == MAX_EVENTS,
        "triggerTypes": list(TRIGGER_TYPES),
        "events": [
            {"id": e.pk, "time": e.created_at.isoformat(), "trace": e.trace_id, "trigger": e.trigger_type,
             "stage": e.stage_name, "severity": e.severity, "reason": e.trigger_reason, "raw": e.trigger_raw,
             "decision": e.decision, "approved": bool(e.approved), "veto": e.veto, "decisionReason": e.reason,
             "attempt": e.attempt, "max": e.max_attempts, "scope": e.scope, "patch": patch_rows(e)}
            for e in chosen
        ],
    }
