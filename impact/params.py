"""The query string of an impact report (``?base=&target=&from=&to=&tenant=&include_test_mode=``), for the API and the screen."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from access.tenancy import scope_for
from inspector.timeparse import parse_moment
from kernel.errors import InvalidInput


def report_arguments(params: Mapping[str, str], *, user) -> dict[str, Any]:
    """``asset_impact``'s keyword arguments (all but the asset) for ``user``'s request.

    ``InvalidInput`` (a 400 naming the field) when ``from`` or ``to`` is not
    an ISO 8601 date or time, or ``include_test_mode`` is not ``true`` or
    ``false``; base, target and tenant are checked by the report.
    """
    return {"base": params.get("base"), "target": params.get("target"),
            "start": _moment(params.get("from"), "from"), "end": _moment(params.get("to"), "to"),
            "tenant": params.get("tenant", ""), "include_test_mode": include_test_mode(params),
            "scope": scope_for(user)}


def include_test_mode(params: Mapping[str, str]) -> bool:
    """``?include_test_mode=true|false`` (default false: production traffic only)."""
    raw = params.get("include_test_mode", "false")
    if raw not in ("true", "false"):
        raise InvalidInput("include_test_mode must be true or false", field="include_test_mode")
    return raw == "true"


def _moment(raw: str | None, field: str) -> datetime | None:
    try:
        return parse_moment(raw, end_of_day=field == "to")
    except ValueError as exc:
        raise InvalidInput(f"{field} must be an ISO 8601 date or time", field=field) from exc
