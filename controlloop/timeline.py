"""Data for the replan timeline screen (decision events, their triggers and patches)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from access.tenancy import EVERY_TENANT, TenantScope
from controlloop.contracts import TRIGGER_TYPES
from controlloop.models import ReplanEvent
from inspector.timeparse import parse_moment

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
        before = _at(event.patch_before, path)
        rows.append({"op": operation.get("op"), "path": path,
                     "before": None if operation.get("op") == "add" else before,
                     "after": None if operation.get("op") == "remove" else operation.get("value")})
    return rows


def _at(document: Any, pointer: str) -> Any:
    for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]:
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    return document


def timeline_data(params: dict[str, str], scope: TenantScope = EVERY_TENANT) -> dict[str, Any]:
    """Decision events matching the screen's filters, newest ``MAX_EVENTS`` in the range."""
    events = scope.filter(ReplanEvent.objects.filter(kind=ReplanEvent.Kind.DECISION))
    trace = params.get("trace", "").strip()
    if trace:
        events = events.filter(trace_id=trace)
    if params.get("tenant"):
        # Trace ids are unique per tenant: the trace page links here with its tenant.
        events = events.filter(tenant_id=params["tenant"])
    start, end = _when(params.get("from", "")), _when(params.get("to", ""), end=True)
    if not trace and start is None and end is None:
        start = timezone.now() - timedelta(days=7)
    if start:
        events = events.filter(created_at__gte=start)
    if end:
        events = events.filter(created_at__lte=end)
    for field in ("trigger_type", "severity", "decision"):
        if params.get(field):
            events = events.filter(**{field: params[field]})
    if params.get("approved") in ("yes", "no"):
        events = events.filter(approved=params["approved"] == "yes")
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
