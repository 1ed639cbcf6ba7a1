"""structural_diff: volatile keys ignored, keyed list matching, pointers per RFC 6901."""

from __future__ import annotations

from regression.engine import ScoringConfig, structural_diff
from regression.tests.test_engine_factories import rows

CONFIG = ScoringConfig()


def _doc(table: list[dict], **extra) -> dict:
    return {"result": {"tool_results": [{"tool": "sql", "rows": table, **extra}]}}


def test_insert_at_index_zero_of_keyed_rows_is_one_added_pointer():
    diff = structural_diff(_doc(rows(1, 2, 3)), _doc(rows(9, 1, 2, 3)), CONFIG)

    assert diff == {"added": ["/result/tool_results/0/rows/0"], "removed": [], "changed": []}


def test_insert_at_index_zero_without_keys_gives_positional_changes():
    before = [{"v": 1}, {"v": 2}, {"v": 3}]
    after = [{"v": 0}, {"v": 1}, {"v": 2}, {"v": 3}]

    diff = structural_diff({"rows": before}, {"rows": after}, CONFIG)

    assert diff["added"] == ["/rows/3"]
    assert [pointer for pointer, _, _ in diff["changed"]] == ["/rows/0/v", "/rows/1/v", "/rows/2/v"]


def test_changed_field_of_moved_keyed_row_uses_candidate_index():
    before = rows(1, 2, 3)
    after = rows(9, 1, 2, 3)
    after[3]["name"] = "renamed"

    diff = structural_diff(_doc(before), _doc(after), CONFIG)

    assert diff["added"] == ["/result/tool_results/0/rows/0"]
    assert diff["changed"] == [("/result/tool_results/0/rows/3/name", "svc-3", "renamed")]


def test_removed_keyed_row_uses_baseline_index():
    diff = structural_diff(_doc(rows(1, 2, 3)), _doc(rows(1, 3)), CONFIG)

    assert diff == {"added": [], "removed": ["/result/tool_results/0/rows/1"], "changed": []}


def test_rows_keyed_by_entity_id_when_no_id():
    before = [{"entity_id": "a", "score": 1}, {"entity_id": "b", "score": 2}]
    after = [{"entity_id": "c", "score": 0}] + before

    diff = structural_diff({"refs": before}, {"refs": after}, CONFIG)

    assert diff["added"] == ["/refs/0"] and not diff["changed"]


def test_duplicate_key_values_fall_back_to_positions():
    before = [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}]
    after = [{"id": 1, "v": "b"}, {"id": 1, "v": "a"}]

    diff = structural_diff({"rows": before}, {"rows": after}, CONFIG)

    assert [pointer for pointer, _, _ in diff["changed"]] == ["/rows/0/v", "/rows/1/v"]


def test_volatile_fields_are_ignored_at_any_depth():
    before = _doc(rows(1, 2), elapsed_ms=10, started_at="2025-01-01", request_id="r1")
    after = _doc(rows(1, 2), elapsed_ms=99, started_at="2025-06-01", request_id="r2")
    before["duration_ms"], after["duration_ms"] = 5, 500
    before["trace_id"], after["trace_id"] = "t1", "t2"

    assert structural_diff(before, after, CONFIG) == {"added": [], "removed": [], "changed": []}


def test_row_ids_are_content_not_volatile():
    diff = structural_diff({"row": {"id": 1}}, {"row": {"id": 2}}, CONFIG)

    assert diff["changed"] == [("/row/id", 1, 2)]


def test_volatile_patterns_are_configurable():
    config = ScoringConfig.from_overrides({"volatile_patterns": ["score"]})

    diff = structural_diff({"score": 1, "elapsed_ms": 1}, {"score": 2, "elapsed_ms": 2}, config)

    assert diff["changed"] == [("/elapsed_ms", 1, 2)]


def test_pointer_tokens_are_escaped():
    diff = structural_diff({"a/b": {"~c": 1}}, {"a/b": {"~c": 2}}, CONFIG)

    assert diff["changed"] == [("/a~1b/~0c", 1, 2)]


def test_added_key_is_one_pointer_for_the_whole_subtree():
    diff = structural_diff({"result": {}}, {"result": {"extra": {"deep": [1, 2]}}}, CONFIG)

    assert diff["added"] == ["/result/extra"]


def test_int_and_float_of_same_value_are_equal():
    assert structural_diff({"n": 1}, {"n": 1.0}, CONFIG)["changed"] == []


def test_scalar_list_insertion_is_one_added_item():
    diff = structural_diff({"tags": ["a", "b"]}, {"tags": ["z", "a", "b"]}, CONFIG)

    assert diff == {"added": ["/tags/0"], "removed": [], "changed": []}


def test_nested_keyed_lists_inside_keyed_rows_are_matched_too():
    before = {"groups": [{"id": "g", "members": [{"id": 1}, {"id": 2}]}]}
    after = {"groups": [{"id": "new", "members": []}, {"id": "g", "members": [{"id": 0}, {"id": 1}, {"id": 2}]}]}

    diff = structural_diff(before, after, CONFIG)

    assert diff["added"] == ["/groups/0", "/groups/1/members/0"]
    assert not diff["changed"] and not diff["removed"]
