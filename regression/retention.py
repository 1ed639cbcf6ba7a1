"""Retention's keeper for regression: traces that baselines, runs, override tests, analyses or suites refer to.

Registered with ``inspector.retention_hooks`` in ``RegressionConfig.ready``.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

from inspector.retention_hooks import TraceKey
from regression.models import Baseline, OverrideTest, RegressionAnalysis, RegressionRun, SuiteItem


def traces_referenced(traces: list[TraceKey]) -> set[int]:
    """Primary keys among ``traces`` that baselines, runs, override tests, analyses or suite items refer to.

    Suite items refer to traces before any run does: their recorded baseline
    runs, and for a stage item the stored trace whose stage is re-run.
    """
    pks = {pk for pk, _, _ in traces}
    found: set[int] = set(Baseline.objects.filter(trace_id__in=pks).values_list("trace_id", flat=True))
    found |= set(RegressionRun.objects.filter(candidate_trace_id__in=pks).values_list("candidate_trace_id", flat=True))
    for field in ("trace_id", "baseline_trace_id", "candidate_trace_id"):
        found |= set(OverrideTest.objects.filter(**{f"{field}__in": pks}).values_list(field, flat=True))
    trace_ids = sorted({trace_id for _, _, trace_id in traces})
    listed = _referenced_by_analyses(trace_ids) | _referenced_by_suite_items(trace_ids)
    found |= {pk for pk, tenant_id, trace_id in traces if (tenant_id, trace_id) in listed or ("", trace_id) in listed}
    return found & pks


def _referenced_by_analyses(trace_ids: list[str]) -> set[tuple[str, str]]:
    """``(analysis tenant, trace id)`` for the ``trace_ids`` listed on either side of any regression analysis.

    The id lists are JSON arrays. PostgreSQL tests each row with ``?|`` (any of
    these strings is an element; ``has_any_keys``), SQLite expands the arrays
    with ``json_each``; either way the database answers, not Python.
    """
    analysis = RegressionAnalysis
    wanted = set(trace_ids)
    if connection.vendor == "postgresql":
        rows = analysis.objects.filter(
            Q(baseline_trace_ids__has_any_keys=trace_ids) | Q(candidate_trace_ids__has_any_keys=trace_ids)
        ).values_list("tenant_id", "baseline_trace_ids", "candidate_trace_ids")
        return {(tenant_id, trace_id) for tenant_id, *sides in rows for side in sides for trace_id in side
                if trace_id in wanted}
    if connection.vendor == "sqlite":
        table = connection.ops.quote_name(analysis._meta.db_table)
        marks = ", ".join(["%s"] * len(trace_ids))
        sql = " UNION ".join(
            f"SELECT a.tenant_id, j.value FROM {table} AS a, json_each(a.{column}) AS j WHERE j.value IN ({marks})"
            for column in ("baseline_trace_ids", "candidate_trace_ids")
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*trace_ids, *trace_ids])
            return {(row[0], row[1]) for row in cursor.fetchall()}
    # Any other database: read the lists (slow, but correct).
    found: set[tuple[str, str]] = set()
    rows = analysis.objects.values_list("tenant_id", "baseline_trace_ids", "candidate_trace_ids")
    for tenant_id, *sides in rows.iterator(chunk_size=2000):
        found |= {(tenant_id, trace_id) for side in sides for trace_id in side if trace_id in wanted}
    return found


def _referenced_by_suite_items(trace_ids: list[str]) -> set[tuple[str, str]]:
    """``(suite tenant, trace id)`` for the ``trace_ids`` a suite item re-runs or holds as a baseline run."""
    wanted = set(trace_ids)
    found = set(SuiteItem.objects.filter(trace_id__in=trace_ids).values_list("suite__tenant_id", "trace_id"))
    if connection.vendor == "postgresql":
        rows = (SuiteItem.objects.filter(baseline_trace_ids__has_any_keys=trace_ids)
                .values_list("suite__tenant_id", "baseline_trace_ids"))
        return found | {(tenant_id, trace_id) for tenant_id, ids in rows for trace_id in ids if trace_id in wanted}
    # Suite items are a curated dataset (hundreds of rows, not millions): reading their lists is cheap.
    rows = SuiteItem.objects.exclude(baseline_trace_ids=[]).values_list("suite__tenant_id", "baseline_trace_ids")
    return found | {(tenant_id, trace_id) for tenant_id, ids in rows.iterator(chunk_size=2000) for trace_id in ids
                    if trace_id in wanted}
