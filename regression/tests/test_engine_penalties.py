"""compare_stage: one crafted pair per non-critical penalty, plus improvements that cost nothing."""

from __future__ import annotations

import random

import pytest

from regression.engine import ScoringConfig, compare_pair, compare_stage
from regression.tests.test_engine_factories import rows, snapshot, trace


def _kinds(result) -> list[tuple[str, str, int]]:
    return [(issue.kind, issue.pointer, issue.penalty) for issue in result.issues]


def test_identical_stage_scores_zero():
    stage = snapshot(result={"tool_results": [{"rows": rows(1, 2)}]}, counts={"rows": 2})

    result = compare_stage(stage, stage.model_copy(deep=True), ScoringConfig())

    assert result.score == 0 and result.issues == [] and result.presence == "both"


def test_status_ok_to_warning_costs_20():
    result = compare_stage(snapshot(), snapshot(status="warning"))

    assert _kinds(result) == [("status_worse", "/diagnostics/status", 20)]
    assert result.issues[0].baseline == "ok" and result.issues[0].candidate == "warning"


def test_each_new_error_costs_25_capped_at_50():
    result = compare_stage(snapshot(errors=["old"]), snapshot(status="ok", errors=["old", "e1", "e2", "e3"]))

    assert _kinds(result) == [
        ("new_error", "/diagnostics/errors/1", 25),
        ("new_error", "/diagnostics/errors/2", 25),
        ("new_error", "/diagnostics/errors/3", 0),
    ]
    assert result.score == 50


def test_each_new_warning_costs_10_capped_at_30():
    result = compare_stage(snapshot(), snapshot(warnings=["w1", "w2", "w3", "w4"]))

    assert [issue.penalty for issue in result.issues] == [10, 10, 10, 0]
    assert result.issues[0].message == "execute: new warning: 'w1'."


def test_messages_differing_only_in_numbers_are_the_same_message():
    result = compare_stage(snapshot(warnings=["slow query 5012 ms"]), snapshot(warnings=["slow query 5020 ms"]))

    assert result.score == 0


def test_resolved_errors_and_warnings_are_improvements_not_issues():
    result = compare_stage(snapshot(status="warning", errors=["e"], warnings=["w"]), snapshot())

    assert result.score == 0 and result.issues == []
    assert result.improvements == [
        "status improved from warning to ok",
        "1 errors from the baseline no longer occur",
        "1 warnings from the baseline no longer occur",
    ]


def test_count_change_of_10_percent_costs_10_per_key_capped_at_30():
    base = snapshot(counts={"a": 10, "b": 10, "c": 10, "d": 10, "e": 10})
    cand = snapshot(counts={"a": 11, "b": 9, "c": 20, "d": 5, "e": 10})

    result = compare_stage(base, cand)

    assert [issue.penalty for issue in result.issues] == [10, 10, 10, 0]
    assert result.counts["c"].model_dump() == {"baseline": 10, "candidate": 20, "delta": 10}


def test_count_change_below_10_percent_is_free():
    assert compare_stage(snapshot(counts={"rows": 100}), snapshot(counts={"rows": 91})).score == 0


def test_count_dropping_to_zero_costs_30():
    result = compare_stage(snapshot(counts={"rows": 4}), snapshot(counts={"rows": 0}))

    assert _kinds(result) == [("count_to_zero", "/diagnostics/counts/rows", 30)]


def test_references_change_costs_10_and_drop_to_zero_costs_30():
    base = snapshot(references=[{"type": "db_row", "entity_id": str(i)} for i in range(10)])
    fewer = snapshot(references=[{"type": "db_row", "entity_id": str(i)} for i in range(9)])
    none = snapshot()

    assert [k for k in _kinds(compare_stage(base, fewer)) if k[1] == "/references"] == [
        ("references_changed", "/references", 10)
    ]
    assert [k for k in _kinds(compare_stage(base, none)) if k[1] == "/references"] == [
        ("references_to_zero", "/references", 30)
    ]


def test_structural_change_costs_2_per_pointer_capped_at_40():
    base = snapshot(result={"items": [{"v": i} for i in range(30)]})
    cand = snapshot(result={"items": [{"v": i + 1} for i in range(30)]})

    result = compare_stage(base, cand)

    assert len(result.issues) == 30 and result.score == 40
    assert result.diff.changed[0] == "/result/items/0/v"
    assert result.issues[0].baseline == 0 and result.issues[0].candidate == 1


def test_structural_issues_beyond_the_limit_are_summarised_in_one_issue():
    config = ScoringConfig.from_overrides({"max_structural_issues": 2, "structural_change_cap": 100})
    base = snapshot(result={"items": [{"v": i} for i in range(5)]})
    cand = snapshot(result={"items": [{"v": i + 1} for i in range(5)]})

    result = compare_stage(base, cand, config)

    assert [issue.kind for issue in result.issues] == ["output_changed", "output_changed", "output_changes_more"]
    assert result.issues[-1].pointer == "/result/items" and result.score == 10
    assert len(result.diff.changed) == 5


def test_other_empty_flag_newly_set_costs_10():
    result = compare_stage(snapshot(), snapshot(empty_flags={"result_empty": False, "references_empty": True}))

    assert _kinds(result) == [("empty_flag_set", "/diagnostics/empty_flags/references_empty", 10)]


def test_new_stage_in_candidate_costs_10():
    result = compare_stage(None, snapshot("present"))

    assert result.presence == "candidate_only"
    assert _kinds(result) == [("stage_added", "", 10)] and not result.issues[0].critical


def test_faster_and_smaller_error_list_never_add_penalty():
    base = snapshot(status="error", errors=["boom"], duration_ms=2000)
    cand = snapshot(duration_ms=100)

    result = compare_stage(base, cand)

    assert result.score == 0
    assert "faster by 1900 ms" in result.improvements


def test_diagnostics_are_not_double_counted_by_the_structural_diff():
    result = compare_stage(snapshot(), snapshot(status="warning"))

    assert result.diff.model_dump() == {"added": [], "removed": [], "changed": [], "truncated": []}


UNBOUNDED = {"positional_diff_items": 10**9}


def _random_rows(seed: int, count: int) -> list[dict]:
    # benchmarks/generate.py's shape: random ids and names that repeat, so rows are compared by position.
    rng = random.Random(seed)
    return [{"id": f"ci-{rng.randrange(100):05d}", "name": f"host-{rng.randrange(100)}", "value": rng.random()}
            for _ in range(count)]


@pytest.mark.parametrize(("overrides", "listed", "count"), [
    ({}, 50, 2000),
    ({"structural_change_cap": 100, "structural_change_penalty": 1}, 100, 400),  # raised to reach the cap
    ({"max_structural_issues": 10}, 50, 400),
    ({"structural_change_penalty": 0}, 50, 400),
])
def test_truncated_positional_diff_scores_exactly_like_the_full_diff(overrides, listed, count):
    base = snapshot(result={"rows": _random_rows(1, count)})
    cand = snapshot(result={"rows": _random_rows(2, count)})

    bounded = compare_stage(base, cand, ScoringConfig.from_overrides(overrides))
    full = compare_stage(base, cand, ScoringConfig.from_overrides({**overrides, **UNBOUNDED}))

    assert bounded.score == full.score
    assert sum(i.penalty for i in bounded.issues) == sum(i.penalty for i in full.issues)
    assert full.diff.truncated == [] and len(full.diff.changed) > 2.9 * count
    [cut] = bounded.diff.truncated
    assert cut.model_dump() == {"pointer": "/result/rows", "positions": count, "differing_items": count,
                                "listed_items": listed}
    assert {pointer.split("/")[3] for pointer in bounded.diff.changed} == {str(i) for i in range(listed)}
    summary = bounded.issues[-1]
    assert summary.kind == "output_diff_truncated" and summary.pointer == "/result/rows"
    assert summary.message == (f"execute: diff truncated: {count} of the {count} entries of /result/rows differ; "
                               f"the first {listed} are itemised, the other {count - listed} only counted.")


def test_truncated_positional_diff_keeps_the_pair_verdict():
    def pair(seed: int, trace_id: str):
        stages = [snapshot(name, result={"rows": _random_rows(seed + i, 157)}) for i, name in
                  enumerate(("validate", "execute", "compose"))]
        return trace(*stages, trace_id=trace_id)

    bounded = compare_pair(pair(10, "a"), pair(20, "b"))
    full = compare_pair(pair(10, "a"), pair(20, "b"), ScoringConfig.from_overrides(UNBOUNDED))

    assert (bounded.score, bounded.verdict) == (full.score, full.verdict) == (40, "WARN")
    assert [s.score for s in bounded.stages] == [s.score for s in full.stages]
    assert all(s.diff.truncated for s in bounded.stages)
    assert all(s.diff.model_dump(mode="json")["truncated"][0]["listed_items"] == 50 for s in bounded.stages)
