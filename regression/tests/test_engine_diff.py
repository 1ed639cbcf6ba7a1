"""inspector.structural_diff with the engine's options: volatile keys ignored, keyed list matching, pointers per RFC 6901."""

from __future__ import annotations

from inspector.structural_diff import structural_diff
from regression.engine import ScoringConfig
from regression.tests.test_engine_factories import rows

OPTIONS = ScoringConfig().diff_options()


def _doc(table: list[dict], **extra) -> dict:
    return {"result": {"tool_results": [{"tool": "sql", "rows": table, **extra}]}}


def test_insert_at_index_zero_of_keyed_rows_is_one_added_pointer():
    diff = structural_diff(_doc(rows(1, 2, 3)), _doc(rows(9, 1, 2, 3)), OPTIONS)

    assert diff == {"added": ["/result/tool_results/0/rows/0"], "removed": [], "changed": [], "truncated": []}


def test_insert_at_index_zero_without_keys_gives_positional_changes():
    before = [{"v": 1}, {"v": 2}, {"v": 3}]
    after = [{"v": 0}, {"v": 1}, {"v": 2}, {"v": 3}]

    diff = structural_diff({"rows": before}, {"rows": after}, OPTIONS)

    assert diff["added"] == ["/rows/3"]
    assert [pointer for pointer, _, _ in diff["changed"]] == ["/rows/0/v", "/rows/1/v", "/rows/2/v"]


def test_changed_field_of_moved_keyed_row_uses_candidate_index():
    before = rows(1, 2, 3)
    after = rows(9, 1, 2, 3)
    after[3]["name"] = "renamed"

    diff = structural_diff(_doc(before), _doc(after), OPTIONS)

    assert diff["added"] == ["/result/tool_results/0/rows/0"]
    assert diff["changed"] == [("/result/tool_results/0/rows/3/name", "svc-3", "renamed")]


def test_removed_keyed_row_uses_baseline_index():
    diff = structural_diff(_doc(rows(1, 2, 3)), _doc(rows(1, 3)), OPTIONS)

    assert diff == {"added": [], "removed": ["/result/tool_results/0/rows/1"], "changed": [], "truncated": []}


def test_rows_keyed_by_entity_id_when_no_id():
    before = [{"entity_id": "a", "score": 1}, {"entity_id": "b", "score": 2}]
    after = [{"entity_id": "c", "score": 0}] + before

    diff = structural_diff({"refs": before}, {"refs": after}, OPTIONS)

    assert diff["added"] == ["/refs/0"] and not diff["changed"]


def test_duplicate_key_values_fall_back_to_positions():
    before = [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}]
    after = [{"id": 1, "v": "b"}, {"id": 1, "v": "a"}]

    diff = structural_diff({"rows": before}, {"rows": after}, OPTIONS)

    assert [pointer for pointer, _, _ in diff["changed"]] == ["/rows/0/v", "/rows/1/v"]


def test_volatile_fields_are_ignored_at_any_depth():
    before = _doc(rows(1, 2), elapsed_ms=10, started_at="2025-01-01", request_id="r1")
    after = _doc(rows(1, 2), elapsed_ms=99, started_at="2025-06-01", request_id="r2")
    before["duration_ms"], after["duration_ms"] = 5, 500
    before["trace_id"], after["trace_id"] = "t1", "t2"

    assert structural_diff(before, after, OPTIONS) == {"added": [], "removed": [], "changed": [], "truncated": []}


def test_row_ids_are_content_not_volatile():
    diff = structural_diff({"row": {"id": 1}}, {"row": {"id": 2}}, OPTIONS)

    assert diff["changed"] == [("/row/id", 1, 2)]


def test_volatile_patterns_are_configurable():
    config = ScoringConfig.from_overrides({"volatile_patterns": ["score"]})

    diff = structural_diff({"score": 1, "elapsed_ms": 1}, {"score": 2, "elapsed_ms": 2}, config.diff_options())

    assert diff["changed"] == [("/elapsed_ms", 1, 2)]


def test_pointer_tokens_are_escaped():
    diff = structural_diff({"a/b": {"~c": 1}}, {"a/b": {"~c": 2}}, OPTIONS)

    assert diff["changed"] == [("/a~1b/~0c", 1, 2)]


def test_added_key_is_one_pointer_for_the_whole_subtree():
    diff = structural_diff({"result": {}}, {"result": {"extra": {"deep": [1, 2]}}}, OPTIONS)

    assert diff["added"] == ["/result/extra"]


def test_int_and_float_of_same_value_are_equal():
    assert structural_diff({"n": 1}, {"n": 1.0}, OPTIONS)["changed"] == []


def test_scalar_list_insertion_is_one_added_item():
    diff = structural_diff({"tags": ["a", "b"]}, {"tags": ["z", "a", "b"]}, OPTIONS)

    assert diff == {"added": ["/tags/0"], "removed": [], "changed": [], "truncated": []}


def test_nested_keyed_lists_inside_keyed_rows_are_matched_too():
    before = {"groups": [{"id": "g", "members": [{"id": 1}, {"id": 2}]}]}
    after = {"groups": [{"id": "new", "members": []}, {"id": "g", "members": [{"id": 0}, {"id": 1}, {"id": 2}]}]}

    diff = structural_diff(before, after, OPTIONS)

    assert diff["added"] == ["/groups/0", "/groups/1/members/0"]
    assert not diff["changed"] and not diff["removed"]


# Positional lists where nearly every item differs: the work is bounded (positional_diff_items).


def _positional_rows(count: int, shift: int = 0) -> list[dict]:
    # ids and names repeat, so no list key is unique and rows are compared by position.
    return [{"id": i % 7, "name": f"host-{i % 5}", "value": i + shift} for i in range(count)]


def test_positional_list_of_2000_all_different_rows_is_cut_after_the_limit():
    diff = structural_diff({"rows": _positional_rows(2000)}, {"rows": _positional_rows(2000, shift=1)}, OPTIONS)

    assert [pointer for pointer, _, _ in diff["changed"]] == [f"/rows/{i}/value" for i in range(50)]
    assert diff["changed"][0] == ("/rows/0/value", 0, 1)
    assert diff["truncated"] == [{"pointer": "/rows", "positions": 2000, "differing_items": 2000, "listed_items": 50}]


def test_cut_list_itemises_the_first_differing_items_with_their_real_indices_and_counts_the_tail():
    before = _positional_rows(300)
    after = _positional_rows(300) + [{"id": 1, "name": "extra", "value": 0}] * 5
    for i in range(0, 300, 3):  # every third row differs: 100, then 5 added rows
        after[i] = {**after[i], "name": "renamed"}

    diff = structural_diff({"result": {"rows": before}}, {"result": {"rows": after}}, OPTIONS)

    assert [pointer for pointer, _, _ in diff["changed"]] == [f"/result/rows/{i}/name" for i in range(0, 150, 3)]
    assert not diff["added"]
    assert diff["truncated"] == [
        {"pointer": "/result/rows", "positions": 305, "differing_items": 105, "listed_items": 50}
    ]


def test_positional_list_within_the_limit_is_diffed_in_full():
    diff = structural_diff({"rows": _positional_rows(50)}, {"rows": _positional_rows(50, shift=1)}, OPTIONS)

    assert len(diff["changed"]) == 50 and diff["truncated"] == []


def test_items_differing_only_in_volatile_keys_do_not_count_towards_the_limit():
    before = [{"id": 1, "v": i, "elapsed_ms": 1} for i in range(200)]
    after = [{"id": 1, "v": i, "elapsed_ms": 2} for i in range(200)]
    after[7]["v"] = -1

    diff = structural_diff({"rows": before}, {"rows": after}, OPTIONS)

    assert diff == {"added": [], "removed": [], "changed": [("/rows/7/v", 7, -1)], "truncated": []}


def test_lists_of_scalars_are_never_cut():
    diff = structural_diff({"tags": list(range(200))}, {"tags": list(range(1, 201))}, OPTIONS)

    assert diff["truncated"] == [] and diff["added"] == ["/tags/199"] and diff["removed"] == ["/tags/0"]


def test_positional_limit_is_configurable_but_never_below_what_saturates_the_structural_cap():
    before, after = {"rows": _positional_rows(200)}, {"rows": _positional_rows(200, shift=1)}

    small = structural_diff(before, after, ScoringConfig.from_overrides({"positional_diff_items": 5,
                                                                         "structural_change_cap": 4}).diff_options())
    raised = structural_diff(before, after, ScoringConfig.from_overrides({"positional_diff_items": 5,
                                                                          "structural_change_cap": 60}).diff_options())

    assert len(small["changed"]) == 5 and small["truncated"][0]["listed_items"] == 5
    assert len(raised["changed"]) == 30 and raised["truncated"][0]["listed_items"] == 30  # 60 / 2 per change


def test_cut_list_inside_a_keyed_row_is_reported_at_the_candidate_index():
    before = {"groups": [{"id": "g", "members": _positional_rows(100)}]}
    after = {"groups": [{"id": "new"}, {"id": "g", "members": _positional_rows(100, shift=1)}]}

    diff = structural_diff(before, after, OPTIONS)

    assert diff["added"] == ["/groups/0"]
    assert diff["changed"][0][0] == "/groups/1/members/0/value" and len(diff["changed"]) == 50
    assert diff["truncated"] == [
        {"pointer": "/groups/1/members", "positions": 100, "differing_items": 100, "listed_items": 50}
    ]


def test_keyed_rows_with_one_percent_changed_keep_every_row_change():
    # benchmarks/regression.py's pair shape: unique ids, so matching is by key and nothing is cut.
    before = [{"id": f"ci-{i:05d}", "status": "active", "value": i * 1.5} for i in range(5000)]
    after = [{**row, "status": "maintenance"} if i % 100 == 0 else row for i, row in enumerate(before)]

    diff = structural_diff({"result": {"rows": before}}, {"result": {"rows": after}}, OPTIONS)

    assert diff["changed"] == [(f"/result/rows/{i}/status", "active", "maintenance") for i in range(0, 5000, 100)]
    assert diff["truncated"] == [] and not diff["added"] and not diff["removed"]
