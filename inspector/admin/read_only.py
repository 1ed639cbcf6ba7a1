"""What the trace admins share: stored traces are shown, never edited."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """Stored traces are evidence: they are viewed, never edited in the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
