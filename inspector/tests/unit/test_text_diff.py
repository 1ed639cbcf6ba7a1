"""Line diffs of changed text (inspector/text_diff.py): difflib's unified diff as signed lines."""

from inspector.text_diff import is_multiline, line_diff, sql_layout


def test_a_changed_line_is_one_removed_and_one_added_line_with_context():
    before = "\n".join(f"line {n}" for n in range(1, 11))
    after = before.replace("line 9", "line nine")
    assert line_diff(before, after) == [
        {"sign": "…", "text": ""},  # lines 1-5 are left out
        {"sign": " ", "text": "line 6"}, {"sign": " ", "text": "line 7"}, {"sign": " ", "text": "line 8"},
        {"sign": "-", "text": "line 9"}, {"sign": "+", "text": "line nine"},
        {"sign": " ", "text": "line 10"},
    ]


def test_changes_far_apart_are_two_hunks_with_a_gap_between():
    before = "\n".join(f"l{n}" for n in range(1, 21))
    after = before.replace("l1\n", "L1\n").replace("l20", "L20")
    signs = "".join(line["sign"] for line in line_diff(before, after, context=1))
    assert signs == "-+ … -+"


def test_equal_texts_give_no_lines_and_a_removed_sql_comment_is_not_taken_for_a_header():
    assert line_diff("same\ntext", "same\ntext") == []
    assert line_diff("-- why\nSELECT 1", "SELECT 1") == [{"sign": "-", "text": "-- why"}, {"sign": " ", "text": "SELECT 1"}]


def test_one_line_sql_is_laid_out_one_clause_per_line_without_changing_a_token():
    sql = "SELECT a, b FROM t WHERE a = :x AND b != 'info' ORDER BY a"
    laid_out = sql_layout(sql)
    assert laid_out.splitlines()[-3:] == ["WHERE a = :x", "  AND b != 'info'", "ORDER BY a"]
    assert "".join(laid_out.split()) == "".join(sql.split())  # whitespace only
    written = "SELECT a\nFROM t"
    assert sql_layout(written) == written  # already on several lines: kept as written


def test_is_multiline_ignores_a_trailing_newline():
    assert is_multiline("a\nb") and not is_multiline("one line\n") and not is_multiline(3)
