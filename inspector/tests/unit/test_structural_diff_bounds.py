"""The structural diff's bounds: at most ``positional_items`` differing entries of a container are itemised,
the rest counted, and itemised + counted is exactly the number of differing entries, for every kind of
container (keyed, positional and scalar lists, mappings, nested lists). No timing here: benchmarks/regression.py
measures the speed."""

from __future__ import annotations

import random

import pytest

from inspector.structural_diff import DiffOptions, StructuralDiff, stage_output_diff, structural_diff

CAP = 10
BOUNDED = DiffOptions(positional_items=CAP)
UNBOUNDED = DiffOptions(positional_items=10**9)


def _children(diff: StructuralDiff, container: str) -> set[tuple[str, str]]:
    """The differing entries directly under ``container`` that the diff itemises: (side, token) pairs.

    Removed entries carry baseline pointers and the others candidate pointers, so a
    removed row and a changed row at the same index are two entries.
    """
    depth = container.count("/") + 1
    found: set[tuple[str, str]] = set()
    pointers = [("c", p) for p in diff["added"]] + [("b", p) for p in diff["removed"]]
    pointers += [("c", p) for p, _, _ in diff["changed"]]
    for side, pointer in pointers:
        if pointer.startswith(container + "/"):
            found.add((side, pointer.split("/")[depth]))
    return found


def _assert_counts_are_exact(before: dict, after: dict, container: str) -> dict:
    """Bounded and unbounded diffs of one pair: the cut container counts exactly the entries the full diff lists."""
    bounded, full = structural_diff(before, after, BOUNDED), structural_diff(before, after, UNBOUNDED)
    [cut] = [cut for cut in bounded["truncated"] if cut["pointer"] == container]
    assert full["truncated"] == []
    assert cut["differing_items"] == len(_children(full, container))
    assert cut["listed_items"] == CAP == len(_children(bounded, container))
    assert _children(bounded, container) <= _children(full, container)
    return cut


def test_keyed_list_counts_changed_added_and_removed_rows_exactly():
    rows = [{"id": f"ci-{i:04d}", "status": "active", "value": i} for i in range(300)]
    after = [{**row, "status": "down"} if i % 7 == 0 else row for i, row in enumerate(rows) if i % 11 != 5]
    after += [{"id": f"new-{i}", "status": "active", "value": 0} for i in range(13)]
    changed = len([i for i in range(300) if i % 7 == 0 and i % 11 != 5])
    removed = len([i for i in range(300) if i % 11 == 5])

    cut = _assert_counts_are_exact({"rows": rows}, {"rows": after}, "/rows")

    assert cut == {"pointer": "/rows", "positions": 300, "differing_items": changed + removed + 13, "listed_items": CAP}


def test_positional_list_counts_rows_past_the_limit_exactly_and_ignores_volatile_only_differences():
    rng = random.Random(3)
    rows = [{"id": i % 4, "value": rng.randrange(5), "elapsed_ms": 1, "meta": {"seen_at": 1}} for i in range(400)]
    after = [{**row, "value": rng.randrange(5), "elapsed_ms": 2, "meta": {"seen_at": 2}} for row in rows]
    after += [{"id": 0, "value": 1}] * 6
    really_differ = sum(1 for x, y in zip(rows, after) if x["value"] != y["value"]) + 6

    cut = _assert_counts_are_exact({"rows": rows}, {"rows": after}, "/rows")

    assert cut["differing_items"] == really_differ and cut["positions"] == 406


def test_mapping_with_many_differing_keys_is_cut_and_counted_too():
    before = {"by_host": {f"host-{i}": {"status": "up", "seen_at": i} for i in range(200)}}
    after = {"by_host": {f"host-{i}": {"status": "down" if i % 3 else "up", "seen_at": -i} for i in range(5, 230)}}

    cut = _assert_counts_are_exact(before, after, "/by_host")

    # 5 removed, 30 added, and of the 195 shared hosts the 130 whose status changed (seen_at is volatile).
    assert cut == {"pointer": "/by_host", "positions": 225, "differing_items": 5 + 30 + 130, "listed_items": CAP}


def test_list_of_scalars_is_cut_along_deepdiffs_alignment():
    before = [f"v{i}" for i in range(300)]
    after = list(before)
    for index in range(0, 300, 9):  # 34 insertions: aligned, 34 added items (by position almost all would differ)
        after.insert(index, f"new-{index}")

    cut = _assert_counts_are_exact({"tags": before}, {"tags": after}, "/tags")

    assert cut["differing_items"] == 34


def test_nested_lists_count_exactly_at_every_level():
    def groups(shift: int) -> list[dict]:
        # Groups are keyed by id; their members' ids repeat, so members are compared by position.
        # Every other member differs, in two fields.
        return [{"id": f"g{g}", "members": [{"id": m % 3, "v": m + shift * (m % 2), "w": shift * (m % 2)}
                                            for m in range(40)]} for g in range(30)]

    before, after = {"groups": groups(0)}, {"groups": groups(1)}
    bounded, full = structural_diff(before, after, BOUNDED), structural_diff(before, after, UNBOUNDED)

    # Each listed group spends 20 of the document's 10 x CAP changes (10 members, 2 fields each),
    # so 5 groups are itemised, not CAP; the other 25 are counted all the same.
    [top] = [cut for cut in bounded["truncated"] if cut["pointer"] == "/groups"]
    assert top == {"pointer": "/groups", "positions": 30, "differing_items": 30, "listed_items": 5}
    assert len(_children(full, "/groups")) == 30 and len(_children(bounded, "/groups")) == 5
    members = [cut for cut in bounded["truncated"] if cut["pointer"] != "/groups"]
    assert [cut["pointer"] for cut in members] == [f"/groups/{g}/members" for g in range(5)]
    assert all(cut["differing_items"] == 20 == len(_children(full, cut["pointer"])) for cut in members)
    assert all(cut["listed_items"] == CAP == len(_children(bounded, cut["pointer"])) for cut in members)
    assert len(bounded["changed"]) == 10 * CAP


def test_whole_document_budget_bounds_deeply_nested_differences():
    # 50 x 50 x 50 differing leaves: each container alone is within a cap of 50, the document is not.
    def cube(shift: int) -> dict:
        return {"a": {f"k{i}": {f"k{j}": {f"k{k}": i + j + k + shift for k in range(50)} for j in range(50)}
                      for i in range(50)}}

    diff = structural_diff(cube(0), cube(1), DiffOptions(positional_items=50))

    assert len(diff["changed"]) <= 50 * 10
    assert diff["truncated"] and all(cut["differing_items"] == 50 for cut in diff["truncated"])


def _every_row_differs(rows: int, changed: bool) -> dict:
    """benchmarks/regression.py's worst case: ~1 MB of keyed rows, each one different in the candidate."""
    status, shift = ("maintenance", 1) if changed else ("active", 0)
    return {"stage": "execute", "duration_ms": 5, "result": {"rows": [
        {"id": f"ci-{i:05d}", "name": f"host-{i}", "status": status, "owner": "platform", "location": "eu-west-1a",
         "value": i * 1.5 + shift, "note": "x" * 90} for i in range(rows)]}}


def test_one_megabyte_pair_where_every_row_differs_lists_at_most_the_cap_and_reports_the_truncation():
    diff = stage_output_diff(_every_row_differs(5000, False), _every_row_differs(5000, True), DiffOptions(),
                             max_operations=None)

    rows = {op["path"].split("/")[3] for op in diff["operations"]}
    assert len(rows) == 50 and diff["operation_count"] == 100  # status and value of each listed row
    assert diff["counts"] == {"replace": 100}
    assert diff["truncated"] == [{"pointer": "/result/rows", "positions": 5000, "differing_items": 5000,
                                  "listed_items": 50}]


@pytest.mark.parametrize("cap", [1, 7, 50])
def test_itemised_and_counted_rows_add_up_whatever_the_cap(cap):
    before, after = _every_row_differs(120, False), _every_row_differs(120, True)

    diff = structural_diff(before, after, DiffOptions(positional_items=cap))

    # With a cap of 1 a listed row's own two changes are cut too (/result/rows/0: one of two listed).
    [cut] = [cut for cut in diff["truncated"] if cut["pointer"] == "/result/rows"]
    listed_rows = {pointer.split("/")[3] for pointer, _, _ in diff["changed"]}
    assert cut["listed_items"] == len(listed_rows) == cap and cut["differing_items"] == 120


def test_within_the_cap_nothing_is_cut_or_lost():
    before, after = _every_row_differs(50, False), _every_row_differs(50, True)

    assert structural_diff(before, after) == structural_diff(before, after, UNBOUNDED)


@pytest.mark.parametrize("seed", range(8))
def test_lists_of_scalars_within_the_cap_are_itemised_as_deepdiff_itself_reports_them(seed):
    from deepdiff import DeepDiff

    rng = random.Random(seed)
    before = [f"v{rng.randrange(60)}" for _ in range(120)]
    after = list(before)
    for _ in range(rng.randrange(1, 12)):
        edit, index = rng.choice(("insert", "delete", "replace")), rng.randrange(len(after))
        if edit == "insert":
            after.insert(index, f"new{index}")
        elif edit == "delete":
            del after[index]
        else:
            after[index] = f"other{index}"
    raw = DeepDiff(before, after, view="tree", ignore_numeric_type_changes=True)
    expected = {"added": [], "removed": [], "changed": []}
    for kind, levels in raw.items():
        for level in levels:
            [index] = level.path(output_format="list", use_t2=kind != "iterable_item_removed")
            if kind == "iterable_item_added":
                expected["added"].append(f"/tags/{index}")
            elif kind == "iterable_item_removed":
                expected["removed"].append(f"/tags/{index}")
            else:
                expected["changed"].append((f"/tags/{index}", level.t1, level.t2))

    diff = structural_diff({"tags": before}, {"tags": after}, DiffOptions())

    assert diff["truncated"] == []
    assert sorted(diff["added"]) == sorted(expected["added"]) and sorted(diff["removed"]) == sorted(expected["removed"])
    assert sorted(diff["changed"]) == sorted(expected["changed"])


def test_long_list_of_scalars_with_many_scattered_edits_is_compared_by_position_and_cut():
    # difflib would rescan the list after each of the 1,200 matches (~1 min); past ALIGNMENT_STEPS it is not used.
    # Item 0 is deleted, so by position every one of the 60,000 positions differs.
    before = [f"id-{i}" for i in range(60_000)]
    after = [value for i, value in enumerate(before) if i % 50]

    diff = structural_diff({"ids": before}, {"ids": after}, DiffOptions())

    assert diff["truncated"] == [{"pointer": "/ids", "positions": 60_000, "differing_items": 60_000,
                                  "listed_items": 50}]
    assert len(diff["changed"]) == 50
