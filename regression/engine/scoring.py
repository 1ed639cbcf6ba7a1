"""Stage-by-stage comparison of a baseline and a candidate trace (SPEC §5).

Pure functions over the contracts in ``regression.engine.contracts``: no ORM,
no I/O. A stage's score is the sum of its issue penalties (max 100); the pair's
score is its worst stage's; the verdict follows ``ScoringConfig.warn_at`` /
``fail_at`` and any critical issue. docs/regression-scoring.md has the table.
"""

from __future__ import annotations

from inspector.contracts import STAGE_INDEX
from regression.engine import replans, rules
from regression.engine.contracts import (
    CountDelta,
    DurationDelta,
    Issue,
    OutputDiff,
    PairResult,
    ReplanRecord,
    ScoringConfig,
    StageResult,
    StageSnapshot,
    TraceSnapshot,
    Verdict,
)

ROUTE_PLAN = "route_plan"


def compare_stage(
    baseline: StageSnapshot | None,
    candidate: StageSnapshot | None,
    config: ScoringConfig | None = None,
    noise: dict[str, float] | None = None,
    candidate_replans: list[ReplanRecord] | None = None,
) -> StageResult:
    """Score one stage present on at least one side.

    ``noise`` maps a metric to the spread (max - min) of the baseline runs:
    ``duration_ms``, ``references_count`` (or ``references``), ``tokens``,
    ``cost`` and ``counts.<key>`` (or the bare ``<key>``). A delta within it is not penalised.
    ``candidate_replans`` (the candidate trace's) name the replan behind a new attempt.
    """
    config = config or ScoringConfig()
    if baseline is None and candidate is None:
        raise ValueError("compare_stage needs at least one snapshot")
    if baseline is None or candidate is None:
        return _one_sided(baseline, candidate, config)
    if baseline.stage != candidate.stage:
        raise ValueError(f"cannot compare stage {baseline.stage!r} with stage {candidate.stage!r}")

    findings = rules.Findings(stage=baseline.stage, noise=dict(noise or {}))
    # Order matters: the structural rule skips pointers earlier rules own.
    if baseline.stage == ROUTE_PLAN:
        rules.plan(findings, baseline, candidate, config)
    rules.status(findings, baseline, candidate, config)
    rules.messages(findings, baseline, candidate, config, "errors")
    rules.messages(findings, baseline, candidate, config, "warnings")
    rules.empty_flags(findings, baseline, candidate, config)
    rules.result_emptiness(findings, baseline, candidate, config)
    replans.stage_attempts(findings, baseline, candidate, config, candidate_replans or [])
    count_deltas = rules.counts(findings, baseline, candidate, config)
    rules.references(findings, baseline, candidate, config)
    duration = rules.duration(findings, baseline, candidate, config)
    rules.usage(findings, baseline, candidate, config)
    diff = rules.structure(findings, baseline, candidate, config)
    return StageResult(
        stage=baseline.stage,
        presence="both",
        score=_stage_score(findings.issues),
        issues=findings.issues,
        duration=duration,
        counts=count_deltas,
        diff=OutputDiff(**diff),
        noise_ignored=findings.noise_ignored,
        improvements=findings.improvements,
    )


def compare_pair(
    baseline: TraceSnapshot,
    candidate: TraceSnapshot,
    config: ScoringConfig | None = None,
    *,
    noise: dict[str, dict[str, float]] | None = None,
    statistics_inconclusive: bool = False,
) -> PairResult:
    """Compare every stage present on either side; the worst stage sets the score."""
    config = config or ScoringConfig()
    noise = noise or {}
    names = sorted(set(baseline.stages) | set(candidate.stages), key=_pipeline_position)
    stages = [
        compare_stage(baseline.stages.get(name), candidate.stages.get(name), config, noise.get(name),
                      candidate.replans)
        for name in names
    ]
    loop_issues = replans.refused(baseline, candidate, config) + replans.outcome_changed(baseline, candidate, config)
    trace, total = replans.total_duration(baseline, candidate, config, noise.get(replans.TRACE, {}))
    if trace.issues:
        # A row of its own, so stored analyses (stage_results) keep the finding and its numbers.
        stages.append(StageResult(stage=replans.TRACE, presence="both", score=_stage_score(trace.issues),
                                  issues=trace.issues, duration=total, noise_ignored=trace.noise_ignored))
    trace_issues = _route_issues(baseline, candidate, config) + _into_stages(stages, loop_issues)
    issues = [issue for stage in stages for issue in stage.issues] + trace_issues
    score = max([stage.score for stage in stages] + [_stage_score(trace_issues)])
    # A refused replan explains the other findings, so it is read first.
    critical = sorted((issue for issue in issues if issue.critical), key=lambda i: i.kind != "replan_refused")
    notes = _notes(stages, statistics_inconclusive)
    notes += [f"{replans.TRACE}: improvement: {text}" for text in trace.improvements]
    if not trace.issues:
        notes += [f"{replans.TRACE}: not penalised, {text}" for text in trace.noise_ignored]
    refusals = [issue.message for issue in loop_issues if issue.kind == "replan_refused"]
    if refusals:
        notes.insert(0, replans.CONTROL_LOOP_NOTE.format(issues="; ".join(refusals)))
    return PairResult(
        score=score,
        verdict=_verdict(score, bool(critical), statistics_inconclusive, config),
        stages=stages,
        critical_issues=critical,
        issues=issues,
        notes=notes,
    )


def _one_sided(baseline: StageSnapshot | None, candidate: StageSnapshot | None, config: ScoringConfig) -> StageResult:
    present = baseline or candidate
    assert present is not None  # compare_stage rejects the both-None case
    b_counts, c_counts = (baseline.counts if baseline else {}), (candidate.counts if candidate else {})
    counts = {
        key: CountDelta(baseline=b_counts.get(key, 0), candidate=c_counts.get(key, 0),
                        delta=c_counts.get(key, 0) - b_counts.get(key, 0))
        for key in sorted(present.counts)
    }
    b_ms, c_ms = (baseline.duration_ms if baseline else 0), (candidate.duration_ms if candidate else 0)
    # A relative change against a stage that did not run is meaningless.
    duration = DurationDelta(baseline=b_ms, candidate=c_ms, delta_ms=c_ms - b_ms, delta_pct=None)
    if candidate is None:
        issue = Issue(stage=present.stage, pointer="", kind="stage_missing", baseline=baseline.status, candidate=None,
                      message=f"{present.stage}: stage ran in the baseline but is missing from the candidate.",
                      penalty=config.missing_stage_penalty, critical=True)
        presence = "baseline_only"
    else:
        issue = Issue(stage=present.stage, pointer="", kind="stage_added", baseline=None, candidate=candidate.status,
                      message=f"{present.stage}: stage ran in the candidate but not in the baseline.",
                      penalty=config.new_stage_penalty)
        presence = "candidate_only"
    return StageResult(stage=present.stage, presence=presence, score=_stage_score([issue]), issues=[issue],
                       duration=duration, counts=counts)


def _into_stages(stages: list[StageResult], issues: list[Issue]) -> list[Issue]:
    """Add each issue to its stage's result (rescoring it); those of a stage not compared are returned."""
    by_name = {stage.stage: stage for stage in stages}
    rest = []
    for issue in issues:
        stage = by_name.get(issue.stage)
        if stage is None:
            rest.append(issue)
            continue
        stage.issues.append(issue)
        stage.score = _stage_score(stage.issues)
    return rest


def _route_issues(baseline: TraceSnapshot, candidate: TraceSnapshot, config: ScoringConfig) -> list[Issue]:
    """Fall back on the trace-level route when neither trace recorded a route_plan stage."""
    if ROUTE_PLAN in baseline.stages or ROUTE_PLAN in candidate.stages:
        return []
    if not baseline.route or not candidate.route or baseline.route == candidate.route:
        return []
    return [
        Issue(stage=ROUTE_PLAN, pointer="/result/kind", kind="plan_kind_changed", baseline=baseline.route,
              candidate=candidate.route, critical=True, penalty=config.plan_kind_penalty,
              message=f"{ROUTE_PLAN}: route changed from {baseline.route!r} to {candidate.route!r}.")
    ]


def _stage_score(issues: list[Issue]) -> int:
    return min(100, sum(issue.penalty for issue in issues))


def _verdict(score: int, has_critical: bool, inconclusive: bool, config: ScoringConfig) -> Verdict:
    if has_critical or score >= config.fail_at:
        return "FAIL"
    if score >= config.warn_at or inconclusive:
        return "WARN"
    return "PASS"


def _pipeline_position(name: str) -> tuple[int, str]:
    # Known stages in pipeline order, then any others alphabetically.
    return (STAGE_INDEX.get(name, len(STAGE_INDEX)), name)


def _notes(stages: list[StageResult], inconclusive: bool) -> list[str]:
    notes = [f"{stage.stage}: improvement: {text}" for stage in stages for text in stage.improvements]
    notes += [f"{stage.stage}: not penalised, {text}" for stage in stages for text in stage.noise_ignored]
    if inconclusive:
        notes.append("statistics are inconclusive; the verdict is at least WARN")
    return notes
