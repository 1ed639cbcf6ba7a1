"""The one structural diff of two JSON documents (stage outputs): pure, no ORM.

Every comparison of stage outputs uses it: the trace diff page and
``GET /inspector/traces/{id}/diff``, stage re-runs (``/ops/stage-test``),
regression analyses and ``/inspector/regression/stage-compare``.

deepdiff does the comparison; this module only prepares its input and maps
its paths back to RFC 6901 pointers. Preparation does four things:

* volatile keys (``DiffOptions.volatile_patterns``, whole-key regexes) are
  dropped, so durations, timestamps and trace ids never show up as changes;
* a list of objects that all carry one of ``DiffOptions.list_keys`` with
  unique values on both sides becomes a ``{key value: item}`` mapping, so an
  insertion at index 0 is one added item instead of N changed ones; any other
  list of objects becomes ``{index: item}`` (compared by position), and a list
  of scalars ``{pair: item}`` along deepdiff's own difflib alignment;
* entries equal on both sides are left out before deepdiff sees them: Python's
  ``==`` (in C) settles them, and deepdiff (~50 µs a node, in Python) only
  walks what differs;
* the work is bounded whatever the payload: of one container (mapping or
  list) at most ``DiffOptions.positional_items`` differing entries are handed
  to deepdiff, and of the whole document at most ``DOCUMENT_ITEMS_FACTOR``
  times that many changes; the differing entries past the limit are only
  counted (each as one, however much of it differs), and each cut
  container is reported in ``truncated`` (never dropped silently). Itemised
  plus counted entries are exactly the container's differing entries.

``stage_output_diff`` is the view every caller shows: operations ``add``
(``after``), ``remove`` (``before``) and ``replace`` (``before`` and
``after``), with the stage output's ``diagnostics`` left out (status, errors,
warnings and counts are compared on their own).

deepdiff's own ``iterable_compare_func`` was tried first; with it deepdiff 9
reports swapped baseline/candidate indices for matched items and stops using
difflib alignment for lists of scalars, so keyed matching is done here.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from operator import ne
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
    r"reply_to",  # an ask_user card names its own trace (inspector/pipeline/replies.py)
    r"(request|span|run|correlation|session|attempt)_id",
)
# Keys that identify an item of a list of objects, tried in order.
DEFAULT_LIST_KEYS: tuple[str, ...] = ("id", "entity_id", "event_id", "name")
# Top-level stage output keys left out: status, errors, warnings and counts are compared on their own.
DEFAULT_IGNORE_KEYS: tuple[str, ...] = ("diagnostics",)
DEFAULT_POSITIONAL_ITEMS = 50
# The whole document hands deepdiff at most this many times ``positional_items`` changes (nested
# containers each get up to ``positional_items`` entries, so without it the work would grow with the depth).
DOCUMENT_ITEMS_FACTOR = 10
# Most work difflib may do aligning two lists of scalars (see _matching_blocks), ~0.3 s of it;
# past it they are compared by position (a long list with many scattered edits is cut either way).
ALIGNMENT_STEPS = 500_000
MAX_OPERATIONS = 500  # operations listed by default; operation_count counts them all


@dataclass(frozen=True)
class DiffOptions:
    """What counts as a change, and how many differing entries of one container (list or mapping) are itemised."""

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
_BASIC_TYPES = frozenset(_BASIC)
_KEY_TYPES = frozenset((str, int))  # a list key's values: str or int, not bool


class Truncation(TypedDict):
    """A container (list or mapping) of which only the first ``listed_items`` differing entries were itemised."""

    pointer: str  # candidate pointer of the container
    positions: int  # the longer side's length (items or keys)
    differing_items: int
    listed_items: int  # the first differing items, itemised in added/removed/changed


class StructuralDiff(TypedDict):
    added: list[str]
    removed: list[str]
    changed: list[tuple[str, Any, Any]]
    truncated: list[Truncation]


class _Prepared(dict):
    """A container as deepdiff gets it: only its differing entries; ``positions`` maps keys back to list indices.

    Lists become mappings too (keyed by their key's value, or by index when
    compared by position), so equal items are left out without shifting the
    indices deepdiff reports. ``positions`` is ``None`` for a real mapping.
    """

    def __init__(self, items: dict[Any, Any], positions: dict[Any, int] | None = None) -> None:
        super().__init__(items)
        self.positions = positions


@dataclass
class _Context:
    """One diff's settings and what it has used up: the item budgets and the containers cut so far."""

    volatile: re.Pattern[str] | None
    list_keys: tuple[str, ...]
    per_container: int  # differing entries of one container handed to deepdiff
    left: int  # changes the whole document may still hand to deepdiff
    truncated: list[Truncation] = field(default_factory=list)
    _volatile_keys: dict[Any, bool] = field(default_factory=dict)

    def is_volatile(self, key: Any) -> bool:
        known = self._volatile_keys.get(key)
        if known is None:
            known = self._volatile_keys[key] = _is_volatile(key, self.volatile)
        return known

    def room(self, listed: int) -> bool:
        """May one more differing entry of a container that has ``listed`` itemised so far be itemised too?"""
        return listed < self.per_container and self.left > 0

    def take(self, listed: int) -> bool:
        """``room`` for one change (a changed value, an added or removed subtree), taken from the document's budget.

        Only such changes use up the budget; a pair of containers is itemised while
        some is left, so each itemised container lists at least one change of its own.
        """
        if not self.room(listed):
            return False
        self.left -= 1
        return True


def structural_diff(
    baseline: dict[str, Any], candidate: dict[str, Any], options: DiffOptions = DEFAULT_OPTIONS
) -> StructuralDiff:
    """Compare two documents; pointers of removed items are baseline pointers, the rest candidate pointers."""
    per_container = options.positional_items
    ctx = _Context(_volatile_regex(tuple(options.volatile_patterns)), tuple(options.list_keys), per_container,
                   per_container * DOCUMENT_ITEMS_FACTOR)
    prep_b, prep_c = _prepare_pair(baseline, candidate, ctx, "")
    # threshold_to_diff_deeper=0: only differing keys are left, and deepdiff 8+ would otherwise
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
            # No iterable_item_moved: lists reach deepdiff as mappings; keyed items are
            # matched by key, and their position shifting is a consequence, not a change.
    result["added"].sort(key=_pointer_sort_key)
    result["removed"].sort(key=_pointer_sort_key)
    result["changed"].sort(key=lambda item: _pointer_sort_key(item[0]))
    result["truncated"] = sorted(ctx.truncated, key=lambda cut: _pointer_sort_key(cut["pointer"]))
    return result


@lru_cache(maxsize=32)
def _volatile_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _is_volatile(key: Any, volatile: re.Pattern[str] | None) -> bool:
    return volatile is not None and isinstance(key, str) and volatile.fullmatch(key) is not None


def _prepare_pair(b: Any, c: Any, ctx: _Context, pointer: str) -> tuple[Any, Any]:
    """Prepare two differing values together, so matching sub-lists are keyed the same way on both sides.

    ``pointer`` is the candidate pointer of the pair, for the truncation records.
    """
    if isinstance(b, dict) and isinstance(c, dict):
        return _prepare_entries(b, c, ctx, pointer, skip_volatile=True)
    if isinstance(b, list) and isinstance(c, list):
        if _all_scalars(b) and _all_scalars(c):
            return _prepare_scalars(b, c, ctx, pointer)
        key = _shared_key(b, c, ctx.list_keys)
        # Keys are strings: deepdiff rewrites numeric dict keys when numeric type changes
        # are ignored. Positional items are keyed by index, keyed ones by the repr() of
        # their key's value (repr keeps 1 and "1" apart).
        if key is None:  # compared by position
            by_index_b, by_index_c = _by_index(b), _by_index(c)
            return _prepare_entries(by_index_b, by_index_c, ctx, pointer, skip_volatile=False,
                                    positions=(_positions(by_index_b), _positions(by_index_c)))
        by_key_b = {repr(item[key]): item for item in b}
        by_key_c = {repr(item[key]): item for item in c}
        return _prepare_entries(by_key_b, by_key_c, ctx, pointer, skip_volatile=False,
                                positions=(_positions(by_key_b), _positions(by_key_c)))
    return _prepare_one(b, ctx), _prepare_one(c, ctx)


def _by_index(items: list[Any]) -> dict[str, Any]:
    return {str(index): item for index, item in enumerate(items)}


def _positions(entries: dict[str, Any]) -> dict[str, int]:
    """Each key's index in the list the entries were made of (in list order)."""
    return {k: index for index, k in enumerate(entries)}


def _prepare_entries(
    b: dict, c: dict, ctx: _Context, pointer: str, *, skip_volatile: bool,
    positions: tuple[dict[Any, int], dict[Any, int]] | None = None,
) -> tuple[_Prepared, _Prepared]:
    """Keep only the entries that differ, itemising at most ``ctx.per_container`` of them; count the rest.

    Python's ``==`` (in C) settles equal entries at once, so deepdiff (which
    walks every node in Python, ~50 µs each) only sees what it itemises: on
    megabyte outputs where every row differs that is the difference between
    seconds and milliseconds. A pair of containers that differs only in volatile
    keys prepares to nothing and is left out; past the limit ``_same`` tells
    (stopping at the first real difference). Each differing entry past the
    limit is counted once, however much of it differs.
    """
    prep_b: dict = {}
    prep_c: dict = {}
    differing = listed = 0
    for k, value in b.items():
        if skip_volatile and ctx.is_volatile(k):
            continue
        if k in c:
            other = c[k]
            if value == other:
                continue
            if not _both_containers(value, other):  # a changed value or a changed type
                differing += 1
                if ctx.take(listed):
                    listed += 1
                    prep_b[k], prep_c[k] = _prepare_one(value, ctx), _prepare_one(other, ctx)
            elif ctx.room(listed):
                child = f"{pointer}/{positions[1][k] if positions else escape(str(k))}"
                child_b, child_c = _prepare_pair(value, other, ctx, child)
                if child_b or child_c:
                    differing += 1
                    listed += 1
                    prep_b[k], prep_c[k] = child_b, child_c
            elif not _same(value, other, ctx):
                differing += 1
        else:
            differing += 1
            if ctx.take(listed):
                listed += 1
                prep_b[k] = _prepare_one(value, ctx)
    for k, value in c.items():
        if k not in b and not (skip_volatile and ctx.is_volatile(k)):
            differing += 1
            if ctx.take(listed):
                listed += 1
                prep_c[k] = _prepare_one(value, ctx)
    if differing > listed:
        ctx.truncated.append({"pointer": pointer, "positions": max(len(b), len(c)),
                              "differing_items": differing, "listed_items": listed})
    positions_b, positions_c = positions if positions else (None, None)
    return _Prepared(prep_b, positions_b), _Prepared(prep_c, positions_c)


def _both_containers(b: Any, c: Any) -> bool:
    return (isinstance(b, dict) and isinstance(c, dict)) or (isinstance(b, list) and isinstance(c, list))


def _prepare_scalars(b: list, c: list, ctx: _Context, pointer: str) -> tuple[_Prepared, _Prepared]:
    """Two lists of scalars: the differing items as deepdiff would report them, at most ``ctx.per_container``.

    deepdiff aligns such lists with difflib (an insertion is one added item) and
    falls back to comparing by position when that reports no more items; the
    same choice is made here, so the itemised pairs are deepdiff's, handed to it
    as a mapping like a keyed list's (keys name the pair) and the rest counted.
    """
    shorter, longer = sorted((len(b), len(c)))
    by_position = [(i, i) for i in compress(range(shorter), map(ne, b, c))]  # map/compress: in C
    by_position += [(i if i < len(b) else None, i if i < len(c) else None) for i in range(shorter, longer)]
    aligned = _aligned_pairs(b, c) if len(by_position) > 1 else by_position
    pairs = by_position if aligned is None or (len(aligned) > 1 and len(aligned) >= len(by_position)) else aligned
    entries_b, entries_c, positions_b, positions_c = {}, {}, {}, {}
    listed = 0
    for i, j in pairs:
        if not ctx.take(listed):
            break
        listed += 1
        key = f"{'' if i is None else i}:{'' if j is None else j}"
        if i is not None:
            entries_b[key], positions_b[key] = b[i], i
        if j is not None:
            entries_c[key], positions_c[key] = c[j], j
    if len(pairs) > listed:
        ctx.truncated.append({"pointer": pointer, "positions": max(len(b), len(c)),
                              "differing_items": len(pairs), "listed_items": listed})
    return _Prepared(entries_b, positions_b), _Prepared(entries_c, positions_c)


def _aligned_pairs(b: list, c: list) -> list[tuple[int | None, int | None]] | None:
    """The differing items after difflib's alignment, as deepdiff reports them: (baseline index, candidate index).

    ``None`` when the lists have no value in common (difflib would pair the
    items by position, as the caller then does) or when the alignment would take
    more than ``ALIGNMENT_STEPS``; such lists are compared by position instead.
    """
    occurrences = Counter(c)
    hits = sum(map(occurrences.get, b, repeat(0))) if not occurrences.keys().isdisjoint(b) else 0
    if hits == 0:
        return None  # no value in common: difflib would pair the items by position too
    matcher = difflib.SequenceMatcher(None, b, c, autojunk=False)
    blocks = _matching_blocks(matcher, len(b), len(c), max(1.0, hits / len(b)))
    if blocks is None:
        return None
    matcher.matching_blocks = blocks  # get_opcodes() reads them from there
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(None, b, c, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # deepdiff compares a replaced block item by item; the longer side's excess is added or removed.
        for offset in range(max(i2 - i1, j2 - j1)):
            i = i1 + offset if i1 + offset < i2 else None
            j = j1 + offset if j1 + offset < j2 else None
            if i is None or j is None or b[i] != c[j]:
                pairs.append((i, j))
    return pairs


def _matching_blocks(matcher: difflib.SequenceMatcher, la: int, lb: int, hits_per_item: float) -> list | None:
    """``matcher.get_matching_blocks()``, the same loop as CPython's, given up after ``ALIGNMENT_STEPS``.

    Each ``find_longest_match`` scans its whole range of the baseline and, per
    item, every candidate position holding the same value; after each match the
    rest is searched again. Long lists of few distinct values (flags, small
    counts) or with many scattered edits would take minutes (60,000 ids with
    1,200 deletions: 52 s).
    """
    queue = [(0, la, 0, lb)]
    found = []
    steps = 0.0
    while queue:
        alo, ahi, blo, bhi = queue.pop()
        steps += (ahi - alo) * hits_per_item
        if steps > ALIGNMENT_STEPS:
            return None
        i, j, k = match = matcher.find_longest_match(alo, ahi, blo, bhi)
        if k:
            found.append(match)
            if alo < i and blo < j:
                queue.append((alo, i, blo, j))
            if i + k < ahi and j + k < bhi:
                queue.append((i + k, ahi, j + k, bhi))
    found.sort()
    # Adjacent blocks are merged, as difflib does.
    i1 = j1 = k1 = 0
    merged = []
    for i2, j2, k2 in found:
        if i1 + k1 == i2 and j1 + k1 == j2:
            k1 += k2
        else:
            if k1:
                merged.append(difflib.Match(i1, j1, k1))
            i1, j1, k1 = i2, j2, k2
    if k1:
        merged.append(difflib.Match(i1, j1, k1))
    merged.append(difflib.Match(la, lb, 0))
    return merged


def _same(b: Any, c: Any, ctx: _Context) -> bool:
    """Whether two values are equal once prepared: volatile keys ignored, keyed lists matched by key.

    Stops at the first real difference, so counting the differing items past the
    limit costs a few dictionary look-ups each, not a preparation.
    """
    if b == c:
        return True
    if isinstance(b, dict) and isinstance(c, dict):
        return _same_entries(b, c, ctx, skip_volatile=True)
    if isinstance(b, list) and isinstance(c, list):
        key = _shared_key(b, c, ctx.list_keys)
        if key is None:  # compared by position (scalars too: the first differing pair decides)
            return len(b) == len(c) and all(x == y or _same(x, y, ctx) for x, y in zip(b, c))
        return _same_entries({repr(item[key]): item for item in b}, {repr(item[key]): item for item in c}, ctx,
                             skip_volatile=False)
    return False


def _same_entries(b: dict, c: dict, ctx: _Context, *, skip_volatile: bool) -> bool:
    for k, value in b.items():
        if k in c:
            other = c[k]
            if value == other or (skip_volatile and ctx.is_volatile(k)):
                continue
            if _both_containers(value, other) and _same(value, other, ctx):
                continue
            return False
        if not (skip_volatile and ctx.is_volatile(k)):
            return False
    return all(skip_volatile and ctx.is_volatile(k) for k in c.keys() - b.keys())


def _prepare_one(node: Any, ctx: _Context) -> Any:
    """One side only (added, removed or type-changed subtree): just drop volatile keys."""
    if isinstance(node, dict):
        return {k: _prepare_one(v, ctx) for k, v in node.items() if not ctx.is_volatile(k)}
    if isinstance(node, list):
        return [_prepare_one(item, ctx) for item in node]
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
    kinds = set(map(type, values))  # in C; JSON values are never subclasses, isinstance checks the rest
    if not (kinds <= _KEY_TYPES or all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values)):
        return False
    return len(set(values)) == len(values)


def _all_scalars(items: list[Any]) -> bool:
    return set(map(type, items)) <= _BASIC_TYPES or all(isinstance(item, _BASIC) for item in items)


def _pointer(root: Any, path: list[Any]) -> str:
    """Turn a deepdiff path (walked on the prepared document it belongs to) into a pointer."""
    tokens: list[str] = []
    node = root
    for segment in path:
        if isinstance(node, _Prepared) and node.positions is not None:
            tokens.append(str(node.positions[segment]))
        else:
            tokens.append(escape(str(segment)))
        node = node[segment] if isinstance(node, (dict, list)) else None
    return "".join(f"/{token}" for token in tokens)


def _plain(node: Any) -> Any:
    """Undo preparation for a value reported back to the caller."""
    if isinstance(node, _Prepared) and node.positions is not None:
        positions = node.positions
        return [_plain(item) for _, item in sorted(node.items(), key=lambda kv: positions[kv[0]])]
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
    truncated: list[Truncation]  # containers whose differing entries were partly only counted


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
