"""Previews cut on read from the head of a zlib-compressed payload (inspector/payload_preview.py)."""

import os
import zlib

import orjson
from hypothesis import given
from hypothesis import strategies as st

from inspector.payload_preview import compressed_head_bytes, preview_from_compressed_head, preview_text

LIMIT = 200


def stored(value) -> tuple[bytes, int]:
    data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return zlib.compress(data, 1), len(data)


def head_preview(value, limit: int = LIMIT) -> str:
    blob, size = stored(value)
    return preview_from_compressed_head(blob[: compressed_head_bytes(limit)], size=size, limit=limit)


def test_a_small_payload_is_shown_whole():
    value = {"rows": [{"id": "app-001"}]}
    assert head_preview(value) == orjson.dumps(value).decode()


def test_a_large_payload_is_cut_at_the_limit_with_an_ellipsis():
    preview = head_preview({"padding": "x" * 50_000})
    assert preview == '{"padding":"' + "x" * (LIMIT - 12) + "…"


def test_incompressible_payloads_still_fill_the_preview_from_the_head_alone():
    # Random bytes as hex: deflate gains little, the worst case for "how many compressed bytes".
    preview = head_preview({"noise": os.urandom(40_000).hex()})
    assert len(preview) == LIMIT + 1 and preview.endswith("…")


def test_multibyte_text_is_cut_by_characters_not_bytes():
    preview = head_preview({"text": "é" * 1000})
    assert preview == '{"text":"' + "é" * (LIMIT - 9) + "…"


def test_a_payload_of_few_characters_but_more_bytes_than_the_limit_is_whole():
    value = {"t": "€" * 60}  # 67 characters, 187 bytes
    assert head_preview(value, limit=100) == orjson.dumps(value).decode()


def test_no_head_gives_an_empty_preview():
    assert preview_from_compressed_head(None, size=0, limit=LIMIT) == ""
    assert preview_from_compressed_head(b"", size=0, limit=LIMIT) == ""


def test_rare_characters_whose_huffman_codes_are_long_still_fill_the_preview():
    # Found by the property below: level 1 writes a dynamic Huffman block whose code tables and long
    # codes for rare characters take more compressed bytes than the text they decode to.
    value = {"text": "𝐀𝐙𝐚𝐛𝐝𝐞𝐟𝐠𝐡𝐢𝐣𝐤𝐥𝐦𝐧𝐨𝌀"}
    assert head_preview(value, limit=1) == "{…"


@given(st.text(max_size=3000), st.integers(min_value=1, max_value=400))
def test_the_preview_from_the_head_equals_the_preview_of_the_whole_payload(text, limit):
    value = {"text": text}
    blob, size = stored(value)
    whole = zlib.decompress(blob)
    assert head_preview(value, limit) == preview_text(whole, size=size, limit=limit)
    assert head_preview(value, limit).rstrip("…") == whole.decode()[: len(head_preview(value, limit).rstrip("…"))]
