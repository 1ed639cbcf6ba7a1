"""Data for the replan timeline screen: decision events placed on an axis, each with its chain and patch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from jsonpointer import resolve_pointer

from access.tenancy import EVERY_TENANT, TenantScope
from controlloop.chains import Decided, Executed, ReplanChain, Requested, replan_chain
from controlloop.contracts import TRIGGER_TYPES
from controlloop.models import ReplanEvent
from controlloop.selectors import replan_event_list, replan_followups
from controlloop.timeline_layout import (
    RADIUS,
    ROW,
    WIDTH,
    Cluster,
    Layout,
    Point,
    axis_window,
    spot_range,
    timeline_layout,
    x_position,
)
from controlloop.wording import OUTCOMES, delta_text, moment_input_text, moment_text, outcome_label, replan_count_text
from inspector.timeparse import parse_moment
from kernel.errors import InvalidInput

MAX_EVENTS = 500
DEFAULT_DAYS = 7
PARAMS = ("trace", "tenant", "trigger_type", "severity", "decision", "approved", "from", "to")


def _moment(params: dict[str, str], field: str) -> datetime | None:
    raw = params.get(field, "").strip()
    try:
        return parse_moment(raw, end_of_day=field == "to")
    except ValueError as exc:
        # The API answers 400 to the same value; the screen says why instead of ignoring it.
        raise InvalidInput(f"{field}: {raw!r} is not a date or a time; write YYYY-MM-DD or YYYY-MM-DD HH:MM",
                           field=field) from exc


def patch_rows(event: ReplanEvent) -> list[dict[str, Any]]:
    """The patch as a readable diff: one row per changed pointer with before and after."""
    rows = []
    for operation in event.json_patch or []:
        path = operation.get("path", "")
        rows.append({"op": operation.get("op"), "path": path,
                     "before": None if operation.get("op") == "add" else resolve_pointer(event.patch_before, path, None),
                     "after": None if operation.get("op") == "remove" else operation.get("value")})
    return rows


def _bounds(params: dict[str, str], *, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The range the filter asks for; with no trace and no dates, the last ``DEFAULT_DAYS`` days."""
    start, end = _moment(params, "from"), _moment(params, "to")
    if start and end and end < start:
        raise InvalidInput("to: the range ends before it starts", field="to")
    if not params.get("trace", "").strip() and start is None and end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    return start, end


def timeline_filters(params: dict[str, str], *, now: datetime | None = None) -> QueryDict:
    """The screen's filters as ``ReplanEventFilter`` input: decision events only.

    ``from``/``to`` are read as ``parse_moment`` reads them; an unreadable
    one, or a range that ends before it starts, raises ``InvalidInput``.
    ``approved`` reads ``yes``/``no``. With no trace and no dates, the last
    ``DEFAULT_DAYS`` days.
    """
    filters = QueryDict(mutable=True)
    filters["kind"] = ReplanEvent.Kind.DECISION
    trace = params.get("trace", "").strip()
    if trace:
        filters["trace"] = trace
    if params.get("tenant"):
        # Trace ids are unique per tenant: the trace page links here with its tenant.
        filters["tenant"] = params["tenant"]
    start, end = _bounds(params, now=now or timezone.now())
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


def _chains(chosen: list[ReplanEvent]) -> dict[int, ReplanChain]:
    requests, executions = replan_followups(chosen)
    chains = {}
    for e in chosen:
        request, execution = requests.get(e.request_id), executions.get(e.request_id)
        chains[e.pk] = replan_chain(
            Decided(at=e.created_at, decision=e.decision, approved=bool(e.approved), veto=e.veto, reason=e.reason),
            requested=request and Requested(at=request.created_at, trigger_type=request.trigger_type,
                                            severity=request.severity, stage_name=request.stage_name,
                                            reason=request.trigger_reason),
            executed=execution and Executed(at=execution.created_at, outcome=execution.outcome,
                                            detail=execution.reason))
    return chains


def _trace_urls(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The trace page of each (trace id, tenant); one ``reverse`` for all (one each cost 0.4 s for 500 traces)."""
    placeholder = "__trace_id__"
    pattern = reverse("admin:inspector_trace_by_id", args=[placeholder])
    # An id with a "/" (older rows; the ingest contract forbids it) cannot be carried by the URL: no link.
    return {(trace_id, tenant): "" if "/" in trace_id else
            pattern.replace(placeholder, quote(trace_id)) + "?" + urlencode({"tenant": tenant})
            for trace_id, tenant in keys}


def _event(e: ReplanEvent, chain: ReplanChain, layout: Layout, tz, trace_url: str) -> dict[str, Any]:
    placed = layout.placed.get(e.pk)
    steps, previous = [], None
    for step in chain.steps:
        steps.append({"label": step.label, "time": moment_text(step.at, tz) if step.at else "",
                      # Request and decision share one clock reading: "+0 ms" would only be noise.
                      "delta": delta_text((step.at - previous).total_seconds())
                      if step.at and previous and step.at > previous else "",
                      "text": step.text, "status": step.status})
        previous = step.at or previous
    return {
        "id": e.pk, "time": moment_text(e.created_at, tz), "trace": e.trace_id, "tenant": e.tenant_id,
        "traceUrl": trace_url, "trigger": e.trigger_type, "stage": e.stage_name, "severity": e.severity,
        "reason": e.trigger_reason, "raw": e.trigger_raw, "decision": e.decision, "veto": e.veto,
        "decisionReason": e.reason, "outcome": chain.outcome, "glyph": OUTCOMES[chain.outcome][1],
        "verdict": outcome_label(chain.outcome, veto=e.veto), "isolated": e.isolated,
        "replan": replan_count_text(decision=e.decision, approved=bool(e.approved), veto=e.veto, attempt=e.attempt,
                                    max_attempts=e.max_attempts),
        "scope": e.scope if e.approved and e.decision == "auto_retry" else "",
        "chain": steps, "patch": patch_rows(e), "r": RADIUS.get(e.severity, RADIUS["medium"]),
        # Not placed: in a "+N" marker (clusters), drawn when picked from its list.
        "x": round(placed.x, 1) if placed else None, "y": round(placed.y, 1) if placed else None,
    }


def timeline_data(params: dict[str, str], scope: TenantScope = EVERY_TENANT, *, link_traces: bool = True,
                  now: datetime | None = None) -> dict[str, Any]:
    """Decision events matching the screen's filters (the newest ``MAX_EVENTS``), laid out on the axis.

    Raises ``InvalidInput`` for a filter the API would refuse with a 400.
    """
    now = now or timezone.now()
    events = scope.filter(replan_event_list(filters=timeline_filters(params, now=now)))
    # The screen shows neither the policy nor these columns: 500 events' JSON would be read and decoded for nothing.
    events = events.select_related(None).defer("patch_after", "trigger_metadata", "policy_version", "outcome",
                                               "breaker_state")
    newest = list(events.order_by("-created_at", "-id")[:MAX_EVENTS + 1])
    chosen = newest[:MAX_EVENTS][::-1]
    tz = timezone.get_current_timezone()
    data = {**_empty(), "truncated": len(newest) > MAX_EVENTS}
    if not chosen:
        return data
    asked_start, asked_end = _bounds(params, now=now)
    start, end = axis_window(start=asked_start, end=asked_end, first=chosen[0].created_at, last=chosen[-1].created_at,
                             now=now)
    layout = timeline_layout([Point(key=e.pk, lane=e.trigger_type, at=e.created_at, radius=RADIUS.get(e.severity, 7))
                              for e in chosen], lanes=TRIGGER_TYPES, start=start, end=end, tz=tz)
    chains = _chains(chosen)
    urls = _trace_urls({(e.trace_id, e.tenant_id) for e in chosen}) if link_traces else {}
    data["events"] = [_event(e, chains[e.pk], layout, tz, urls.get((e.trace_id, e.tenant_id), "")) for e in chosen]
    data["lanes"] = [{"name": lane.name, "top": lane.top, "height": lane.height, "rows": lane.rows}
                     for lane in layout.lanes]
    data["ticks"] = [{"x": round(tick.x, 1), "label": tick.label} for tick in layout.ticks]
    data["clusters"] = [_cluster(c, tz) for c in layout.clusters]
    data["axis"] = {
        "startMs": start.timestamp() * 1000, "endMs": end.timestamp() * 1000, "nowMs": now.timestamp() * 1000,
        "width": WIDTH, "row": ROW, "left": x_position(start, start, end), "right": x_position(end, start, end),
        "axisY": layout.axis_y, "height": layout.height, "start": moment_text(start, tz), "end": moment_text(end, tz),
        # The newest MAX_EVENTS only: the part of the axis before the oldest shown is greyed out, not empty.
        "hiddenBeforeX": round(x_position(chosen[0].created_at, start, end), 1) if data["truncated"] else None,
    }
    return data


def _cluster(cluster: Cluster, tz) -> dict[str, Any]:
    spot_from, spot_to = spot_range(cluster)  # what "Zoom to these" asks for
    return {"lane": cluster.lane, "x": round(cluster.x, 1), "y": cluster.y, "ids": list(cluster.keys),
            "first": moment_text(cluster.first, tz), "last": moment_text(cluster.last, tz),
            "from": _iso(spot_from, floor=True), "to": _iso(spot_to, floor=False)}


def _empty() -> dict[str, Any]:
    return {"truncated": False, "triggerTypes": list(TRIGGER_TYPES), "events": [], "clusters": [], "lanes": [],
            "ticks": [], "axis": None}


def _iso(moment: datetime, *, floor: bool) -> str:
    """A zoom bound to the whole second, widened so the moment itself stays inside."""
    second = moment.replace(microsecond=0)
    if not floor and second != moment:
        second += timedelta(seconds=1)
    return second.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timeline_context(params: dict[str, str], scope: TenantScope, *, link_traces: bool) -> dict[str, Any]:
    """The screen's context: its data, the filter fields as shown, and the error of an unreadable filter."""
    tz = timezone.get_current_timezone()
    shown = dict(params)
    try:
        timeline, error, invalid = timeline_data(params, scope, link_traces=link_traces), "", ""
    except InvalidInput as exc:
        timeline = _empty()
        error, invalid = exc.message, exc.field or ""
    for field in ("from", "to"):
        # A zoom sets exact UTC times; the field shows them as the local time it reads back.
        if field != invalid and ":" in params.get(field, ""):
            shown[field] = moment_input_text(_moment(params, field), tz)
    return {"timeline": timeline, "error": error, "invalid_field": invalid, "params": shown,
            "timezone_name": timezone.get_current_timezone_name(),
            "outcomes": [(key, label, glyph) for key, (label, glyph) in OUTCOMES.items()]}
