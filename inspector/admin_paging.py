"""A changelist paginator that never counts millions of rows.

After healthchecks' ``hc/api/admin.py``: on PostgreSQL an unfiltered count is
replaced by the planner's estimate; any count is capped by a timeout-free
``LIMIT`` probe so huge filtered lists still open fast.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class LargeTablePaginator(Paginator):
    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [query.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > COUNT_CAP:
                return int(row[0])
        # Counting a capped slice costs at most COUNT_CAP index entries.
        return len(self.object_list[: COUNT_CAP + 1].values_list("pk", flat=True)) if query is not None else super().count

    @cached_property
    def num_pages(self) -> int:
        # Past COUNT_CAP rows the count is an estimate or a cap, and a deep
        # page would be an OFFSET of up to a million rows (~0.5 s at 1M
        # traces): offer the first COUNT_CAP rows; filters or the API's cursor
        # paging reach the rest.
        pages = super().num_pages
        return min(pages, max(1, COUNT_CAP // self.per_page)) if self.count > COUNT_CAP else pages
