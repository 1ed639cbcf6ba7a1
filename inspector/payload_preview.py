"""Previews of stage payloads, cut from the head of the stored compressed bytes.

A preview is the first ``OPS_PREVIEW_CHARS`` characters of the payload's
canonical JSON. It used to be stored beside the payload, which for the common
small payloads (a few KB) stored every payload twice: the preview columns were
47 % of a trace's bytes (docs/performance.md, "Bytes per trace"). Now it is
decoded on read from the first bytes of the compressed payload: the database
sends only that head (``SUBSTRING``; the payload columns are stored
``EXTERNAL``, uncompressed by PostgreSQL, so a slice reads only the TOAST
chunks it needs) and zlib decodes a truncated stream as far as it goes.
"""

from __future__ import annotations

import zlib

# A character takes at most 4 UTF-8 bytes; one more character tells whether the text goes on.
_BYTES_PER_CHAR = 4


def preview_bytes(limit: int) -> int:
    """Decoded bytes that always hold ``limit`` characters and the one after them."""
    return (limit + 1) * _BYTES_PER_CHAR


def compressed_head_bytes(limit: int) -> int:
    """Compressed bytes to read for a preview of ``limit`` characters.

    Enough for the worst prefix deflate can write, so that they always decode
    to at least ``preview_bytes(limit)`` bytes or to the whole payload: a
    symbol's code is at most 15 bits and yields at least one byte (so under
    2 bytes a byte), and each block opens with code tables of under 300 bytes;
    zlib ends a block only when its 16,383-symbol buffer is full, so a block
    before the last yields at least 16,383 bytes. The stream header is 2.
    """
    wanted = preview_bytes(limit)
    return 2 * wanted + 300 * (wanted // 16_383 + 1) + 2


def preview_text(data: bytes, *, size: int, limit: int) -> str:
    """The first ``limit`` characters of JSON ``data`` (the head of a payload of ``size`` bytes), "…" when cut."""
    head = data[: preview_bytes(limit)].decode("utf-8", errors="ignore")
    if len(data) >= size and len(head) <= limit:
        return head  # the whole payload fits
    return head[:limit] + "…"


def preview_from_compressed_head(head: bytes | memoryview | None, *, size: int, limit: int) -> str:
    """The preview of a payload of ``size`` JSON bytes from the first bytes of its zlib stream."""
    if not head:
        return ""
    data = zlib.decompressobj().decompress(bytes(head), preview_bytes(limit))
    return preview_text(data, size=size, limit=limit)
