"""Numbers written in request parameters (path, query, asset references)."""

from __future__ import annotations

# Below 2**63, so any SQL integer parameter; and far below the 4,300 digits
# past which int() refuses a string.
MAX_DIGITS = 18


def is_natural(raw: str, *, minimum: int = 0) -> bool:
    """Whether ``raw`` is an integer >= ``minimum`` written in at most 18 ASCII digits.

    ``str.isdigit()`` alone also accepts characters such as "²" that ``int()``
    refuses, and digit strings too long for ``int()``: both were 500s.
    """
    return raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS and int(raw) >= minimum
