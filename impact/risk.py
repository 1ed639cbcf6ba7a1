"""Pure rules of the asset impact analyzer: quality axes, version comparison, risk and advice.

The database selector (``impact.queries``) turns stored traces into
one ``VersionMetrics`` per asset version; everything here is a plain function
over those figures, with no ORM and no clock, so every number on the impact
screen can be traced back to its inputs and tested without a database.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy import stats as scipy_stats

from impact.figures import metric_label, metric_name, p_clause, quoted
from regression.statistics import mann_whitney_p

# --- constants (the one place to change a threshold) ---------------------------

MIN_TRACES = 20  # per version, below this a significance test has too little power to be worth showing
ALPHA = 0.05  # two-sided significance level of every test
EVIDENCE_TARGET = 5.0  # references per answer that earn a full evidence score
LOW_EVIDENCE = 50.0  # evidence axis below this gets a recommendation
LEHR_FACTOR = 16  # Lehr's rule: n ≈ 16·p(1−p)/Δ² per group gives 80% power at α = 0.05
VERDICTS = ("pass", "warn", "fail")

AXIS_FORMULAS: dict[str, str] = {
    "reliability": "100 × (1 − error rate)",
    "completeness": "100 × (1 − empty-result rate)",
    "evidence": "min(100, 100 × mean references per answer / evidence target)",
    "speed": "100 if p95 ≤ budget, else max(0, 100 − 100 × (p95 − budget) / budget)",
    "stability": "100 × (1 − replan rate)",
    "regression_health": "100 × PASS / (PASS + WARN + FAIL) over completed regression analyses",
}

RATE_METRICS = ("error_rate", "warning_rate", "empty_rate", "replan_rate")
DURATION_METRICS = ("duration_median_ms", "duration_p95_ms")
HIGHER_IS_BETTER = ("mean_references", "mean_rows")
USAGE_METRICS = ("mean_cost", "mean_tokens")  # per trace, from the stages' result.usage: higher is worse
# Metrics tested with Mann–Whitney on per-trace samples → what a sample counts (for the too-few hint).
SAMPLED_METRICS = {"duration_median_ms": "timed traces", "mean_cost": "traces", "mean_tokens": "traces"}
# Usage metric → what a trace reports; all zeros mean "not instrumented" as often as "free".
USAGE_REPORTED = {"mean_cost": "a cost", "mean_tokens": "tokens"}
# Metric → what to look at when it rose significantly.
RISE_ADVICE = {
    "error_rate": "inspect its failing traces",
    "empty_rate": "check which inputs now return nothing",
    "warning_rate": "read the new warnings",
    "replan_rate": "check why plans are rejected",
    "mean_cost": "check the model and prompt length",
    "mean_tokens": "check the prompt and answer length",
}

RISK_SPEC_OPS = ((10, 2), (3, 1))  # (at least N RFC 6902 operations, points), largest first
RISK_TRAFFIC = ((0.5, 2), (0.2, 1))  # (at least this share of all traces, points)
RISK_DECISIVE_STAGES = ("execute", "route_plan")  # stages whose output decides the answer
RISK_DECISIVE_POINTS = 1
RISK_WORSE_ROW_POINTS, RISK_WORSE_ROW_CAP = 2, 4
RISK_FAIL_POINTS = 2
RISK_LEVELS = ((4, "high"), (2, "medium"), (0, "low"))  # (at least N points, level)
# Instead of a level: too few traces for a test, or nothing to test (one version, or a side without traces).
NOT_ENOUGH_DATA, NOTHING_TO_COMPARE = "not_enough_data", "nothing_to_compare"
RISK_LEVEL_NAMES = ("low", "medium", "high", NOT_ENOUGH_DATA, NOTHING_TO_COMPARE)
# A worse change of at least this share that no test confirmed is named among the reasons (no points):
# no one should read "low" past an empty-result rate up by 185 % on 18 traces.
UNTESTED_CHANGE_PCT = 20.0
RISK_RULES: list[str] = [
    "spec change of ≥ 10 RFC 6902 operations: +2 points; ≥ 3 operations: +1",
    "version carries ≥ 50% of the traces in the range: +2 points; ≥ 20%: +1",
    "asset feeds EXECUTE or ROUTE_PLAN: +1 point",
    "each metric significantly worse than in the base version (a rate, the median duration, cost or tokens "
    "per trace): +2 points (at most +4 in all)",
    "at least one FAIL verdict among the version's regression analyses: +2 points",
    "level: ≥ 4 points high, ≥ 2 medium, else low — given ≥ 20 traces on each version; with fewer "
    "\"not enough data\", and \"nothing to compare\" when base and target are one version or one has no traces",
]


class VersionMetrics(BaseModel):
    """Usage figures of one asset version, computed from stored traces.

    Rates are fractions in 0..1 (0 when ``traces`` is 0); ``stage_durations``
    maps a stage to ``{"median_ms", "p95_ms", "runs"}``. ``mean_cost`` (known
    cost, in the price table's currency) and ``mean_tokens`` (input + output)
    are per trace, a trace that reported no usage counting 0; None without
    traces.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    traces: int = Field(ge=0)
    first_used: str | None = None
    last_used: str | None = None
    success_rate: float = Field(ge=0, le=1)
    warning_rate: float = Field(ge=0, le=1)
    error_rate: float = Field(ge=0, le=1)
    empty_rate: float = Field(ge=0, le=1)
    replan_rate: float = Field(ge=0, le=1)
    errors: int = Field(ge=0)
    empties: int = Field(ge=0)
    duration_median_ms: float | None = None
    duration_p95_ms: float | None = None
    mean_references: float | None = None
    mean_rows: float | None = None
    mean_cost: float | None = Field(default=None, ge=0)
    mean_tokens: float | None = Field(default=None, ge=0)
    verdicts: dict[str, int] = Field(default_factory=dict)
    stage_durations: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("verdicts")
    @classmethod
    def _known_verdicts(cls, value: dict[str, int]) -> dict[str, int]:
        # A misspelt key ("PASS") would silently read as zero in regression_health.
        unknown = set(value) - set(VERDICTS)
        if unknown:
            raise ValueError(f"unknown verdicts {sorted(unknown)}; expected {', '.join(VERDICTS)}")
        return value


# --- quality axes ----------------------------------------------------------------

def _score(value: float) -> float:
    return round(min(100.0, max(0.0, value)), 1)


def quality_axes(m: VersionMetrics, *, budget_ms: float,
                 evidence_target: float = EVIDENCE_TARGET) -> dict[str, float | None]:
    """Six 0..100 scores of one version (formulas in ``AXIS_FORMULAS``).

    Every axis is None without traces; evidence and speed are None when their
    input is missing, regression_health when no analysis gave a verdict.
    """
    if budget_ms <= 0 or evidence_target <= 0:
        raise ValueError("budget_ms and evidence_target must be positive")
    if m.traces == 0:
        return dict.fromkeys(AXIS_FORMULAS)
    p95, refs = m.duration_p95_ms, m.mean_references
    judged = sum(m.verdicts.get(v, 0) for v in VERDICTS)
    return {
        "reliability": _score(100 * (1 - m.error_rate)),
        "completeness": _score(100 * (1 - m.empty_rate)),
        "evidence": None if refs is None else _score(100 * refs / evidence_target),
        "speed": None if p95 is None else _score(100 - 100 * max(0.0, p95 - budget_ms) / budget_ms),
        "stability": _score(100 * (1 - m.replan_rate)),
        "regression_health": _score(100 * m.verdicts.get("pass", 0) / judged) if judged else None,
    }


# --- comparison ------------------------------------------------------------------

def _events(m: VersionMetrics, metric: str) -> int:
    """Traces behind a rate; errors and empties are counted exactly, others rebuilt from the rate."""
    exact = {"error_rate": m.errors, "empty_rate": m.empties}
    count = exact.get(metric, round(getattr(m, metric) * m.traces))
    return min(max(count, 0), m.traces)


def _too_few(n_base: int, n_target: int, min_traces: int, what: str = "traces") -> str:
    return f"need ≥ {min_traces} {what} per version (have {n_base} and {n_target})"


def lehr_traces(p_base: float, p_target: float) -> int:
    """Traces per version needed to detect ``p_base → p_target`` (Lehr's rule, 80% power, α = 0.05)."""
    pooled, delta = (p_base + p_target) / 2, p_target - p_base
    # Rounded first so float noise (384.0000001) does not add a trace.
    return math.ceil(round(LEHR_FACTOR * pooled * (1 - pooled) / delta**2, 6))


def _rate_test(metric: str, base: VersionMetrics, target: VersionMetrics,
               min_traces: int, alpha: float) -> tuple[str, float | None, bool, str]:
    if min(base.traces, target.traces) < min_traces:
        return "", None, False, _too_few(base.traces, target.traces, min_traces)
    b, t = _events(base, metric), _events(target, metric)
    table = [[b, base.traces - b], [t, target.traces - t]]
    p = float(scipy_stats.fisher_exact(table, alternative="two-sided").pvalue)
    p_base, p_target = b / base.traces, t / target.traces
    hint = ""
    if p > alpha and p_base != p_target:
        hint = (f"about {lehr_traces(p_base, p_target)} traces per version would detect "
                f"this change of {abs(p_target - p_base) * 100:.1f} points")
    return "fisher", p, p <= alpha, hint


def _sample_test(metric: str, base: VersionMetrics, target: VersionMetrics, base_sample: Sequence[float],
                 target_sample: Sequence[float], min_traces: int, alpha: float) -> tuple[str, float | None, bool, str]:
    if min(len(base_sample), len(target_sample)) < min_traces:
        return "", None, False, _too_few(len(base_sample), len(target_sample), min_traces, SAMPLED_METRICS[metric])
    if metric in USAGE_REPORTED:
        # A version whose traces reported nothing is most likely not instrumented: zeros against figures
        # would "prove" a rise that is only the instrumentation arriving.
        silent = sorted({m.version for m, sample in ((base, base_sample), (target, target_sample)) if not any(sample)})
        if silent:
            return "", None, False, (f"{' and '.join(f'v{v}' for v in silent)}: no sampled trace reported "
                                     f"{USAGE_REPORTED[metric]}, nothing to test")
    p = mann_whitney_p(base_sample, target_sample)  # 1.0 when every value is the same
    return "mann_whitney", p, p <= alpha, ""


def _clean(value: float) -> float:
    """``value`` without float noise: ``0.5 - 0.2475`` is 0.2525, not 0.25250000000000006."""
    return float(f"{value:.12g}")


def _row(metric: str, base: float | None, target: float | None) -> dict[str, Any]:
    delta = None if base is None or target is None else _clean(target - base)
    direction = "same" if not delta else ("up" if delta > 0 else "down")
    if metric in HIGHER_IS_BETTER:
        worse = direction == "down"
    else:  # rates, durations, cost and tokens: higher is worse; traces: neither
        worse = direction == "up" and metric != "traces"
    return {"metric": metric, "label": metric_label(metric), "base": base, "target": target, "delta": delta,
            "delta_pct": None if not base or delta is None else _clean(100 * delta / base),
            "direction": direction, "worse": worse,
            "test": "", "p_value": None, "significant": False, "hint": ""}


def compare_versions(base: VersionMetrics, target: VersionMetrics, *, base_samples: Mapping[str, Sequence[float]],
                     target_samples: Mapping[str, Sequence[float]], min_traces: int = MIN_TRACES,
                     alpha: float = ALPHA) -> list[dict]:
    """One row per metric, base vs target, with a significance test where one applies.

    Rates get Fisher's exact test on trace counts; the metrics of
    ``SAMPLED_METRICS`` (median duration, cost and tokens per trace) a
    two-sided Mann–Whitney U test on each version's per-trace sample,
    ``*_samples[metric]`` (a missing sample is an empty one); other rows are
    descriptive (``test`` ""). Stage rows are named ``stage:<name>:median_ms``.
    """
    plain = ("traces", *RATE_METRICS, *DURATION_METRICS, *HIGHER_IS_BETTER, *USAGE_METRICS)
    rows = [_row(metric, getattr(base, metric), getattr(target, metric)) for metric in plain]
    for stage in sorted(set(base.stage_durations) | set(target.stage_durations)):
        rows.append(_row(f"stage:{stage}:median_ms", base.stage_durations.get(stage, {}).get("median_ms"),
                         target.stage_durations.get(stage, {}).get("median_ms")))
    for row in rows:
        if row["metric"] in RATE_METRICS:
            result = _rate_test(row["metric"], base, target, min_traces, alpha)
        elif row["metric"] in SAMPLED_METRICS:
            result = _sample_test(row["metric"], base, target, base_samples.get(row["metric"], ()),
                                  target_samples.get(row["metric"], ()), min_traces, alpha)
        else:
            continue
        row["test"], row["p_value"], row["significant"], row["hint"] = result
    return rows


def spec_change_size(base_spec: dict, target_spec: dict) -> int:
    """Number of RFC 6902 operations that turn ``base_spec`` into ``target_spec``."""
    return len(jsonpatch.make_patch(base_spec, target_spec).patch)


# --- risk ------------------------------------------------------------------------

def _change(row: dict) -> str:
    """``2.0% → 9.5%, p = 0.01``: the figures behind a significant row."""
    return f"{quoted(row['metric'], row['base'])} → {quoted(row['metric'], row['target'])}, {p_clause(row['p_value'])}"


def _tiered(value: float, tiers: tuple[tuple[float, int], ...]) -> int:
    return next((points for threshold, points in tiers if value >= threshold), 0)


def _versions(versions: list[int]) -> str:
    return " and ".join(f"v{v}" for v in versions)


def _untested_changes(comparison: list[dict]) -> list[str]:
    """Worse changes of ≥ ``UNTESTED_CHANGE_PCT`` that no test confirmed (too few traces, or a descriptive row)."""
    notes = []
    for row in comparison:
        if row["metric"].startswith("stage:") or row["metric"] == "traces" or row["p_value"] is not None:
            continue
        if not row["worse"] or (row["delta_pct"] is not None and abs(row["delta_pct"]) < UNTESTED_CHANGE_PCT):
            continue
        relative = "" if row["delta_pct"] is None else f", {row['delta_pct']:+.0f}%"
        notes.append(f"{metric_name(row['metric'])} {quoted(row['metric'], row['base'])} → "
                     f"{quoted(row['metric'], row['target'])}{relative}: not confirmed by a test")
    return notes


def regression_risk(*, base: VersionMetrics, target: VersionMetrics, spec_ops: int, traffic_share: float,
                    stages: list[str], comparison: list[dict], min_traces: int = MIN_TRACES) -> dict:
    """The regression risk of ``target`` against ``base`` → ``{"level", "label", "points", "reasons"}``.

    ``level`` is low, medium or high (points from ``RISK_RULES``) only when
    the versions can be compared with a test. Otherwise it is
    ``nothing_to_compare`` (base and target are one version, or one of them
    has no trace: 0 points) or ``not_enough_data`` (fewer than
    ``min_traces`` traces on a side: the points of the factors that need no
    test). ``label`` is what a person reads: ``high``, ``not enough data: 18
    of 20 traces per version``, ``nothing to compare: base and target are
    both v1``. Worse changes of ≥ ``UNTESTED_CHANGE_PCT`` that no test
    confirmed are named among the reasons, without points.
    """
    if base.version == target.version:
        return {"level": NOTHING_TO_COMPARE, "label": f"nothing to compare: base and target are both v{base.version}",
                "points": 0, "reasons": [f"base and target are the same version (v{base.version})"]}
    if silent := [m.version for m in (base, target) if m.traces == 0]:
        verb = "has" if len(silent) == 1 else "have"
        return {"level": NOTHING_TO_COMPARE, "label": f"nothing to compare: {_versions(silent)} {verb} no traces",
                "points": 0, "reasons": [f"{_versions(silent)} {verb} no traces in this range"]}
    points, reasons = 0, []
    if spec := _tiered(spec_ops, RISK_SPEC_OPS):
        points += spec
        reasons.append(f"{'large' if spec > 1 else 'moderate'} spec change: {spec_ops} operations")
    if traffic := _tiered(traffic_share, RISK_TRAFFIC):
        points += traffic
        reasons.append(f"carries {traffic_share * 100:.0f}% of traffic")
    decisive = [s.upper() for s in RISK_DECISIVE_STAGES if s in {x.lower() for x in stages}]
    if decisive:
        points += RISK_DECISIVE_POINTS
        reasons.append(f"feeds {' and '.join(decisive)}, which decide{'s' if len(decisive) == 1 else ''} the answer")
    worse = [row for row in comparison if row["significant"] and row["worse"]]
    points += min(RISK_WORSE_ROW_CAP, RISK_WORSE_ROW_POINTS * len(worse))
    reasons += [f"{metric_name(row['metric'])} significantly worse ({_change(row)})" for row in worse]
    if (fails := target.verdicts.get("fail", 0)) > 0:
        points += RISK_FAIL_POINTS
        reasons.append(f"{fails} failing analys{'i' if fails == 1 else 'e'}s")
    untested = _untested_changes(comparison)
    fewest = min(base.traces, target.traces)
    if fewest < min_traces:
        counts = f"v{base.version} has {base.traces} traces, v{target.version} {target.traces}"
        return {"level": NOT_ENOUGH_DATA, "label": f"not enough data: {fewest} of {min_traces} traces per version",
                "points": points,
                "reasons": [f"too few traces for a test ({counts}; a test needs {min_traces} per version)",
                            *reasons, *untested]}
    level = next(name for threshold, name in RISK_LEVELS if points >= threshold)
    return {"level": level, "label": level, "points": points, "reasons": [*reasons, *untested] or ["no risk factor found"]}


def related_assets(rows: list[tuple[str, str, int]], *, limit: int = 10) -> list[dict]:
    """Assets applied together with this one, most shared traces first (ties by name)."""
    counts: Counter[tuple[str, str]] = Counter()
    for asset_type, name, count in rows:
        counts[(asset_type, name)] += count
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0][1], item[0][0]))
    return [{"type": t, "name": n, "count": c} for (t, n), c in ordered[:max(limit, 0)]]


# --- recommendations -------------------------------------------------------------

def _duration_advice(rows: list[dict], subject: str) -> str | None:
    overall = next((r for r in rows if r["metric"] == "duration_median_ms"), None)
    if not overall or not (overall["significant"] and overall["worse"]):
        return None
    pct = f"{overall['delta_pct']:+.0f}%, " if overall["delta_pct"] is not None else ""
    sentence = f"median duration rose ({pct}{_change(overall)})"
    stages = [r for r in rows if r["metric"].startswith("stage:") and r["worse"] and r["delta_pct"] is not None]
    if stages:  # name the stage that slowed down most, so the reader knows where to look
        top = max(stages, key=lambda r: r["delta_pct"])
        sentence += (f", most in {top['metric'].split(':')[1].upper()} (median {quoted('_ms', top['base'])} → "
                     f"{quoted('_ms', top['target'])}, {top['delta_pct']:+.0f}%)")
    return f"{sentence}: review {subject}"


def _sample_advice(base: VersionMetrics, target: VersionMetrics, min_traces: int) -> list[str]:
    """What to do when a side has too few traces (or none) for a test."""
    if base.version == target.version:
        return [f"base and target are both v{target.version}: choose another version as base to see what changed"]
    advice = []
    if target.traces == 0:
        advice.append(f"no trace used v{target.version} in this range: run its golden queries or wait for traffic")
    elif target.traces < min_traces:
        advice.append(f"only {target.traces} traces used v{target.version} (need ≥ {min_traces} for a test): "
                      "run its golden queries or wait for more traffic before publishing")
    if base.traces < min_traces:
        advice.append(f"{'no trace' if not base.traces else f'only {base.traces} traces'} used the base "
                      f"v{base.version} in this range (need ≥ {min_traces} for a test): widen the range or "
                      "choose another base")
    return advice


def recommendations(*, asset_type: str, asset_name: str, base: VersionMetrics, target: VersionMetrics,
                    comparison: list[dict], axes: dict, risk: dict, min_traces: int = MIN_TRACES) -> list[str]:
    """Rule-based advice for the target version; every sentence quotes the figures it rests on."""
    subject = f"{asset_type} `{asset_name}` v{target.version}"
    advice = [s for s in [_duration_advice(comparison, subject)] if s]
    for row in comparison:
        if row["metric"] in RISE_ADVICE and row["significant"] and row["worse"]:
            advice.append(f"{metric_name(row['metric'])} rose from {quoted(row['metric'], row['base'])} to "
                          f"{quoted(row['metric'], row['target'])} ({p_clause(row['p_value'])}): "
                          f"{RISE_ADVICE[row['metric']]} of {subject}")
    advice += _sample_advice(base, target, min_traces)
    evidence = axes.get("evidence")
    if evidence is not None and evidence < LOW_EVIDENCE:
        advice.append(f"answers cite few references ({quoted('mean', target.mean_references)} per answer on average, "
                      f"evidence {evidence:.1f}/100): check that {subject} keeps the references")
    if risk.get("level") == "high":
        advice.append(f"regression risk is high ({risk['points']} points): {'; '.join(risk['reasons'])}")
    tested = sum(1 for r in comparison if r["test"])
    return advice or [f"no significant change between the versions "
                      f"({tested} metrics tested, none significantly worse)"]
