"""One noise floor in an analysis: the pair scoring and the group statistics agree on what is noise.

Twelve baseline runs of one question whose ``execute`` durations spread
widely: their band (``regression.noise``) is the interquartile range
100..180 ms (min–max would be 60..400). The pair compares the first baseline
run (100 ms) with the first candidate run; the group compares the medians.
"""

from __future__ import annotations

import pytest

from inspector.services import trace_ingest
from regression.models import RegressionAnalysis
from regression.noise import noise_band
from regression.services.analyses import analysis_execute, analysis_request
from testkit.factories import trace_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_now")]
BASELINE_MS = [100, 60, 80, 100, 120, 140, 140, 160, 180, 180, 200, 400]  # the first is the pair's baseline


def _runs(prefix: str, durations: list[int]) -> list[str]:
    ids = []
    for number, duration in enumerate(durations):
        body = trace_body(trace_id=f"{prefix}-{number:02d}")
        body["stages"][2]["output"]["duration_ms"] = duration
        trace_ingest(payload=body)
        ids.append(body["trace_id"])
    return ids


def _analyse(candidate_ms: int) -> RegressionAnalysis:
    baseline = _runs("base", BASELINE_MS)
    candidate = _runs(f"cand{candidate_ms}", [candidate_ms] * len(BASELINE_MS))
    analysis = analysis_request(baseline_trace_ids=baseline, candidate_trace_ids=candidate,
                                options={"duration_min_ms": 50})  # these runs are milliseconds apart
    analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert analysis.kind == "group" and analysis.status == "completed"
    return analysis


def _pair_penalised(analysis: RegressionAnalysis) -> bool:
    execute = next(stage for stage in analysis.stage_results if stage["stage"] == "execute")
    return any(issue["kind"].startswith("duration") for issue in execute["issues"])


def _group_penalised(analysis: RegressionAnalysis) -> bool:
    return "execute duration_ms" in analysis.statistics["regressions"]


def test_the_band_of_these_runs():
    band = noise_band(BASELINE_MS)
    assert (band.low, band.high, band.width) == (100.0, 180.0, 80.0)


def test_a_change_inside_the_floor_is_penalised_by_neither_path():
    # 100 -> 160 ms is +60 %, which the pair's duration rule penalises without a floor;
    # 160 ms is inside the band, so neither path calls it a regression.
    analysis = _analyse(160)
    assert not _pair_penalised(analysis) and not _group_penalised(analysis)
    assert analysis.verdict == "PASS"
    assert any("within the baseline spread of 80" in note for note in analysis.notes)


def test_a_change_outside_the_floor_is_penalised_by_both_paths():
    # 100 -> 300 ms: outside the band (group) and further than the band is wide (pair).
    # With min–max (340 ms wide) the pair used to let it pass while the group flagged it.
    analysis = _analyse(300)
    assert _pair_penalised(analysis) and _group_penalised(analysis)
    assert analysis.verdict in ("WARN", "FAIL")
