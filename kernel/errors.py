"""Domain errors raised by services; the API maps them to HTTP statuses."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of errors a client caused; ``status_code`` is the HTTP answer."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    status_code = 400


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class PayloadTooLarge(ServiceError):
    status_code = 413
