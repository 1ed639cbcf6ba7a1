"""The override screen's expected changes (``override_screen.spec_changes``): list edits by item, text as lines.

Issue 19: ``route_rules@2 → @1`` showed ``remove /rules/3/keywords/6 "slow"``
three times (each RFC 6902 removal shifts the rest, so resolving every path
against the original spec repeats the first item), and an SQL change was one
whole-string replace.
"""

import copy

from regression.override_screen import spec_changes

RULES_V1 = {
    "template": "Classify: {question}",
    "rules": [
        {"intent": "greeting", "kind": "direct", "keywords": ["hello", "hi"]},
        {"intent": "metric_summary", "kind": "plan", "query": "metric_summary",
         "keywords": ["cpu", "memory", "latency", "error rate", "metrics", "load"]},
    ],
}
RULES_V2 = copy.deepcopy(RULES_V1)
RULES_V2["rules"][1]["keywords"] += ["slow", "performance", "health"]

SQL_V1 = "SELECT e.id, e.ts FROM event e WHERE e.ci_id = :ci_id AND e.ts >= :since ORDER BY e.ts DESC"
SQL_V2 = SQL_V1.replace("AND e.ts >= :since", "AND e.ts >= :since AND e.severity != 'info'")


def test_removed_list_items_are_each_named_at_their_index_in_the_version_the_trace_used():
    changes = spec_changes(RULES_V2, RULES_V1, asset_type="prompt")
    assert changes == [
        {"op": "remove", "path": "/rules/1/keywords/6", "before": "slow"},
        {"op": "remove", "path": "/rules/1/keywords/7", "before": "performance"},
        {"op": "remove", "path": "/rules/1/keywords/8", "before": "health"},
    ]


def test_added_list_items_are_named_at_their_index_in_the_chosen_version():
    changes = spec_changes(RULES_V1, RULES_V2, asset_type="prompt")
    assert [(c["op"], c["path"], c["after"]) for c in changes] == [
        ("add", "/rules/1/keywords/6", "slow"), ("add", "/rules/1/keywords/7", "performance"),
        ("add", "/rules/1/keywords/8", "health")]


def test_an_item_removed_in_the_middle_does_not_shift_the_others_into_changes():
    after = copy.deepcopy(RULES_V1)
    del after["rules"][1]["keywords"][1]  # "memory"
    assert spec_changes(RULES_V1, after, asset_type="prompt") == [
        {"op": "remove", "path": "/rules/1/keywords/1", "before": "memory"}]


def test_a_rule_inserted_first_is_one_added_rule_matched_by_intent():
    after = copy.deepcopy(RULES_V1)
    after["rules"].insert(0, {"intent": "refuse_write", "kind": "reject", "keywords": ["delete"]})
    changes = spec_changes(RULES_V1, after, asset_type="prompt")
    assert [(c["op"], c["path"]) for c in changes] == [("add", "/rules/0")]


def test_a_query_sql_change_carries_its_line_diff():
    (change,) = spec_changes({"sql": SQL_V1, "row_limit": 50}, {"sql": SQL_V2, "row_limit": 50}, asset_type="query")
    assert (change["op"], change["path"]) == ("replace", "/sql")
    assert change["before"] == SQL_V1 and change["after"] == SQL_V2
    assert [line for line in change["lines"] if line["sign"] in "+-"] == [
        {"sign": "+", "text": "  AND e.severity != 'info'"}]


def test_multi_line_text_carries_a_line_diff_and_other_values_do_not():
    before = {"template": "Answer briefly.\nCite the rows.\nNo guesses.", "max_blocks": 4}
    after = {"template": "Answer briefly.\nCite every row.\nNo guesses.", "max_blocks": 2}
    changes = {c["path"]: c for c in spec_changes(before, after, asset_type="prompt")}
    assert [(line["sign"], line["text"]) for line in changes["/template"]["lines"]] == [
        (" ", "Answer briefly."), ("-", "Cite the rows."), ("+", "Cite every row."), (" ", "No guesses.")]
    assert "lines" not in changes["/max_blocks"] and changes["/max_blocks"]["before"] == 4


def test_every_key_of_a_spec_counts_even_those_a_stage_output_diff_ignores():
    # Stage output diffs drop timestamps and "diagnostics"; in a spec they are content.
    changes = spec_changes({"diagnostics": 1, "created_at": "a"}, {"diagnostics": 2, "created_at": "b"},
                           asset_type="mapping")
    assert sorted(c["path"] for c in changes) == ["/created_at", "/diagnostics"]
    assert spec_changes(RULES_V1, copy.deepcopy(RULES_V1), asset_type="prompt") == []
