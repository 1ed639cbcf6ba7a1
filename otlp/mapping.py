"""Spans of one trace to a trace body for ``inspector.services.trace_ingest`` (pure; docs/otlp.md).

Which stage a span is, first match wins:

1. its attribute ``ops.stage`` (one of the five stages);
2. the tenant's span-name rules (``fnmatch`` patterns, in order; admin: "Span stage rules");
3. its OpenInference span kind (``openinference.span.kind``) or GenAI operation
   (``gen_ai.operation.name``), by ``OPENINFERENCE_STAGES`` and ``GEN_AI_STAGES``.

The root span (no parent) is the trace. Any other span that maps to no stage is
listed in the trace's ``metadata.otlp.unmapped_spans`` and in the export's
answer, never dropped in silence.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from inspector.contracts import INT_COLUMN_MAX, STAGE_ORDER

OPENINFERENCE_STAGES = {
    "AGENT": "route_plan",
    "GUARDRAIL": "validate",
    "EVALUATOR": "validate",
    "RETRIEVER": "execute",
    "TOOL": "execute",
    "EMBEDDING": "execute",
    "RERANKER": "execute",
    "LLM": "compose",
}
GEN_AI_STAGES = {
    "invoke_agent": "route_plan",
    "create_agent": "route_plan",
    "execute_tool": "execute",
    "embeddings": "execute",
    "chat": "compose",
    "text_completion": "compose",
    "generate_content": "compose",
}
# Where the root span's question is read, first found wins (then the root span's name).
QUESTION_ATTRIBUTES = ("ops.question", "input.value")
QUESTION_MAX = 10_000


@dataclass(frozen=True)
class StageRule:
    """Spans whose name matches ``pattern`` (``fnmatch``, case-sensitive) are ``stage``."""

    pattern: str
    stage: str


@dataclass
class Assembly:
    body: dict[str, Any]
    unmapped: list[dict[str, str]] = field(default_factory=list)


def stage_of(record: dict[str, Any], rules: list[StageRule] = ()) -> str | None:
    attributes = record["attributes"]
    explicit = attributes.get("ops.stage")
    if explicit in STAGE_ORDER:
        return explicit
    for rule in rules:
        if fnmatchcase(record["name"], rule.pattern):
            return rule.stage
    kind = attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind.upper() in OPENINFERENCE_STAGES:
        return OPENINFERENCE_STAGES[kind.upper()]
    operation = attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation in GEN_AI_STAGES:
        return GEN_AI_STAGES[operation]
    return None


def root_of(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    roots = [r for r in records if not r["parent_span_id"]]
    return min(roots, key=lambda r: (r["start_ns"], r["span_id"])) if roots else None


def _moment(nanoseconds: int) -> str:
    return datetime.fromtimestamp(nanoseconds / 1e9, tz=UTC).isoformat()


def _milliseconds(record: dict[str, Any]) -> int:
    return min(max(0, (record["end_ns"] - record["start_ns"]) // 1_000_000), INT_COLUMN_MAX)


def _parsed(value: Any) -> Any:
    """A JSON-looking string as its value (OpenInference sends JSON as text), anything else as it is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_object(value: Any) -> dict[str, Any]:
    value = _parsed(value)
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def _asset_refs(value: Any) -> dict[str, str]:
    """``ops.applied_assets``: ``{"type": "name@version"}`` as a map or JSON text."""
    value = _parsed(value)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _usage(attributes: dict[str, Any]) -> dict[str, Any]:
    """``result.usage`` from GenAI or OpenInference attributes; a value of the wrong type is left out, so that
    one odd attribute cannot refuse the whole trace (``inspector.contracts.UsageIn``)."""
    model = (attributes.get("gen_ai.response.model") or attributes.get("gen_ai.request.model")
             or attributes.get("llm.model_name"))
    usage = {
        "model": str(model)[:200] if model else None,
        "input_tokens": _count(attributes.get("gen_ai.usage.input_tokens", attributes.get("llm.token_count.prompt"))),
        "output_tokens": _count(attributes.get("gen_ai.usage.output_tokens",
                                               attributes.get("llm.token_count.completion"))),
        "cost": _amount(attributes.get("gen_ai.usage.cost", attributes.get("llm.cost.total"))),
    }
    return {key: value for key, value in usage.items() if value not in (None, "")}


def _count(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= INT_COLUMN_MAX and not isinstance(value, bool) else None


def _amount(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and 0 <= number <= 1e9 and not isinstance(value, bool) else None


def _diagnostics(record: dict[str, Any]) -> dict[str, Any]:
    errors, warnings = [], []
    for event in record["events"]:
        if event["name"] == "exception":
            found = event["attributes"]
            errors.append(": ".join(str(part) for part in (found.get("exception.type"), found.get("exception.message"))
                                    if part) or "exception")
        else:
            warnings.append(event["name"] or "event")
    if record["status"] == "error":
        errors.append(record["status_message"] or "span status ERROR")
    status = "error" if errors else "warning" if warnings else "ok"
    return {"status": status, "errors": errors, "warnings": warnings}


def _stage_run(record: dict[str, Any], stage: str, attempt: int, trace_hex: str) -> dict[str, Any]:
    attributes = record["attributes"]
    result = _as_object(attributes.get("output.value"))
    usage = _usage(attributes)
    if usage:
        result = {**result, "usage": usage}
    return {
        "stage": stage,
        "attempt": attempt,
        "started_at": _moment(record["start_ns"]),
        "input": {"stage": stage, "applied_assets": _asset_refs(attributes.get("ops.applied_assets")),
                  "params": _as_object(attributes.get("input.value")), "trace_id": trace_hex},
        "output": {"stage": stage, "result": result, "diagnostics": _diagnostics(record),
                   "duration_ms": _milliseconds(record)},
    }


def _question(root: dict[str, Any]) -> str:
    for name in QUESTION_ATTRIBUTES:
        value = _parsed(root["attributes"].get(name))
        if isinstance(value, dict):
            value = value.get("question") or value.get("input") or value.get("query")
        if isinstance(value, str) and value.strip():
            return value.strip()[:QUESTION_MAX]
    return root["name"].strip()[:QUESTION_MAX] or "(no question)"


def _trace_assets(refs: dict[str, str]) -> dict[str, dict[str, Any]]:
    assets = {}
    for asset_type, ref in refs.items():
        name, _, version = ref.rpartition("@")
        if name and version.isdigit():
            assets[asset_type] = {"name": name, "version": int(version)}
    return assets


def assemble(records: list[dict[str, Any]], *, tenant_id: str, rules: list[StageRule] = (),
             root: dict[str, Any] | None = None) -> Assembly:
    """The trace body of one trace's spans (deduplicated by span id), rooted at its root span or ``root``."""
    spans = sorted({r["span_id"]: r for r in records}.values(), key=lambda r: (r["start_ns"], r["span_id"]))
    root = root or root_of(spans)
    if root is None:
        raise ValueError("a trace needs a root span to be assembled")
    trace_hex = root["trace_id"]
    attempts: Counter[str] = Counter()
    stages, unmapped = [], []
    for record in spans:
        stage = stage_of(record, rules)
        if stage is None:
            if record is not root:
                unmapped.append({"span_id": record["span_id"], "name": record["name"]})
            continue
        attempts[stage] += 1
        stages.append(_stage_run(record, stage, attempts[stage], trace_hex))
    metadata: dict[str, Any] = {"otlp": {"root_span": root["name"], "spans": len(spans)}}
    service = root["resource"].get("service.name")
    if service:
        metadata["otlp"]["service"] = service
    if unmapped:
        metadata["otlp"]["unmapped_spans"] = unmapped
    session = str(root["attributes"].get("session.id") or root["attributes"].get("ops.session_id") or "")
    body = {
        "trace_id": trace_hex,
        "tenant_id": tenant_id,
        "question": _question(root),
        "started_at": _moment(root["start_ns"]),
        "duration_ms": _milliseconds(root),
        "applied_assets": _trace_assets(_asset_refs(root["attributes"].get("ops.applied_assets"))),
        "stages": stages,
        "metadata": metadata,
    }
    if session:
        body["session_id"] = session
    return Assembly(body=body, unmapped=unmapped)
