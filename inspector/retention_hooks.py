"""What other apps tell retention, registered in their ``AppConfig.ready`` (inspector imports none of them).

A trace is named as ``(pk, tenant_id, trace_id)``.

- A *keeper* takes old traces and returns the primary keys of those it still
  refers to (baselines, analyses, runs …): they are kept.
- A *dependents* hook takes the traces about to be deleted and returns
  ``(count name, queryset)`` steps for the rows of its app that name them;
  they are deleted, in order, before the traces. The count name is a field of
  ``PurgeCounts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import QuerySet

TraceKey = tuple[int, str, str]
Keeper = Callable[[list[TraceKey]], set[int]]
Dependents = Callable[[list[TraceKey]], Iterable[tuple[str, QuerySet]]]

_KEEPERS: dict[str, Keeper] = {}
_DEPENDENTS: dict[str, Dependents] = {}


def register_keeper(name: str, keeper: Keeper) -> None:
    _KEEPERS[name] = keeper


def register_dependents(name: str, dependents: Dependents) -> None:
    _DEPENDENTS[name] = dependents


def keepers() -> list[Keeper]:
    return list(_KEEPERS.values())


def dependents() -> list[Dependents]:
    return list(_DEPENDENTS.values())
