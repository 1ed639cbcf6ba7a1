"""Replans as a scored dimension: attempts per stage, refused replans, changed outcomes, time with retries.

The other rules compare final attempts only, so a candidate whose execute came
back empty and succeeded on a retry looked like its baseline. These rules read
every attempt (``StageSnapshot.attempts``) and the control loop's decisions
(``TraceSnapshot.replans``). Pure; docs/regression-scoring.md has the table.
"""

from __future__ import annotations

from collections import Counter

from inspector.trace_comparison import AttemptSnapshot
from regression.engine.contracts import DurationDelta, Issue, ReplanRecord, ScoringConfig, StageSnapshot, TraceSnapshot
from regression.engine.rules import Findings, _charge, slowdown

# Trace-level findings (total duration) are reported under this name.
TRACE = "trace"
# Outcomes that end the run with a question or guidance instead of an answer.
STOPPING_DECISIONS = ("ask_user", "stop_with_guidance")
CONTROL_LOOP_NOTE = ("the difference comes from the control loop, not the asset: {issues}. The candidate's replan "
                     "was refused where the baseline's was not; rerun it in test mode (isolated) to judge the asset.")


def stage_attempts(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig,
                   candidate_replans: list[ReplanRecord]) -> None:
    """More attempts than the baseline: one ``replan_new`` per extra attempt; fewer: an improvement."""
    before, after = b.all_attempts(), c.all_attempts()
    if len(after) < len(before):
        f.improvements.append(f"replan_vanished: {len(after)} attempt(s) instead of {len(before)}, "
                              f"{len(before) - len(after)} replan(s) no longer needed")
        return
    approved = [r for r in candidate_replans if r.stage == c.stage and r.approved]
    budget = cfg.replan_new_cap
    for number in range(len(before) + 1, len(after) + 1):
        previous, retry = after[number - 2], after[number - 1]
        replan = approved[number - 2] if len(approved) >= number - 1 else None
        charged, budget = _charge(cfg.replan_new_penalty, budget)
        f.add(f"/attempts/{number - 1}", "replan_new", len(before), len(after),
              f"newly needs a replan: attempt {previous.attempt} {_outcome(previous)} → "
              f"{_replan_text(replan)} → attempt {retry.attempt} {_outcome(retry)}; "
              f"{len(after)} attempts instead of {len(before)}.", charged)


def refused(baseline: TraceSnapshot, candidate: TraceSnapshot, cfg: ScoringConfig) -> list[Issue]:
    """A replan the candidate's control loop vetoed where the baseline's did not (``replan_refused``, critical)."""
    issues = []
    for index, replan in _new_entries(baseline.replans, candidate.replans, lambda r: bool(r.veto),
                                      lambda r: (r.stage, r.trigger, r.veto)):
        issues.append(Issue(
            stage=replan.stage or TRACE, pointer=f"/replans/{index}", kind="replan_refused", baseline=None,
            candidate={"trigger": replan.trigger, "veto": replan.veto, "reason": replan.reason,
                       "attempt": replan.attempt},
            message=(f"{replan.stage} retry refused: {replan.veto} — {replan.reason} (trigger {replan.trigger}, "
                     f"replan {replan.attempt}); the baseline's control loop did not refuse it."),
            penalty=cfg.replan_refused_penalty, critical=True))
    return issues


def outcome_changed(baseline: TraceSnapshot, candidate: TraceSnapshot, cfg: ScoringConfig) -> list[Issue]:
    """The candidate's control loop newly asked the user or stopped with guidance (``replan_outcome_changed``)."""
    issues = []
    for index, replan in _new_entries(baseline.replans, candidate.replans,
                                      lambda r: r.decision in STOPPING_DECISIONS and not r.veto,
                                      lambda r: (r.stage, r.trigger, r.decision)):
        issues.append(Issue(
            stage=replan.stage or TRACE, pointer=f"/replans/{index}", kind="replan_outcome_changed", baseline=None,
            candidate={"trigger": replan.trigger, "decision": replan.decision, "reason": replan.reason},
            message=(f"{replan.stage}: the control loop now decides {replan.decision} on {replan.trigger} "
                     f"(replan {replan.attempt}): {replan.reason}; the baseline did not."),
            penalty=cfg.replan_outcome_penalty))
    return issues


def total_duration(baseline: TraceSnapshot, candidate: TraceSnapshot, cfg: ScoringConfig,
                   noise: dict[str, float]) -> tuple[Findings, DurationDelta]:
    """The stages' time with every retry, by the duration rule's thresholds and the noise floor.

    Without a retry on either side the stage rows already explain the total, so
    the rule is skipped and a slowdown is not reported twice.
    """
    f = Findings(stage=TRACE, noise=dict(noise))
    before, after = baseline.total_ms(), candidate.total_ms()
    delta = DurationDelta(baseline=before, candidate=after, delta_ms=after - before, delta_pct=None)
    if baseline.retried() or candidate.retried():
        retries = sum(len(s.all_attempts()) - 1 for s in candidate.stages.values())
        delta = slowdown(f, before, after, cfg, metric="total_duration_ms", pointer="/total_duration_ms",
                         kind="total_duration_slower", what=f"all stages with retries ({retries} in the candidate) took")
    return f, delta


def _new_entries(baseline: list[ReplanRecord], candidate: list[ReplanRecord], keep, key):
    """(index, entry) of the candidate's kept entries beyond the baseline's, compared as multisets of ``key``."""
    unmatched = Counter(key(r) for r in baseline if keep(r))
    for index, replan in enumerate(candidate):
        if not keep(replan):
            continue
        if unmatched[key(replan)] > 0:
            unmatched[key(replan)] -= 1
            continue
        yield index, replan


def _outcome(attempt: AttemptSnapshot) -> str:
    state = "came back empty" if attempt.empty else attempt.status
    return f"{state} ({attempt.duration_ms} ms)"


def _replan_text(replan: ReplanRecord | None) -> str:
    if replan is None:
        return "a replan"
    return f"replan {replan.attempt} (trigger {replan.trigger}, {replan.decision})"
