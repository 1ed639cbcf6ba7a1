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
# A filtered count walks the list's index and tests each row against the filter until it has found the
# cap: with a filter half the rows pass (an asset version at 1M traces), 10,000 cost ~20,000 probes and
# ~40 ms of the page (issue 17). Filtered lists offer their first 2,000 rows; narrower filters reach more.
FILTERED_COUNT_CAP = 2_000


class LargeTablePaginator(Paginator):
    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is None:
            self.offered_rows = COUNT_CAP
            return super().count
        if not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [query.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > COUNT_CAP:
                self.offered_rows = COUNT_CAP
                return int(row[0])
        self.offered_rows = FILTERED_COUNT_CAP if query.where else COUNT_CAP
        # Counted in the database (SELECT COUNT(*) FROM (... LIMIT n)): fetching the keys cost more
        # than finding them.
        return self.object_list.values("pk")[: self.offered_rows + 1].count()

    @cached_property
    def num_pages(self) -> int:
        # Past the cap the count is an estimate or a cap, and a deep page would be
        # an OFFSET of up to a million rows (~0.5 s at 1M traces): offer the
        # first rows; filters or the API's cursor paging reach the rest.
        pages = super().num_pages
        return min(pages, max(1, self.offered_rows // self.per_page)) if self.count > self.offered_rows else pages
