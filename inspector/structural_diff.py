"""The one structural diff of two JSON documents (stage outputs): pure, no ORM.

Every comparison of stage outputs uses it: the trace diff page and
``GET /inspector/traces/{id}/diff``, stage re-runs (``/ops/stage-test``),
regression analyses and ``/inspector/regression/stage-compare``.

deepdiff does the comparison; this module only prepares its input and maps
its paths back to RFC 6901 pointers. Preparation does three things:

* volatile keys (``DiffOptions.volatile_patterns``, whole-key regexes) are
  dropped, so durations, timestamps and trace ids never show up as changes;
* a list of objects that all carry one of ``DiffOptions.list_keys`` with
  unique values on both sides becomes a ``{key value: item}`` mapping, so an
  insertion at index 0 is one added item instead of N changed ones;
* a list of objects compared by position (no such key) in which more than
  ``DiffOptions.positional_items`` items differ is cut after the item that
  reaches the limit: deepdiff itemises those, the rest are only counted, and
  the cut is reported in ``truncated`` (never dropped silently).

``stage_output_diff`` is the view every caller shows: operations ``add``
(``after``), ``remove`` (``before``) and ``replace`` (``before`` and
``after``), with the stage output's ``diagnostics`` left out (status, errors,
warnings and counts are compared on their own).

deepdiff's own ``iterable_compare_func`` was tried first; with it deepdiff 9
reports swapped baseline/candidate indices for matched items and stops using
difflib alignment for lists of scalars, so keyed matching is done here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NotRequired, TypedDict

from deepdiff import DeepDiff
from jsonpointer import escape, resolve_pointer

# Keys whose values change from run to run of the same question. Patterns are
# matched against a whole dict key (re.fullmatch). Row `id`/`entity_id` are
# deliberately absent: they are content, and a different row is a real change.
DEFAULT_VOLATILE_PATTERNS: tuple[str, ...] = (
    r"duration_ms",
    r"elapsed_ms",
    r"latency_ms",
    r"took_ms",
    r"[a-z_]*_at",  # created_at, started_at, planned_at ... (the Django/Rails convention)
    r"timestamp",
    r"ts",
    r"(parent_)?trace_id",
    r"(request|span|run|correlation|session|attempt)_id",
)
# Keys that identify an item of a list of objects, tried in order.
DEFAULT_LIST_KEYS: tuple[str, ...] = ("id", "entity_id", "event_id", "name")
# Top-level stage output keys left out: status, errors, warnings and counts are compared on their own.
DEFAULT_IGNORE_KEYS: tuple[str, ...] = ("diagnostics",)
DEFAULT_POSITIONAL_ITEMS = 50
MAX_OPERATIONS = 500  # operations listed by default; operation_count counts them all


@dataclass(frozen=True)
class DiffOptions:
    """What counts as a change and how much of a positional list is itemised."""

    volatile_patterns: tuple[str, ...] = DEFAULT_VOLATILE_PATTERNS
    list_keys: tuple[str, ...] = DEFAULT_LIST_KEYS
    ignore_keys: tuple[str, ...] = DEFAULT_IGNORE_KEYS  # top-level keys, for stage_output_diff
    positional_items: int = DEFAULT_POSITIONAL_ITEMS


DEFAULT_OPTIONS = DiffOptions()

_ADDED = ("dictionary_item_added", "iterable_item_added")
_REMOVED = ("dictionary_item_removed", "iterable_item_removed")
_CHANGED = ("values_changed", "type_changes")
# deepdiff aligns lists of these with difflib; any other item makes it pair items by position.
_BASIC = (str, int, float, bool, type(None))


class Truncation(TypedDict):
    pointer: str  # candidate pointer of the list
    positions: int  # the longer side's length
    differing_items: int
    listed_items: int  # the first differing items, itemised in added/removed/changed


class StructuralDiff(TypedDict):
    added: list[str]
    removed: list[str]
    changed: list[tuple[str, Any, Any]]
    truncated: list[Truncation]


class _KeyedList(dict):
    """A list of objects re-shaped as ``{key value: item}``; ``positions`` maps key values back to indices."""

    def __init__(self, items: dict[Any, Any], positions: dict[Any, int]) -> None:
        super().__init__(items)
        self.positions = positions


class _TruncatedList(list):
    """The prefix of a positional list that deepdiff gets; the differing items after it were only counted."""

    def __init__(self, items: list[Any], positions: int, differing: int, listed: int) -> None:
        super().__init__(items)
        self.positions, self.differing, self.listed = positions, differing, listed


@dataclass
class _ListBound:
    """How many differing items of one positional list deepdiff may itemise, and how many lists were cut."""

    items: int
    cut: int = 0


def structural_diff(
    baseline: dict[str, Any], candidate: dict[str, Any], options: DiffOptions = DEFAULT_OPTIONS
) -> StructuralDiff:
    """Compare two documents; pointers of removed items are baseline pointers, the rest candidate pointers."""
    volatile = _volatile_regex(tuple(options.volatile_patterns))
    list_keys = tuple(options.list_keys)
    bound = _ListBound(options.positional_items)
    prep_b, prep_c = _prepare_pair(baseline, candidate, volatile, list_keys, bound)
    prep_b, prep_c = _prune_equal(prep_b, prep_c)
    # threshold_to_diff_deeper=0: pruning removes the shared keys, and deepdiff 8+ would otherwise
    # report a mapping with few shared keys as one whole change instead of item by item.
    tree = DeepDiff(prep_b, prep_c, view="tree", ignore_numeric_type_changes=True, threshold_to_diff_deeper=0)
    result: StructuralDiff = {"added": [], "removed": [], "changed": [], "truncated": []}
    for kind, levels in tree.items():
        for level in levels:
            if kind in _ADDED:
                result["added"].append(_pointer(prep_c, level.path(output_format="list", use_t2=True)))
            elif kind in _REMOVED:
                result["removed"].append(_pointer(prep_b, level.path(output_format="list")))
            elif kind in _CHANGED:
                pointer = _pointer(prep_c, level.path(output_format="list", use_t2=True))
                result["changed"].append((pointer, _plain(level.t1), _plain(level.t2)))
            # iterable_item_moved is ignored on purpose: keyed items are matched
            # by key, and their position shifting is a consequence, not a change.
    result["added"].sort(key=_pointer_sort_key)
    result["removed"].sort(key=_pointer_sort_key)
    result["changed"].sort(key=lambda item: _pointer_sort_key(item[0]))
    if bound.cut:
        cuts = _truncations(prep_b, prep_c, prep_c)
        result["truncated"] = sorted(cuts, key=lambda cut: _pointer_sort_key(cut["pointer"]))
    return result


def _truncations(b: Any, c: Any, root_c: Any, path: tuple[Any, ...] = ()) -> list[Truncation]:
    """The lists cut by ``_prepare_positional``, walking the parts prepared on both sides."""
    found: list[Truncation] = []
    if isinstance(c, _TruncatedList):
        found.append({"pointer": _pointer(root_c, list(path)), "positions": c.positions,
                      "differing_items": c.differing, "listed_items": c.listed})
    if isinstance(b, dict) and isinstance(c, dict):
        for key, value in c.items():
            if key in b:
                found += _truncations(b[key], value, root_c, (*path, key))
    elif isinstance(b, list) and isinstance(c, list):
        for index, (x, y) in enumerate(zip(b, c)):
            found += _truncations(x, y, root_c, (*path, index))
    return found


def _prune_equal(b: Any, c: Any) -> tuple[Any, Any]:
    """Drop mapping entries equal on both sides before deepdiff sees them.

    deepdiff walks every node in Python; on megabyte outputs where 1% changed
    that took seconds. Python's own ``==`` (in C) settles the equal subtrees,
    so deepdiff only walks the parts that differ. Keyed lists keep their
    positions, so pointers stay right; positional lists are left whole because
    dropping items would shift the indices deepdiff reports.
    """
    if not (isinstance(b, dict) and isinstance(c, dict)):
        return b, c
    kept_b, kept_c = {}, {}
    for key, value in b.items():
        if key in c and value == c[key]:
            continue
        if key in c:
            kept_b[key], kept_c[key] = _prune_equal(value, c[key])
        else:
            kept_b[key] = value
    for key, value in c.items():
        if key not in b:
            kept_c[key] = value
    if isinstance(b, _KeyedList):
        return _KeyedList(kept_b, b.positions), _KeyedList(kept_c, c.positions)  # type: ignore[attr-defined]
    return kept_b, kept_c


@lru_cache(maxsize=32)
def _volatile_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _is_volatile(key: Any, volatile: re.Pattern[str] | None) -> bool:
    return volatile is not None and isinstance(key, str) and volatile.fullmatch(key) is not None


def _prepare_pair(
    b: Any, c: Any, volatile: re.Pattern[str] | None, keys: tuple[str, ...], bound: _ListBound
) -> tuple[Any, Any]:
    """Prepare both sides together so matching sub-lists are keyed the same way on both."""
    if isinstance(b, dict) and isinstance(c, dict):
        return _prepare_mappings(b, c, volatile, keys, bound)
    if isinstance(b, list) and isinstance(c, list):
        key = _shared_key(b, c, keys)
        if key is None:
            return _prepare_positional(b, c, volatile, keys, bound)
        return _prepare_keyed(b, c, key, volatile, keys, bound)
    return _prepare_one(b, volatile), _prepare_one(c, volatile)


def _prepare_mappings(
    b: dict, c: dict, volatile: re.Pattern[str] | None, keys: tuple[str, ...], bound: _ListBound, *,
    skip_volatile: bool = True,
) -> tuple[dict, dict]:
    """Prepare two mappings; entries equal on both sides are left out altogether.

    Python's ``==`` (in C) settles equal subtrees at once, so only the parts
    that differ are prepared and handed to deepdiff — on megabyte outputs
    where a few rows changed, that is the difference between seconds and
    milliseconds. Leaving them out loses nothing: equal entries have no diff.
    """
    prep_b: dict = {}
    prep_c: dict = {}
    for k, value in b.items():
        if skip_volatile and _is_volatile(k, volatile):
            continue
        if k not in c:
            prep_b[k] = _prepare_one(value, volatile)
        elif value != c[k]:
            prep_b[k], prep_c[k] = _prepare_pair(value, c[k], volatile, keys, bound)
    for k, value in c.items():
        if k not in b and not (skip_volatile and _is_volatile(k, volatile)):
            prep_c[k] = _prepare_one(value, volatile)
    return prep_b, prep_c


def _prepare_positional(
    b: list, c: list, volatile: re.Pattern[str] | None, keys: tuple[str, ...], bound: _ListBound
) -> tuple[list, list]:
    # deepdiff pairs unhashable items by position, so nested lists are keyed
    # against the item at the same index on the other side.
    pairs = [_prepare_pair(x, y, volatile, keys, bound) for x, y in zip(b, c)]
    end = max(len(b), len(c))
    differing: list[int] = []
    if not all(isinstance(item, _BASIC) for side in (b, c) for item in side):
        # Prepared items compare equal when only volatile keys differ; every
        # position past the shorter side is an added or removed item.
        differing = [i for i, (x, y) in enumerate(pairs) if x != y] + list(range(len(pairs), end))
        if len(differing) > bound.items:
            end = differing[bound.items - 1] + 1
    prep_b = [p[0] for p in pairs[:end]] + [_prepare_one(x, volatile) for x in b[len(c) : end]]
    prep_c = [p[1] for p in pairs[:end]] + [_prepare_one(y, volatile) for y in c[len(b) : end]]
    if len(differing) <= bound.items:
        return prep_b, prep_c
    bound.cut += 1
    positions, listed = max(len(b), len(c)), bound.items
    return (_TruncatedList(prep_b, positions, len(differing), listed),
            _TruncatedList(prep_c, positions, len(differing), listed))


def _prepare_keyed(
    b: list, c: list, key: str, volatile: re.Pattern[str] | None, keys: tuple[str, ...], bound: _ListBound
) -> tuple[_KeyedList, _KeyedList]:
    # Keys are repr()s: deepdiff rewrites numeric dict keys when numeric type
    # changes are ignored, and repr keeps 1 and "1" apart.
    by_key_b = {repr(item[key]): item for item in b}
    by_key_c = {repr(item[key]): item for item in c}
    items_b, items_c = _prepare_mappings(by_key_b, by_key_c, volatile, keys, bound, skip_volatile=False)
    positions_b = {repr(item[key]): index for index, item in enumerate(b)}
    positions_c = {repr(item[key]): index for index, item in enumerate(c)}
    return _KeyedList(items_b, positions_b), _KeyedList(items_c, positions_c)


def _prepare_one(node: Any, volatile: re.Pattern[str] | None) -> Any:
    """One side only (added, removed or type-changed subtree): just drop volatile keys."""
    if isinstance(node, dict):
        return {k: _prepare_one(v, volatile) for k, v in node.items() if not _is_volatile(k, volatile)}
    if isinstance(node, list):
        return [_prepare_one(item, volatile) for item in node]
    return node


def _shared_key(b: list, c: list, keys: tuple[str, ...]) -> str | None:
    """First key every object on both sides carries with a scalar value unique within its side."""
    items = b + c
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in keys:
        if all(_unique_scalar_values(side, key) for side in (b, c)):
            return key
    return None


def _unique_scalar_values(items: list[dict], key: str) -> bool:
    values = [item.get(key) for item in items]
    if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
        return False
    return len(set(values)) == len(values)


def _pointer(root: Any, path: list[Any]) -> str:
    """Turn a deepdiff path (walked on the prepared document it belongs to) into a pointer."""
    tokens: list[str] = []
    node = root
    for segment in path:
        if isinstance(node, _KeyedList):
            tokens.append(str(node.positions[segment]))
        else:
            tokens.append(escape(str(segment)))
        node = node[segment] if isinstance(node, (dict, list)) else None
    return "".join(f"/{token}" for token in tokens)


def _plain(node: Any) -> Any:
    """Undo preparation for a value reported back to the caller."""
    if isinstance(node, _KeyedList):
        ordered = sorted(node.items(), key=lambda kv: node.positions[kv[0]])
        return [_plain(item) for _, item in ordered]
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _pointer_sort_key(pointer: str) -> list[tuple[int, Any]]:
    # Numeric tokens sort numerically so /rows/10 comes after /rows/2.
    return [(0, int(t)) if t.isdigit() else (1, t) for t in pointer.split("/")]


class Operation(TypedDict):
    """One change: ``add`` carries ``after``, ``remove`` ``before``, ``replace`` both."""

    op: Literal["add", "remove", "replace"]
    path: str  # RFC 6901; a baseline pointer for ``remove``, a candidate pointer otherwise
    before: NotRequired[Any]
    after: NotRequired[Any]


class StageOutputDiff(TypedDict):
    changed: bool
    operation_count: int
    counts: dict[str, int]  # per op, only the ops that occur
    operations: list[Operation]  # the first ``max_operations``
    truncated: list[Truncation]  # positional lists whose differing items were partly only counted


def stage_output_diff(
    baseline: dict[str, Any], candidate: dict[str, Any], options: DiffOptions = DEFAULT_OPTIONS, *,
    max_operations: int | None = MAX_OPERATIONS,
) -> StageOutputDiff:
    """Diff two stage outputs (``options.ignore_keys`` left out) as operations: adds, then removes, then replaces.

    Each group is in pointer order. ``operation_count`` counts every operation,
    also those past ``max_operations`` (``None``: all are listed, as scoring needs).
    """
    ignored = set(options.ignore_keys)
    before = {k: v for k, v in baseline.items() if k not in ignored}
    after = {k: v for k, v in candidate.items() if k not in ignored}
    diff = structural_diff(before, after, options)
    operations: list[Operation] = [{"op": "add", "path": p, "after": resolve_pointer(after, p, None)}
                                   for p in diff["added"]]
    operations += [{"op": "remove", "path": p, "before": resolve_pointer(before, p, None)} for p in diff["removed"]]
    operations += [{"op": "replace", "path": p, "before": old, "after": new} for p, old, new in diff["changed"]]
    counts = {op: n for op, n in (("add", len(diff["added"])), ("remove", len(diff["removed"])),
                                  ("replace", len(diff["changed"]))) if n}
    listed = operations if max_operations is None else operations[:max_operations]
    return {"changed": bool(operations), "operation_count": len(operations), "counts": counts,
            "operations": listed, "truncated": diff["truncated"]}
