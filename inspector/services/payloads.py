"""Serialising stage payloads once: canonical JSON, byte size and a preview."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings


def canonical_json(value: Any) -> str:
    """Stable JSON text (sorted keys, compact) used for hashing and sizes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SerializedPayload:
    value: dict[str, Any]
    size: int
    preview: str


def serialize_payload(value: dict[str, Any]) -> SerializedPayload:
    """Measure a payload and cut a text preview of at most ``OPS_PREVIEW_CHARS``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    limit = settings.OPS_PREVIEW_CHARS
    preview = text if len(text) <= limit else text[:limit] + "…"
    return SerializedPayload(value=value, size=len(text.encode("utf-8")), preview=preview)
