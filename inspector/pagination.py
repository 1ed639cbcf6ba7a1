"""Limit/offset paging that never lets a huge number reach the database."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

# SQL OFFSET is a 64-bit integer (8 bytes in SQLite too); far beyond any real table.
MAX_OFFSET = 2**31


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 500

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
