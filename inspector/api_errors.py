"""One place that turns domain and validation errors into DRF responses.

Pattern after healthchecks' ``format_first_error``: clients get plain DRF
errors — ``{"detail": "..."}`` or ``{"field.path": ["message"]}``.
"""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kernel.errors import ServiceError

logger = logging.getLogger(__name__)


def pydantic_field_errors(exc: pydantic.ValidationError) -> dict[str, list[str]]:
    """Map pydantic errors to ``{"dotted.path": [messages]}`` (``non_field_errors`` for the root)."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        path = ".".join(str(part) for part in error["loc"]) or "non_field_errors"
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        errors.setdefault(path, []).append(message)
    return errors


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, pydantic.ValidationError):
        return Response(pydantic_field_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ServiceError):
        body: dict[str, Any] = {"detail": exc.message}
        if exc.field:
            body = {exc.field: [exc.message]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away (restart, failover, lost connection) or is
        # locked. Writes such as trace ingest run in one transaction, so nothing
        # half-done is kept; Django drops the broken connection and the next
        # request reconnects. Ingest is idempotent per trace_id: retrying is safe.
        logger.exception("database unavailable")
        return Response({"detail": "Database unavailable: the request was not completed. Retry shortly."},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return drf_exception_handler(exc, context)
