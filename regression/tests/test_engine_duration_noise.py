"""Duration rule (relative AND absolute threshold) and the baseline noise floor."""

from __future__ import annotations

import pytest

from regression.engine import ScoringConfig, compare_pair, compare_stage
from regression.tests.test_engine_factories import pipeline, snapshot, trace

# The default floor is 1000 ms (a single live run jitters by hundreds of ms); these tests
# exercise the rule's mechanics at the millisecond scale of their snapshots.
MS_SCALE = ScoringConfig.from_overrides({"duration_min_ms": 50})


def _duration_penalty(before: int, after: int, config: ScoringConfig | None = None) -> int:
    result = compare_stage(snapshot(duration_ms=before), snapshot(duration_ms=after), config or MS_SCALE)
    return sum(issue.penalty for issue in result.issues if issue.kind == "duration_slower")


@pytest.mark.parametrize(
    ("before", "after", "penalty"),
    [
        (100, 149, 0),  # 49 %, 49 ms: below both thresholds
        (100, 150, 20),  # exactly 50 % and 50 ms
        (1000, 1490, 0),  # 490 ms but only 49 %
        (1000, 1500, 20),  # 50 %
        (60, 109, 0),  # 82 % but only 49 ms
        (60, 110, 20),  # 83 % and 50 ms
        (100, 200, 30),  # +100 %: severe
        (0, 50, 30),  # from 0 ms: relative change undefined, treated as severe
    ],
)
def test_duration_needs_both_relative_and_absolute_change(before, after, penalty):
    assert _duration_penalty(before, after) == penalty


def test_fast_stage_jitter_never_counts():
    # 10 → 30 ms is +200 % but only 20 ms; 200 → 220 ms is 20 ms and 10 %.
    assert _duration_penalty(10, 30) == 0
    assert _duration_penalty(200, 220) == 0


def test_by_default_a_single_pair_needs_a_second_of_slowdown():
    # Measured on the reference pipeline: one stage of 40 identical runs took 11-504 ms.
    default = ScoringConfig()
    assert default.duration_min_ms == 1000
    assert _duration_penalty(16, 504, default) == 0
    assert _duration_penalty(2000, 2999, default) == 0
    assert _duration_penalty(2000, 3000, default) == 20


def test_duration_thresholds_are_configurable():
    config = ScoringConfig.from_overrides({"duration_min_pct": 10, "duration_min_ms": 5})

    assert _duration_penalty(100, 110, config) == 20


def test_duration_delta_is_reported_absolute_and_percent():
    result = compare_stage(snapshot(duration_ms=200), snapshot(duration_ms=500), MS_SCALE)

    assert result.duration.model_dump() == {"baseline": 200, "candidate": 500, "delta_ms": 300, "delta_pct": 150.0}
    assert result.issues[0].pointer == "/duration_ms"


def test_same_deterministic_question_run_twice_scores_zero():
    first = pipeline(trace_id="run-1", durations=(120, 30, 400, 80, 20), stamp="2025-01-01T10:00:00Z")
    second = pipeline(trace_id="run-2", durations=(160, 12, 430, 95, 41), stamp="2025-03-09T17:42:11Z")

    result = compare_pair(first, second)

    assert (result.score, result.verdict, result.issues) == (0, "PASS", [])


def test_duration_within_baseline_spread_is_not_penalised_and_noted():
    base, cand = trace(snapshot(duration_ms=400)), trace(snapshot(duration_ms=700))

    result = compare_pair(base, cand, MS_SCALE, noise={"execute": {"duration_ms": 350.0}})

    assert result.score == 0 and result.verdict == "PASS"
    assert result.stages[0].noise_ignored == ["duration_ms: change of +300 is within the baseline spread of 350"]
    assert "execute: not penalised, duration_ms: change of +300 is within the baseline spread of 350" in result.notes


def test_duration_beyond_baseline_spread_is_penalised():
    base, cand = trace(snapshot(duration_ms=400)), trace(snapshot(duration_ms=700))

    result = compare_pair(base, cand, MS_SCALE, noise={"execute": {"duration_ms": 100.0}})

    assert result.score == 20 and result.stages[0].noise_ignored == []


def test_count_and_reference_deltas_within_spread_are_not_penalised():
    refs = [{"type": "db_row", "entity_id": str(i)} for i in range(5)]
    base = snapshot(counts={"rows": 10}, references=refs)
    cand = snapshot(counts={"rows": 13}, references=refs[:4])
    noise = {"counts.rows": 3.0, "references_count": 1.0}

    result = compare_stage(base, cand, None, noise)

    penalised = [issue.kind for issue in result.issues if issue.penalty]
    assert "count_changed" not in penalised and "references_changed" not in penalised
    assert len(result.noise_ignored) == 2


def test_noise_accepts_bare_count_and_references_metric_names():
    base = snapshot(counts={"rows": 10})
    cand = snapshot(counts={"rows": 12})

    result = compare_stage(base, cand, None, {"rows": 2.0})

    assert [i for i in result.issues if i.kind == "count_changed"] == []


def test_noise_for_another_stage_does_not_apply():
    base, cand = trace(snapshot(duration_ms=400)), trace(snapshot(duration_ms=700))

    result = compare_pair(base, cand, MS_SCALE, noise={"compose": {"duration_ms": 1000.0}})

    assert result.score == 20
