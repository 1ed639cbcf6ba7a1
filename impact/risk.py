"""Pure rules of the asset impact analyzer: quality axes, version comparison, risk and advice.

The database selector (``impact.queries``) turns stored traces into
one ``VersionMetrics`` per asset version; everything here is a plain function
over those figures, with no ORM and no clock, so every number on the impact
screen can be traced back to its inputs and tested without a database.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import jsonpatch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy import stats as scipy_stats

from regression.statistics import mann_whitney_p

# --- constants (the one place to change a threshold) ---------------------------

MIN_TRACES = 20  # per version, below this a significance test has too little power to be worth showing
ALPHA = 0.05  # two-sided significance level of every test
EVIDENCE_TARGET = 5.0  # references per answer that earn a full evidence score
LOW_EVIDENCE = 50.0  # evidence axis below this gets a recommendation
LEHR_FACTOR = 16  # Lehr's rule: n ≈ 16·p(1−p)/Δ² per group gives 80% power at α = 0.05
VERDICTS = ("PASS", "WARN", "FAIL")

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
# Metric → (label in sentences, what to look at when it got worse).
RATE_ADVICE = {
    "error_rate": ("error rate", "inspect its failing traces"),
    "empty_rate": ("empty-result rate", "check which inputs now return nothing"),
    "warning_rate": ("warning rate", "read the new warnings"),
    "replan_rate": ("replan rate", "check why plans are rejected"),
}

RISK_SPEC_OPS = ((10, 2), (3, 1))  # (at least N RFC 6902 operations, points), largest first
RISK_TRAFFIC = ((0.5, 2), (0.2, 1))  # (at least this share of all traces, points)
RISK_DECISIVE_STAGES = ("execute", "route_plan")  # stages whose output decides the answer
RISK_DECISIVE_POINTS = 1
RISK_WORSE_ROW_POINTS, RISK_WORSE_ROW_CAP = 2, 4
RISK_FAIL_POINTS = 2
RISK_LEVELS = ((4, "high"), (2, "medium"), (0, "low"))  # (at least N points, level)
RISK_RULES: list[str] = [
    "spec change of ≥ 10 RFC 6902 operations: +2 points; ≥ 3 operations: +1",
    "version carries ≥ 50% of the traces in the range: +2 points; ≥ 20%: +1",
    "asset feeds EXECUTE or ROUTE_PLAN: +1 point",
    "each metric significantly worse than in the base version: +2 points (at most +4 in all)",
    "at least one FAIL verdict among the version's regression analyses: +2 points",
    "level: ≥ 4 points high, ≥ 2 medium, else low",
]


class VersionMetrics(BaseModel):
    """Usage figures of one asset version, computed from stored traces.

    Rates are fractions in 0..1 (0 when ``traces`` is 0); ``stage_durations``
    maps a stage to ``{"median_ms", "p95_ms", "runs"}``.
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
    verdicts: dict[str, int] = Field(default_factory=dict)
    stage_durations: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("verdicts")
    @classmethod
    def _known_verdicts(cls, value: dict[str, int]) -> dict[str, int]:
        # A misspelt key ("pass") would silently read as zero in regression_health.
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
        "regression_health": _score(100 * m.verdicts.get("PASS", 0) / judged) if judged else None,
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


def _duration_test(base_durations: list[float], target_durations: list[float],
                   min_traces: int, alpha: float) -> tuple[str, float | None, bool, str]:
    if min(len(base_durations), len(target_durations)) < min_traces:
        return "", None, False, _too_few(len(base_durations), len(target_durations), min_traces, "timed traces")
    p = mann_whitney_p(base_durations, target_durations)  # 1.0 when every duration is the same
    return "mann_whitney", p, p <= alpha, ""


def _row(metric: str, base: float | None, target: float | None) -> dict[str, Any]:
    delta = None if base is None or target is None else target - base
    direction = "same" if not delta else ("up" if delta > 0 else "down")
    if metric in HIGHER_IS_BETTER:
        worse = direction == "down"
    else:  # rates and durations: higher is worse; traces: neither (the bad-direction set is empty)
        worse = direction == "up" and metric != "traces"
    return {"metric": metric, "base": base, "target": target, "delta": delta,
            "delta_pct": None if not base or delta is None else 100 * delta / base,
            "direction": direction, "worse": worse,
            "test": "", "p_value": None, "significant": False, "hint": ""}


def compare_versions(base: VersionMetrics, target: VersionMetrics, *, base_durations: list[float],
                     target_durations: list[float], min_traces: int = MIN_TRACES,
                     alpha: float = ALPHA) -> list[dict]:
    """One row per metric, base vs target, with a significance test where one applies.

    Rates get Fisher's exact test on trace counts, ``duration_median_ms`` a
    two-sided Mann–Whitney U test on the duration lists; other rows are
    descriptive (``test`` ""). Stage rows are named ``stage:<name>:median_ms``.
    """
    plain = ("traces", *RATE_METRICS, *DURATION_METRICS, *HIGHER_IS_BETTER)
    rows = [_row(metric, getattr(base, metric), getattr(target, metric)) for metric in plain]
    for stage in sorted(set(base.stage_durations) | set(target.stage_durations)):
        rows.append(_row(f"stage:{stage}:median_ms", base.stage_durations.get(stage, {}).get("median_ms"),
                         target.stage_durations.get(stage, {}).get("median_ms")))
    for row in rows:
        if row["metric"] in RATE_METRICS:
            result = _rate_test(row["metric"], base, target, min_traces, alpha)
        elif row["metric"] == "duration_median_ms":
            result = _duration_test(base_durations, target_durations, min_traces, alpha)
        else:
            continue
        row["test"], row["p_value"], row["significant"], row["hint"] = result
    return rows


def spec_change_size(base_spec: dict, target_spec: dict) -> int:
    """Number of RFC 6902 operations that turn ``base_spec`` into ``target_spec``."""
    return len(jsonpatch.make_patch(base_spec, target_spec).patch)


# --- risk ------------------------------------------------------------------------

def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric.endswith("_rate"):
        return f"{value * 100:.1f}%"
    return f"{value:.0f} ms" if metric.endswith("_ms") else f"{value:.1f}"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _change(row: dict) -> str:
    """``2.0% → 9.5%, p = 0.01``: the figures behind a significant row."""
    return f"{_fmt(row['metric'], row['base'])} → {_fmt(row['metric'], row['target'])}, {_fmt_p(row['p_value'])}"


def _tiered(value: float, tiers: tuple[tuple[float, int], ...]) -> int:
    return next((points for threshold, points in tiers if value >= threshold), 0)


def regression_risk(*, spec_ops: int, traffic_share: float, stages: list[str], comparison: list[dict],
                    verdicts: dict[str, int]) -> dict:
    """Points from the rules in ``RISK_RULES`` → ``{"level", "points", "reasons"}``."""
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
    reasons += [f"{row['metric']} significantly worse ({_change(row)})" for row in worse]
    if (fails := verdicts.get("FAIL", 0)) > 0:
        points += RISK_FAIL_POINTS
        reasons.append(f"{fails} failing analys{'i' if fails == 1 else 'e'}s")
    level = next(name for threshold, name in RISK_LEVELS if points >= threshold)
    return {"level": level, "points": points, "reasons": reasons or ["no risk factor found"]}


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
        sentence += (f", most in {top['metric'].split(':')[1]} (median {_fmt('_ms', top['base'])} → "
                     f"{_fmt('_ms', top['target'])}, {top['delta_pct']:+.0f}%)")
    return f"{sentence}: review {subject}"


def recommendations(*, asset_type: str, asset_name: str, target_version: int, comparison: list[dict],
                    axes: dict, risk: dict, target: VersionMetrics, min_traces: int = MIN_TRACES) -> list[str]:
    """Rule-based advice for the target version; every sentence quotes the figures it rests on."""
    subject = f"{asset_type} `{asset_name}` v{target_version}"
    advice = [s for s in [_duration_advice(comparison, subject)] if s]
    for row in comparison:
        if row["metric"] in RATE_ADVICE and row["significant"] and row["worse"]:
            label, action = RATE_ADVICE[row["metric"]]
            advice.append(f"{label} rose from {_fmt(row['metric'], row['base'])} to "
                          f"{_fmt(row['metric'], row['target'])} ({_fmt_p(row['p_value'])}): "
                          f"{action} of {subject}")
    if target.traces < min_traces:
        advice.append(f"only {target.traces} traces used v{target_version} (need ≥ {min_traces} for a test): "
                      "run its golden queries or wait for more traffic before publishing")
    evidence = axes.get("evidence")
    if evidence is not None and evidence < LOW_EVIDENCE:
        advice.append(f"answers cite few references ({_fmt('mean', target.mean_references)} per answer on average, "
                      f"evidence {evidence:.1f}/100): check that {subject} keeps the references")
    if risk.get("level") == "high":
        advice.append(f"regression risk is high ({risk['points']} points): {'; '.join(risk['reasons'])}")
    return advice or [f"no significant change between the versions "
                      f"({sum(1 for r in comparison if r['test'])} metrics tested, none significantly worse)"]
