"""Total, lenient parsing of replan triggers (SPEC §4).

``safe_parse_trigger`` turns whatever a stage, a tool or an operator hands us
(a word, ``"type stage reason…"``, JSON, a dict, a trigger, nothing) into a
``ReplanTrigger`` and never raises: a trigger that cannot be understood is
still worth recording, so it becomes type ``unknown`` with the raw text kept.
Parsing is idempotent: parsing a parsed trigger (or its dump) gives it back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from controlloop.contracts import EPOCH, SEVERITIES, TRIGGER_TYPES, ReplanTrigger
from inspector.contracts import STAGE_ORDER

TEXT_LIMIT = 2000  # ReplanTrigger.reason / trigger_raw max_length
STAGE_LIMIT = 32  # ReplanTrigger.stage_name max_length
METADATA_LIMIT = 10 * 1024  # bytes of JSON; larger metadata is dropped, not truncated

_GROUPS: dict[str, tuple[str, ...]] = {
    "policy_violation": ("policy_blocked", "blocked_by_policy", "policy", "violation", "blocked", "policy_block",
                         "policy_denied", "denied", "forbidden", "not_allowed", "disallowed", "guardrail"),
    "timeout": ("time_out", "timed_out", "deadline_exceeded", "deadline", "took_too_long", "too_slow"),
    "manual": ("user_initiated", "user", "manual_replan", "retry_requested", "retry", "user_request",
               "user_requested", "operator", "replan"),
    "empty_result": ("no_results", "no_result", "empty", "empty_results", "no_rows", "zero_rows", "no_data",
                     "nothing_found", "not_found"),
    "error": ("exception", "failure", "failed", "stage_error", "err", "crash", "crashed", "internal_error"),
    "tool_error_fatal": ("fatal", "tool_failure", "tool_error", "tool_fatal", "tool_failed", "tool_crash",
                         "fatal_error", "fatal_tool_error"),
    "slot_missing": ("missing_slot", "missing_slots", "missing_entity", "no_entity", "unfilled_slot",
                     "missing_parameter", "missing_param"),
    "low_evidence": ("weak_evidence", "no_evidence", "few_references", "no_references", "insufficient_evidence",
                     "low_confidence"),
    "present_limit": ("too_large", "output_too_large", "limit_exceeded", "too_big", "too_many_rows",
                      "size_limit", "truncated"),
}
ALIASES: dict[str, str] = {alias: canonical for canonical, aliases in _GROUPS.items() for alias in aliases}

SEVERITY_ALIASES: dict[str, str] = {
    "info": "low", "debug": "low", "minor": "low", "trivial": "low", "lo": "low", "sev4": "low", "p4": "low",
    "warn": "medium", "warning": "medium", "med": "medium", "moderate": "medium", "normal": "medium",
    "sev3": "medium", "p3": "medium",
    "major": "high", "hi": "high", "error": "high", "severe": "high", "sev2": "high", "p2": "high",
    "crit": "critical", "fatal": "critical", "blocker": "critical", "urgent": "critical",
    "emergency": "critical", "sev1": "critical", "p1": "critical", "sev0": "critical", "p0": "critical",
}

_TYPE_KEYS = ("trigger_type", "type", "trigger")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower-case ``text`` and squeeze every run of non-alphanumerics into one ``_``.

    ASCII-only on purpose: the result contains only ``[a-z0-9_]``, so normalising is idempotent.
    """
    return _NON_ALNUM.sub("_", text.strip().lower()).strip("_")


def severity_of(text: object) -> str:
    """A canonical severity for ``text`` (aliases such as ``p1`` or ``warn`` accepted); ``medium`` otherwise."""
    name = normalise(_as_text(text)[:64])
    name = SEVERITY_ALIASES.get(name, name)
    return name if name in SEVERITIES else "medium"


def safe_parse_trigger(raw: object = None, *, default_stage: str = "", now: datetime | None = None) -> ReplanTrigger:
    """Parse ``raw`` into a ``ReplanTrigger``; never raises.

    ``now`` is the timestamp when ``raw`` carries none (``EPOCH`` without it, to stay deterministic).
    """
    try:
        fallback_time = EPOCH if now is None else _timestamp(now, EPOCH)
        stage = _stage(default_stage)
        if isinstance(raw, ReplanTrigger):
            try:
                return ReplanTrigger.model_validate(raw.model_dump())
            except Exception:  # a model_construct()-ed trigger may hold anything
                return _from_mapping(raw.__dict__, stage, fallback_time, None)
        if raw is None:
            return ReplanTrigger(timestamp=fallback_time, stage_name=stage)
        if isinstance(raw, (bytes, bytearray)):
            raw = bytes(raw).decode("utf-8", errors="replace")
        if isinstance(raw, str):
            return _from_text(raw, stage, fallback_time)
        if isinstance(raw, Mapping):
            return _from_mapping(raw, stage, fallback_time, None)
        return ReplanTrigger(stage_name=stage, timestamp=fallback_time, trigger_raw=_clean(_safe_repr(raw)))
    except Exception:  # last resort, incl. RecursionError: totality matters more than detail here
        return ReplanTrigger(trigger_type="unknown", trigger_raw=_clean(_safe_repr(raw)))


def _from_text(text: str, stage: str, when: datetime) -> ReplanTrigger:
    raw = _clean(text)
    stripped = text.strip()
    if stripped.startswith("{"):
        data = _json_object(stripped)
        if data is not None:
            return _from_mapping(data, stage, when, raw)
    head, rest = _pop_word(stripped)
    head, colon, after = head.partition(":")  # "type:stage reason"
    words = f"{head} {after} {rest}" if colon else stripped
    trigger_type, rest = _match_type(words)
    if trigger_type is None:
        return ReplanTrigger(stage_name=stage, reason=_text(stripped), timestamp=when, trigger_raw=raw)
    candidate, after_candidate = _pop_word(rest)
    if candidate and normalise(candidate[:64]) in STAGE_ORDER:
        stage, rest = normalise(candidate), after_candidate
    return ReplanTrigger(trigger_type=trigger_type, stage_name=stage, reason=_text(rest), timestamp=when,
                         trigger_raw=raw)


def _from_mapping(data: Mapping[Any, Any], stage: str, when: datetime, raw: str | None) -> ReplanTrigger:
    type_value = _first(data, _TYPE_KEYS)
    trigger_type = _canonical_type(_as_text(type_value)) if type_value is not None else None
    if "trigger_raw" in data and data["trigger_raw"] is not None:
        raw = _clean(_as_text(data["trigger_raw"]))
    elif raw is None:
        raw = _clean(_as_text(type_value) if type_value is not None else _safe_repr(dict(data)))
    stage_value = _first(data, ("stage_name", "stage"))
    metadata = data.get("metadata")
    return ReplanTrigger(
        trigger_type=trigger_type or "unknown",
        stage_name=_stage(stage_value) if stage_value is not None else stage,
        severity=severity_of(data.get("severity", "")),
        reason=_text(_first(data, ("reason", "message")) or ""),
        timestamp=_timestamp(data.get("timestamp"), when),
        metadata=_json_safe(metadata) if isinstance(metadata, Mapping) else {},
        trigger_raw=raw,
    )


def _match_type(text: str) -> tuple[str | None, str]:
    """The type named by the first words of ``text`` and the text after them.

    Longest first, so "blocked by policy" or "output too large" are not cut after one word.
    """
    for count in (3, 2, 1):
        words = text.split(None, count)
        trigger_type = _canonical_type("_".join(words[:count])) if len(words) >= count else None
        if trigger_type is not None:
            return trigger_type, words[count] if len(words) > count else ""
    return None, text


def _canonical_type(text: str) -> str | None:
    name = normalise(text[:200])  # type words are short; no need to scan a megabyte
    name = ALIASES.get(name, name)
    return name if name in TRIGGER_TYPES else None


def _first(data: Mapping[Any, Any], keys: tuple[str, ...]) -> Any:
    return next((data[key] for key in keys if data.get(key) is not None), None)


def _pop_word(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


def _stage(value: object) -> str:
    # Cut before re-stripping "_", so the result is stable when parsed again.
    return normalise(_as_text(value)[:200])[:STAGE_LIMIT].strip("_")


def _timestamp(value: object, fallback: datetime) -> datetime:
    if not isinstance(value, (datetime, str)) or (isinstance(value, str) and len(value) > 64):
        return fallback
    try:
        parsed = _DATETIME.validate_python(value)
        # A JSON round trip now makes model_dump(mode="json") parse back to an equal trigger later.
        return _DATETIME.validate_json(_DATETIME.dump_json(parsed))
    except Exception:
        return fallback


def _json_object(text: str) -> Mapping[Any, Any] | None:
    try:
        data = json.loads(text)
    except Exception:  # JSONDecodeError, RecursionError on deep nesting, ValueError on huge ints
        return None
    return data if isinstance(data, dict) else None


def _json_safe(metadata: Mapping[Any, Any]) -> dict[str, Any]:
    """``metadata`` as plain, valid-UTF-8 JSON values; ``{}`` when it cannot be made so or is too large."""
    try:
        text = _clean(json.dumps(dict(metadata), ensure_ascii=False, allow_nan=False, default=str), limit=None)
        if len(text.encode("utf-8")) > METADATA_LIMIT:
            return {}
        data = json.loads(text)
    except Exception:  # cycles, NaN, odd keys, deep nesting: drop rather than fail
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: object) -> str:
    """Trimmed, valid text within the field limit; stable when applied twice."""
    return _clean(_as_text(value).strip()).strip()


def _clean(text: str, limit: int | None = TEXT_LIMIT) -> str:
    # Lone surrogates are not valid UTF-8 and pydantic would reject them.
    text = text if limit is None else text[:limit]
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[: TEXT_LIMIT * 4]).decode("utf-8", errors="replace")
    try:
        return str(value)
    except Exception:
        return _safe_repr(value)


def _safe_repr(value: object) -> str:
    try:
        return repr(value)[:TEXT_LIMIT]
    except Exception:  # huge ints, deep nesting, hostile __repr__
        return f"<{type(value).__name__}>"
