"""JSON bodies with limits: size, nesting depth, string and list lengths.

Checked before any view code runs, so an oversized or hostile body is a
clear 4xx and never reaches validation or the database. orjson parses (it is
also what stores payloads); it refuses nesting beyond 1024 levels by itself,
the walk below enforces the configured, much lower limit.
"""

from __future__ import annotations

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from kernel.errors import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = getattr(view, "max_body_bytes", None) or settings.OPS_REQUEST_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"the request body exceeds the limit of {limit} bytes")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        problem = json_limit_violation(data, max_depth=settings.OPS_JSON_MAX_DEPTH,
                                       max_string=settings.OPS_JSON_MAX_STRING, max_items=settings.OPS_JSON_MAX_ITEMS)
        if problem:
            raise ParseError(problem)
        return data


def json_limit_violation(data, *, max_depth: int, max_string: int, max_items: int) -> str:
    """The first limit ``data`` breaks, as a message with its JSON pointer, or ``""``.

    Iterative, so a hostile depth cannot exhaust the Python stack.
    """
    stack = [(data, 1, "")]
    while stack:
        value, depth, pointer = stack.pop()
        if isinstance(value, str):
            if len(value) > max_string:
                return f"string at {pointer or '/'} is longer than {max_string} characters"
            if "\x00" in value:  # PostgreSQL cannot store NUL in text or jsonb
                return f"string at {pointer or '/'} contains a NUL character"
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > max_depth:
            return f"JSON nesting deeper than {max_depth} levels at {pointer or '/'}"
        if len(value) > max_items:
            return f"{'object' if isinstance(value, dict) else 'list'} at {pointer or '/'} has more than {max_items} items"
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > max_string:
                    return f"key at {pointer or '/'} is longer than {max_string} characters"
                if "\x00" in key:
                    return f"key at {pointer or '/'} contains a NUL character"
                stack.append((item, depth + 1, f"{pointer}/{key}"))
        else:
            stack.extend((item, depth + 1, f"{pointer}/{index}") for index, item in enumerate(value))
    return ""
