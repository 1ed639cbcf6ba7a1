"""What the trace page and the compare page show, assembled from summary rows only (no payloads).

Payloads are fetched by the browser from the stage endpoint when a section is
opened; here we only prepare previews (highlighted with Pygments) and the
grouping of attempts under their stage. One exception: a trace whose run ended
asking the user has its final ``present`` payload read for the ask_user card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer

from access.tenancy import TenantScope
from inspector import selectors, trace_panels
from inspector.comparison_attempts import trace_compare_with_attempts
from inspector.contracts import STAGE_ORDER
from inspector.models import StageRun, Trace
from inspector.pipeline.replies import ask_user_card, trace_ended_asking
from inspector.text_diff import is_multiline, line_diff
from kernel.errors import ServiceError

_FORMATTER = HtmlFormatter(nowrap=True)
_LEXER = JsonLexer()
REFERENCE_PREVIEW = 5
OPERATIONS_SHOWN = 50  # the compare page lists the first ones; the diff API has up to 500


def highlighted(text: str) -> SafeString:
    """Pygments escapes the text itself; the result is safe HTML."""
    return mark_safe(highlight(text, _LEXER, _FORMATTER))


@dataclass
class StageGroup:
    stage: str
    attempts: list[StageRun] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.stage.upper()

    @property
    def final(self) -> StageRun:
        return self.attempts[-1]


def stage_groups(trace: Trace) -> list[StageGroup]:
    """Stage runs grouped by stage in pipeline order, attempts in execution order."""
    groups: dict[str, StageGroup] = {}
    for run in sorted(trace.stage_runs.all(), key=lambda r: (STAGE_ORDER.index(r.stage), r.attempt)):
        run.input_highlighted = highlighted(run.input_preview)
        run.output_highlighted = highlighted(run.output_preview)
        run.payload_url = (reverse("trace-stage", args=[trace.trace_id, run.stage])
                           + "?" + urlencode({"attempt": run.attempt, "tenant": trace.tenant_id}))
        groups.setdefault(run.stage, StageGroup(run.stage)).attempts.append(run)
    return list(groups.values())


def page_data(trace: Trace, groups: list[StageGroup]) -> dict[str, Any]:
    """The data the page's script needs (passed with ``json_script``)."""
    return {
        "traceId": trace.trace_id,
        "referencePreview": REFERENCE_PREVIEW,
        "runs": {
            str(run.pk): {"stage": run.stage, "attempt": run.attempt, "payloadUrl": run.payload_url,
                          "inputSize": run.input_size, "outputSize": run.output_size}
            for group in groups for run in group.attempts
        },
    }


def applied_versions(trace: Trace) -> list[dict[str, Any]]:
    """The trace-level bill of materials with admin links to the versions."""
    rows = []
    for usage in trace.asset_usages.all():
        if usage.stage:
            continue
        url = (reverse("admin:inspector_assetversion_change", args=[usage.asset_version_id])
               if usage.asset_version_id else "")
        rows.append({"type": usage.asset_type, "ref": f"{usage.asset_name}@{usage.version}",
                     "status": usage.version_status, "url": url})
    return rows


def page_context(trace: Trace) -> dict[str, Any]:
    """Everything the trace page (``admin/inspector/trace/trace_page.html``) shows of ``trace``.

    ``trace`` is reloaded with its stage summaries and bill of materials. The
    admin adds its own context and the links higher apps offer (``overrides_url``).
    """
    trace = selectors.trace_get(trace_id=trace.trace_id, tenant=trace.tenant_id)
    groups = stage_groups(trace)
    return {
        "title": f"Trace {trace.trace_id}",
        "subtitle": trace.question,
        "trace": trace,
        "groups": groups,
        "page_data": page_data(trace, groups),
        "applied_versions": applied_versions(trace),
        "parent": selectors.trace_parent(trace=trace),
        "session": selectors.session_traces(trace=trace),
        "replanned": [g for g in groups if len(g.attempts) > 1],
        "replan_events": trace_panels.provide(trace_panels.REPLAN_DECISIONS, trace, default=[]),
        "timeline_url": reverse("admin:controlloop_timeline") + "?" + urlencode(
            {"trace": trace.trace_id, "tenant": trace.tenant_id}),
        "compare_url": reverse("admin:inspector_trace_compare", args=[trace.pk]),
        "overrides_url": "",
        # Only a run that ended asking the user has its present payload read, for the card's message.
        "ask_user_card": ask_user_card(trace) if trace_ended_asking(trace) else {},
    }


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A comparison row as the compare page prints it.

    Both sides' attempts (baseline first), operation values as short JSON, and
    a replaced text on several lines as its line diff.
    """
    row = dict(row)
    row["attempt_sides"] = [(side, row["attempts"][side]) for side in ("baseline", "candidate")
                            if side in row.get("attempts", {})]
    for op in (row.get("output_diff") or {}).get("operations", [])[:OPERATIONS_SHOWN]:
        for side in ("before", "after"):
            if side in op:
                op[f"{side}_text"] = _short_json(op[side])
        before, after = op.get("before"), op.get("after")
        if (op["op"] == "replace" and isinstance(before, str) and isinstance(after, str)
                and (is_multiline(before) or is_multiline(after))):
            op["lines"] = line_diff(before, after)
    return row


def _short_json(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compare_context(trace: Trace, *, baseline_id: str, scope: TenantScope) -> dict[str, Any]:
    """What the compare page (``admin/inspector/trace/compare.html``) shows: ``trace`` against ``baseline_id``.

    Without a baseline id, the trace's parent is the baseline. A baseline that
    cannot be compared (unknown, another tenant) is shown as ``error``. The
    picker offers ``baseline_choices`` (same question first, then recent traces).
    """
    baseline_id = baseline_id.strip() or trace.parent_trace_id
    comparison, error = None, ""
    if baseline_id:
        try:
            comparison = trace_compare_with_attempts(trace_id=trace.trace_id, baseline_id=baseline_id, scope=scope,
                                                     tenant=trace.tenant_id)
        except ServiceError as exc:
            error = exc.message
    if comparison:
        comparison["stages"] = [_shown(row) for row in comparison["stages"]]
    analysis = (trace_panels.provide(trace_panels.LATEST_ANALYSIS, baseline_id, trace.trace_id, trace.tenant_id)
                if comparison else None)
    return {
        "title": f"Compare {trace.trace_id}",
        "trace": trace,
        "baseline_id": baseline_id,
        "baseline_choices": selectors.trace_baseline_choices(trace=trace, scope=scope),
        "comparison": comparison,
        "analysis": analysis,
        "error": error,
    }
