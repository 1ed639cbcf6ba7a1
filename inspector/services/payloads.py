"""Serialising stage payloads once: canonical JSON bytes, size and hash.

orjson (sorted keys) is used because ingest serialises every payload exactly
once and reuses the bytes for the content hash, the size and the compressed
copy; the standard library's encoder was the largest CPU cost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson


def canonical_json(value: Any) -> bytes:
    """Stable JSON bytes (sorted keys, compact) for hashing and storage."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)


def content_hash(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))  # length prefix: no ambiguity between parts
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class SerializedPayload:
    data: bytes
    size: int


def serialize_payload(value: dict[str, Any]) -> SerializedPayload:
    """Serialise a payload once: its JSON bytes and byte size (previews are cut on read: payload_preview)."""
    data = canonical_json(value)
    return SerializedPayload(data=data, size=len(data))
