"""The query string of an impact report (``?base=&target=&from=&to=&tenant=``), read for the API and the screen."""

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
    an ISO 8601 date or time; base, target and tenant are checked by the report.
    """
    return {"base": params.get("base"), "target": params.get("target"),
            "start": _moment(params.get("from"), "from"), "end": _moment(params.get("to"), "to"),
            "tenant": params.get("tenant", ""), "scope": scope_for(user)}


def _moment(raw: str | None, field: str) -> datetime | None:
    try:
        return parse_moment(raw, end_of_day=field == "to")
    except ValueError as exc:
        raise InvalidInput(f"{field} must be an ISO 8601 date or time", field=field) from exc
