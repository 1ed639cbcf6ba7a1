"""The regression app's admin: each screen lives in its own module, registered on import.

- ``admin_analyses``: analyses, their page (per-stage table, statistics, trace links);
- ``admin_golden``: golden queries (last run, **Run now**) and their runs (read-only);
- ``admin_suites``: golden suites and their run pages;
- ``admin_overrides`` and ``admin_trace_analysis``: the override screen and **Start analysis…** on the trace admin.
"""

from __future__ import annotations

from regression import (  # noqa: F401 — imported for their registrations
    admin_analyses,
    admin_golden,
    admin_overrides,
    admin_suites,
    admin_trace_analysis,
)
