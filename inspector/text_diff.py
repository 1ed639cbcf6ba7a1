"""Line diffs of changed text for the screens: difflib's unified diff as signed lines. Pure.

A structural diff reports a changed string as one ``replace`` of the whole
value; for text on several lines (a prompt template, SQL, an answer) that
hides a one-line edit in two walls of text. Screens show the lines that
changed instead, with a little context, as ``-`` / ``+`` lines.

SQL written on one line (as query assets usually are) is first laid out one
clause per line by sqlparse (whitespace only: no token is changed), so an
added condition reads as one added line.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal, TypedDict

import sqlparse

CONTEXT_LINES = 3
_HUNK = re.compile(r"^@@ -(\d+)")


class DiffLine(TypedDict):
    sign: Literal[" ", "-", "+", "…"]  # "…" stands for unchanged lines left out
    text: str


def is_multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value.strip()


def sql_layout(sql: str) -> str:
    """``sql`` one clause per line; SQL already written on several lines is kept as it is."""
    if is_multiline(sql):
        return sql
    return sqlparse.format(sql, reindent=True)


def line_diff(before: str, after: str, *, context: int = CONTEXT_LINES) -> list[DiffLine]:
    """The lines of ``before`` removed and of ``after`` added, with ``context`` unchanged lines around each change.

    Unchanged lines left out between (or before) the changes are one ``…`` line.
    Equal texts give ``[]``.
    """
    lines: list[DiffLine] = []
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=context)
    # The first two lines are the ---/+++ file headers (a removed "-- comment" line looks like one).
    for line in list(diff)[2:]:
        hunk = _HUNK.match(line)
        if hunk:
            if lines or int(hunk.group(1)) > 1:
                lines.append({"sign": "…", "text": ""})
            continue
        sign = line[:1]
        lines.append({"sign": sign if sign in ("-", "+") else " ", "text": line[1:]})
    return lines
