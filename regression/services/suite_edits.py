"""Saving golden suites and their items from validated changes (API bodies), tenant and uniqueness checked.

The request contracts (``regression/suite_contracts.py``) have validated the
values; what needs the database is checked here, before anything is
written: the tenant is the caller's, names are unique, the cron line parses
(``suite_check``) and a stage item's trace exists (``suite_item_check``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from access.tenancy import TenantScope
from kernel.errors import Conflict, InvalidInput
from regression.services.suites import suite_check, suite_item_check
from regression.suite_models import GoldenSuite, SuiteItem

UNIQUE_SUITE_NAME = "The fields tenant_id, name must make a unique set."  # the golden queries' message
UNIQUE_ITEM_NAME = "The fields suite, name must make a unique set."
RUN_INPUT = ("kind", "question", "stage", "trace_id")  # what an item runs: its baseline depends on them


def suite_save(*, suite: GoldenSuite, changes: dict[str, Any], scope: TenantScope) -> GoldenSuite:
    """Apply ``changes`` to ``suite`` (new or stored) and save it; nothing is written when a check fails."""
    for field, value in changes.items():
        setattr(suite, field, value)
    scope.require(suite.tenant_id)
    if suite.pk and "tenant_id" in changes and (suite.items.exists() or suite.runs.exists()):
        stored = GoldenSuite.objects.only("tenant_id").get(pk=suite.pk)
        if stored.tenant_id != suite.tenant_id:
            # Its stage items' traces, baselines and runs are traces of the tenant it is in.
            raise Conflict(f"suite {suite.name!r} has items or runs and stays in tenant {stored.tenant_id!r}; "
                           "make a new suite in the other tenant")
    if GoldenSuite.objects.filter(tenant_id=suite.tenant_id, name=suite.name).exclude(pk=suite.pk).exists():
        raise InvalidInput(UNIQUE_SUITE_NAME, field="non_field_errors")
    suite_check(suite=suite)
    with transaction.atomic():
        suite.save()  # the beat entry follows (regression.receivers)
    return suite


def suite_item_save(*, item: SuiteItem, changes: dict[str, Any]) -> SuiteItem:
    """Apply ``changes`` to ``item`` (new or stored), check it as a whole and save it.

    Changing what a stored item runs (kind, question, stage, trace) clears its
    baseline: traces of another input are no baseline for it; a run then asks
    for the baseline to be recorded again.
    """
    before = {field: getattr(item, field) for field in RUN_INPUT} if item.pk else None
    for field, value in changes.items():
        setattr(item, field, value)
    if "kind" in changes:
        # A changed kind leaves no stale fields of the other kind behind (unless sent: then they are refused).
        stale = ("stage", "trace_id") if item.kind == SuiteItem.Kind.QUESTION else ("question",)
        for field in stale:
            if field not in changes:
                setattr(item, field, "")
    if SuiteItem.objects.filter(suite=item.suite, name=item.name).exclude(pk=item.pk).exists():
        raise InvalidInput(UNIQUE_ITEM_NAME, field="name")
    suite_item_check(item=item)
    if before is not None and before != {field: getattr(item, field) for field in RUN_INPUT}:
        item.baseline_trace_ids = []
    item.save()
    return item


def suite_item_delete(*, item: SuiteItem) -> None:
    """Delete an item; refused (409) once it has results in a suite run (the suite's history)."""
    if item.results.exists():
        raise Conflict(f"item {item.name!r} has results in suite runs (the suite's history) and cannot be deleted; "
                       "make a new suite without it instead")
    item.delete()
