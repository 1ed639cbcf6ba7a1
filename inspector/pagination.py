"""Paging for every list: bounded, and without null links."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.response import Response

# SQL OFFSET is a 64-bit integer (8 bytes in SQLite too); far beyond any real table.
MAX_OFFSET = 2**31
LINKS = ("next", "previous")


class LinksOnlyWhenThere:
    """Leaves ``next`` / ``previous`` out on the last / first page instead of answering null.

    So a page carries no null; the schema lists both links as optional URIs.
    Mix in before a DRF pagination class.
    """

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        for link in LINKS:
            if response.data.get(link) is None:
                response.data.pop(link, None)
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        for link in LINKS:
            paginated["properties"][link].pop("nullable", None)
            paginated["properties"][link]["description"] = f"Absent when there is no {link} page."
        return paginated


class BoundedLimitOffsetPagination(LinksOnlyWhenThere, LimitOffsetPagination):
    max_limit = 500

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)


class BoundedCursorPagination(LinksOnlyWhenThere, CursorPagination):
    """Cursor paging for the project's long, growing lists: stable under inserts, no COUNT(*).

    ``?limit=`` sets the page size up to ``max_page_size``. A subclass names its
    ``ordering`` (unique, ending in the primary key) and may change the sizes.
    """

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500
