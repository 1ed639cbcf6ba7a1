"""Access errors: a tenant the user does not belong to."""

from __future__ import annotations

from kernel.errors import ServiceError


class TenantForbidden(ServiceError):
    status_code = 403
