"""Bounded structural diff under the engine's options: keyed lists, mappings, nested and scalar lists are cut
like positional ones, and a cut diff scores exactly like the full one (the structural cap is reached first)."""

from __future__ import annotations

import pytest

from regression.engine import ScoringConfig, compare_pair, compare_stage
from regression.tests.test_engine_factories import snapshot, trace

UNBOUNDED = {"positional_diff_items": 10**9}


def _keyed(count: int, status: str) -> dict:
    return {"rows": [{"id": f"ci-{i:05d}", "status": status, "value": i} for i in range(count)]}


def _mapping(count: int, status: str) -> dict:
    return {"by_host": {f"host-{i}": {"status": status, "checked_at": status} for i in range(count)}}


def _nested(count: int, status: str) -> dict:
    return {"groups": [{"id": f"g{g}", "members": [{"id": m % 3, "status": status} for m in range(count // 2)]}
                       for g in range(10)]}


def _scalars(count: int, status: str) -> dict:
    return {"tags": [f"{status}-{i}" for i in range(count)]}


@pytest.mark.parametrize("shape", [_keyed, _mapping, _nested, _scalars])
@pytest.mark.parametrize("overrides", [{}, {"structural_change_cap": 100, "structural_change_penalty": 1},
                                       {"max_structural_issues": 10}, {"structural_change_penalty": 0}])
def test_cut_diff_of_every_kind_of_container_scores_exactly_like_the_full_diff(shape, overrides):
    base, cand = snapshot(result=shape(300, "up")), snapshot(result=shape(300, "down"))

    bounded = compare_stage(base, cand, ScoringConfig.from_overrides(overrides))
    full = compare_stage(base, cand, ScoringConfig.from_overrides({**overrides, **UNBOUNDED}))

    assert bounded.score == full.score
    assert sum(i.penalty for i in bounded.issues) == sum(i.penalty for i in full.issues)
    assert full.diff.truncated == [] and bounded.diff.truncated
    listed = ScoringConfig.from_overrides(overrides).diff_options().positional_items
    assert bounded.diff.truncated[0].listed_items == listed
    assert any(issue.kind == "output_diff_truncated" for issue in bounded.issues)


def test_every_row_different_pair_keeps_its_verdict_and_stage_scores():
    def pair(status: str, trace_id: str):
        return trace(*(snapshot(name, result=_keyed(1000, status)) for name in ("validate", "execute", "compose")),
                     trace_id=trace_id)

    bounded = compare_pair(pair("up", "a"), pair("down", "b"))
    full = compare_pair(pair("up", "a"), pair("down", "b"), ScoringConfig.from_overrides(UNBOUNDED))

    assert (bounded.score, bounded.verdict) == (full.score, full.verdict)
    assert [s.score for s in bounded.stages] == [s.score for s in full.stages]
    assert all(s.diff.model_dump(mode="json")["truncated"] == [
        {"pointer": "/result/rows", "positions": 1000, "differing_items": 1000, "listed_items": 50}
    ] for s in bounded.stages)
