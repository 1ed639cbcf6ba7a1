"""Statistics for groups of repeated runs (SPEC §5): is the candidate worse than the baseline?

Pure functions over plain numbers: no Django, no ORM, no clock reads. Input is
``{stage: {metric: [one value per run]}}`` for each side. Per (stage, metric)
the module runs a two-sided Mann–Whitney U test, adjusts the p-values of *all*
tests with Holm–Bonferroni, measures the effect with Cliff's delta and gives
bootstrap 95% intervals for the medians and the median shift. The report reads
like benchstat: baseline median ± CI, candidate, delta or ``~``, p and n.

Rules (all thresholds are keyword arguments of ``compare_groups``):

* fewer than ``min_samples`` (4) runs on either side → no test, the row says
  "insufficient samples" and is never a regression;
* latency metrics (``*_ms``) regress when p_adjusted ≤ α, |δ| ≥ 0.33 and the
  median moved ≥ 10% in the worse direction; other metrics need only p and δ;
* noise floor: a candidate median inside the baseline's own spread is not
  penalised (the baseline runs are repeats of the same question, so that much
  movement happens without any change). The spread is
  ``regression.noise.noise_band`` — the one definition, also used by an
  analysis's pair scoring: the interquartile range when the baseline has 4 or
  more runs, else min–max (with 20 runs min–max spans about ±2 standard
  deviations and hid a real 46% latency regression);
* metrics whose runs are all 0 or 1 (e.g. ``error``) are compared as a rate:
  their centre is the mean, because the median of 0/1 values hides anything
  below a 50% error rate; the min–max noise floor is not applied to them
  because the spread of 0/1 values is always the whole range once one run
  failed.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy import stats as scipy_stats

from regression.noise import noise_band

Centre = Literal["median", "rate"]
GroupData = Mapping[str, Mapping[str, Sequence[float]]]

INSUFFICIENT_NOTE = "insufficient samples"
NOISE_NOTE = "within the baseline's own spread"
_HIGHER_IS_WORSE_WORDS = ("error", "fail", "timeout", "retr", "token", "cost")


# --- basic statistics ----------------------------------------------------------

def _as_array(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    return array


def cliffs_delta(a: Sequence[float], b: Sequence[float]) -> float:
    """Cliff's delta of candidate ``b`` against baseline ``a``, in [-1, 1].

    δ = (#(b > a) − #(b < a)) / (n·m) over all pairs; positive when the
    candidate tends to be larger. Both samples must be non-empty.
    """
    base, cand = _as_array(a, "a"), _as_array(b, "b")
    # n×m sign matrix: 20×20 runs is 400 cells, far cheaper than a rank-based formula's bookkeeping.
    signs = np.sign(cand[:, None] - base[None, :])
    return float(signs.sum() / (base.size * cand.size))


def holm_bonferroni(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given.

    Step-down: the k-th smallest of m p-values is multiplied by (m − k + 1),
    a running maximum keeps the adjusted values monotone, and each is capped
    at 1. Rejecting where adjusted ≤ α controls the family-wise error at α.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if p.size == 0:
        return []
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(p, kind="stable")
    multipliers = p.size - np.arange(p.size)
    stepped = np.minimum(1.0, np.maximum.accumulate(p[order] * multipliers))
    adjusted = np.empty_like(stepped)
    adjusted[order] = stepped
    return [float(value) for value in adjusted]


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann–Whitney U p-value (SciPy); 1.0 when the samples cannot be told apart.

    When every value on both sides is equal the rank variance is zero and
    SciPy may warn or return NaN; there is no evidence of a difference then.
    """
    base, cand = _as_array(a, "a"), _as_array(b, "b")
    if np.all(base == base[0]) and np.all(cand == base[0]):
        return 1.0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(scipy_stats.mannwhitneyu(base, cand, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else min(1.0, p)


def _resampled_centres(values: np.ndarray, rng: np.random.Generator, resamples: int, centre: Centre) -> np.ndarray:
    """Centre (median or mean) of each of ``resamples`` bootstrap resamples, drawn as one index matrix."""
    indices = rng.integers(0, values.size, size=(resamples, values.size))
    samples = values[indices]
    return np.mean(samples, axis=1) if centre == "rate" else np.median(samples, axis=1)


def _percentile_interval(estimates: np.ndarray, confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1")
    tail = (1 - confidence) / 2
    low, high = np.quantile(estimates, [tail, 1 - tail])
    return float(low), float(high)


def median_ci(
    values: Sequence[float], *, confidence: float = 0.95, resamples: int = 2000, seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the median; the same seed gives the same interval."""
    rng = np.random.default_rng(seed)
    return _percentile_interval(_resampled_centres(_as_array(values, "values"), rng, resamples, "median"), confidence)


def bootstrap_median_shift_ci(
    a: Sequence[float], b: Sequence[float], *, confidence: float = 0.95, resamples: int = 2000, seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of median(b*) − median(a*), resampling each side independently."""
    rng = np.random.default_rng(seed)
    base = _resampled_centres(_as_array(a, "a"), rng, resamples, "median")
    cand = _resampled_centres(_as_array(b, "b"), rng, resamples, "median")
    return _percentile_interval(cand - base, confidence)


# --- direction rules -------------------------------------------------------------

def is_latency_metric(metric: str) -> bool:
    """Latency metrics (``duration_ms``, ``*_ms``) also need a relative median shift to regress."""
    return metric.endswith("_ms")


def default_higher_is_worse(metric: str) -> bool:
    """Which way is worse for a metric, by name.

    Higher is worse for latency and for error-like or cost-like metrics
    (errors, failures, timeouts, retries, tokens, cost). Everything else is
    treated as a count of useful output (rows, references, blocks): a move
    either way is a change, but only fewer is a regression.
    """
    name = metric.lower()
    return is_latency_metric(name) or any(word in name for word in _HIGHER_IS_WORSE_WORDS)


# --- rows -------------------------------------------------------------------------

def _fmt_number(value: float) -> str:
    # benchstat-like: three or four significant digits, "12.0" rather than "12".
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 1 or value == 0:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _fmt_centre(centre: float | None, ci: tuple[float, float] | None) -> str:
    if centre is None:
        return "—"
    if ci is None:
        return _fmt_number(centre)
    spread = max(ci[1] - centre, centre - ci[0], 0.0)
    if centre == 0:
        return f"{_fmt_number(centre)} ±{_fmt_number(spread)}"
    return f"{_fmt_number(centre)} ±{spread / abs(centre) * 100:.0f}%"


@dataclass(frozen=True)
class StatRow:
    """One (stage, metric) comparison.

    ``baseline_median``/``candidate_median`` hold the mean (a rate) when
    ``centre == "rate"``. Test fields (p, δ, shift CI) are None when the row
    was not tested (insufficient samples). ``delta_pct`` is None when the
    baseline centre is 0; ``as_row`` shows it as ``~`` unless significant.
    """

    stage: str
    metric: str
    n_baseline: int
    n_candidate: int
    baseline_median: float | None
    baseline_ci: tuple[float, float] | None
    candidate_median: float | None
    candidate_ci: tuple[float, float] | None
    delta_pct: float | None
    shift_ci: tuple[float, float] | None
    p_value: float | None
    p_adjusted: float | None
    cliffs_delta: float | None
    significant: bool
    regression: bool
    improvement: bool
    within_noise: bool
    note: str
    centre: Centre = "median"
    inconclusive: bool = False

    @property
    def name(self) -> str:
        return f"{self.stage} {self.metric}"

    @property
    def insufficient(self) -> bool:
        return self.p_value is None

    def _delta_text(self) -> str:
        if not self.significant:
            return "~"
        if self.delta_pct is not None:
            return f"{self.delta_pct:+.2f}%"
        # Baseline centre is 0: a percentage is meaningless, show the absolute move.
        return f"{(self.candidate_median or 0.0) - (self.baseline_median or 0.0):+.3g} abs"

    def as_row(self) -> dict[str, str]:
        """Formatted cells like benchstat; ``p`` is the Holm-adjusted p-value."""
        n = f"n={self.n_baseline}+{self.n_candidate}"
        p = "p=n/a" if self.p_adjusted is None else f"p={self.p_adjusted:.3f}"
        return {
            "name": self.name,
            "baseline": _fmt_centre(self.baseline_median, self.baseline_ci),
            "candidate": _fmt_centre(self.candidate_median, self.candidate_ci),
            "delta": self._delta_text(),
            "p": f"{p} {n}",
            "note": self.note,
        }


@dataclass(frozen=True)
class GroupComparison:
    """All rows of a group comparison plus the verdict flags.

    ``inconclusive`` is True when the data cannot settle the question: a side
    has too few runs, or some row is on the fence — its raw p ≤ α but the
    Holm-adjusted p > α, or its effect |δ| ≥ min_effect without significance.
    """

    rows: list[StatRow]
    insufficient: bool
    inconclusive: bool
    notes: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[StatRow]:
        return [row for row in self.rows if row.regression]

    def table(self) -> list[dict[str, str]]:
        return [row.as_row() for row in self.rows]

    def text_table(self) -> str:
        """Aligned plain-text table (benchstat style) with the notes underneath."""
        header = {"name": "", "baseline": "baseline", "candidate": "candidate", "delta": "delta", "p": "", "note": ""}
        lines = [header, *self.table()]
        keys = list(header)
        widths = {key: max(len(line[key]) for line in lines) for key in keys}
        text = ["  ".join(line[key].ljust(widths[key]) for key in keys).rstrip() for line in lines]
        text += [f"note: {note}" for note in self.notes]
        return "\n".join(text)


# --- comparison -----------------------------------------------------------------

@dataclass(frozen=True)
class _Thresholds:
    alpha: float
    min_samples: int
    min_effect: float
    min_shift_pct: float
    confidence: float
    resamples: int
    noise_floor: bool
    higher_is_worse: Callable[[str], bool]


def _clean(values: Sequence[float]) -> np.ndarray:
    # A run that did not record the metric arrives as NaN; it is not a sample.
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def _centre_kind(base: np.ndarray, cand: np.ndarray) -> Centre:
    both = np.concatenate([base, cand])
    return "rate" if both.size and np.isin(both, (0.0, 1.0)).all() else "median"


def _centre(values: np.ndarray, kind: Centre) -> float | None:
    if values.size == 0:
        return None
    return float(values.mean() if kind == "rate" else np.median(values))


def _relative_shift(base: float | None, cand: float | None) -> float | None:
    if base is None or cand is None or base == 0:
        return None
    return (cand - base) / abs(base) * 100


def _seed(stage: str, metric: str) -> int:
    # crc32, not hash(): str hashes are salted per process and would make the CIs differ between runs.
    return zlib.crc32(f"{stage}\x00{metric}".encode())


def _untested_row(stage: str, metric: str, base: np.ndarray, cand: np.ndarray, kind: Centre) -> StatRow:
    base_c, cand_c = _centre(base, kind), _centre(cand, kind)
    return StatRow(
        stage=stage, metric=metric, n_baseline=int(base.size), n_candidate=int(cand.size),
        baseline_median=base_c, baseline_ci=None, candidate_median=cand_c, candidate_ci=None,
        delta_pct=_relative_shift(base_c, cand_c), shift_ci=None, p_value=None, p_adjusted=None,
        cliffs_delta=None, significant=False, regression=False, improvement=False, within_noise=False,
        note=INSUFFICIENT_NOTE, centre=kind, inconclusive=True,
    )


def _moved_enough(row: StatRow, worse_sign: int, limits: _Thresholds) -> bool:
    """Does the row pass the effect rules in direction ``worse_sign`` (+1 up, -1 down)?"""
    if not row.significant or row.cliffs_delta is None or row.cliffs_delta * worse_sign < limits.min_effect:
        return False
    if not is_latency_metric(row.metric):
        return True
    shift = row.delta_pct
    if shift is None:  # baseline latency of 0: any move in that direction is an unbounded relative shift
        shift = math.copysign(math.inf, (row.candidate_median or 0.0) - (row.baseline_median or 0.0))
    return shift * worse_sign >= limits.min_shift_pct


def _judge(row: StatRow, base: np.ndarray, limits: _Thresholds) -> StatRow:
    """Apply the significance, noise-floor, regression and inconclusive rules to a tested row."""
    assert row.p_value is not None and row.p_adjusted is not None and row.cliffs_delta is not None
    significant = row.p_adjusted <= limits.alpha
    band = noise_band(base)
    within_noise = bool(
        limits.noise_floor and row.centre == "median" and band is not None
        and row.candidate_median is not None and band.contains(row.candidate_median)
    )
    worse = 1 if limits.higher_is_worse(row.metric) else -1
    judged = replace(row, significant=significant, within_noise=within_noise)
    regression = not within_noise and _moved_enough(judged, worse, limits)
    improvement = not within_noise and _moved_enough(judged, -worse, limits)
    on_the_fence = (row.p_value <= limits.alpha < row.p_adjusted) or (
        abs(row.cliffs_delta) >= limits.min_effect and not significant
    )
    notes = [row.note] if row.note else []
    # Said only where it matters: a "~" row inside the spread needs no excuse.
    if within_noise and significant:
        notes.append(NOISE_NOTE)
    return replace(
        judged, regression=regression, improvement=improvement, inconclusive=on_the_fence, note="; ".join(notes),
    )


def _tested_row(
    stage: str, metric: str, base: np.ndarray, cand: np.ndarray, kind: Centre, limits: _Thresholds,
) -> StatRow:
    """Test statistics for one (stage, metric); significance is decided after Holm over all rows."""
    # One generator per row: the per-side CIs and the shift CI come from the same resamples,
    # and the result does not depend on which other metrics are in the comparison.
    rng = np.random.default_rng(_seed(stage, metric))
    base_star = _resampled_centres(base, rng, limits.resamples, kind)
    cand_star = _resampled_centres(cand, rng, limits.resamples, kind)
    base_c, cand_c = _centre(base, kind), _centre(cand, kind)
    delta_pct = _relative_shift(base_c, cand_c)
    note = "compared as a rate (mean of 0/1 runs)" if kind == "rate" else ""
    if delta_pct is None and base_c is not None and cand_c is not None:
        note = "; ".join(filter(None, [note, f"baseline centre is 0; absolute shift {cand_c - base_c:+.3g}"]))
    p = mann_whitney_p(base, cand)
    return StatRow(
        stage=stage, metric=metric, n_baseline=int(base.size), n_candidate=int(cand.size),
        baseline_median=base_c, baseline_ci=_percentile_interval(base_star, limits.confidence),
        candidate_median=cand_c, candidate_ci=_percentile_interval(cand_star, limits.confidence),
        delta_pct=delta_pct, shift_ci=_percentile_interval(cand_star - base_star, limits.confidence),
        p_value=p, p_adjusted=p, cliffs_delta=cliffs_delta(base, cand), significant=False,
        regression=False, improvement=False, within_noise=False, note=note, centre=kind,
    )


def _group_notes(rows: list[StatRow], skipped: list[str], limits: _Thresholds) -> list[str]:
    tested = [row for row in rows if not row.insufficient]
    notes = [
        f"p: two-sided Mann–Whitney U, Holm–Bonferroni adjusted across {len(tested)} tests; "
        f"significant when p ≤ {limits.alpha:g}",
    ]
    if any(row.insufficient for row in rows):
        notes.append(f"fewer than {limits.min_samples} runs on a side: {INSUFFICIENT_NOTE}, not tested, never FAIL")
    if limits.noise_floor and any(row.n_baseline >= 2 for row in rows):
        notes.append(
            "noise floor: the baseline runs repeat the same question, so a candidate median within the "
            "baseline's own spread (interquartile range; min–max below 4 runs) is not penalised"
        )
    notes += [f"{name}: present on one side only, not compared" for name in skipped]
    return notes


def compare_groups(
    baseline: GroupData,
    candidate: GroupData,
    *,
    alpha: float = 0.05,
    min_samples: int = 4,
    min_effect: float = 0.33,
    min_shift_pct: float = 10.0,
    higher_is_worse: Callable[[str], bool] | None = None,
    noise_floor: bool = True,
    confidence: float = 0.95,
    resamples: int = 2000,
) -> GroupComparison:
    """Compare two groups of repeated runs, shaped ``{stage: {metric: [value per run]}}``.

    Every (stage, metric) present on both sides becomes a row, in baseline
    order. Rows with at least ``min_samples`` finite values per side are
    tested and Holm-adjusted together; the others are reported as
    insufficient samples and never regress. Deterministic: bootstrap seeds
    derive from the stage and metric names.
    """
    limits = _Thresholds(
        alpha=alpha, min_samples=min_samples, min_effect=min_effect, min_shift_pct=min_shift_pct,
        confidence=confidence, resamples=resamples, noise_floor=noise_floor,
        higher_is_worse=higher_is_worse or default_higher_is_worse,
    )
    rows: list[StatRow] = []
    baselines: list[np.ndarray] = []
    skipped: list[str] = []
    for stage in dict.fromkeys([*baseline, *candidate]):
        base_metrics, cand_metrics = baseline.get(stage, {}), candidate.get(stage, {})
        for metric in dict.fromkeys([*base_metrics, *cand_metrics]):
            if metric not in base_metrics or metric not in cand_metrics:
                skipped.append(f"{stage} {metric}")
                continue
            base, cand = _clean(base_metrics[metric]), _clean(cand_metrics[metric])
            kind = _centre_kind(base, cand)
            if min(base.size, cand.size) < max(min_samples, 1):
                rows.append(_untested_row(stage, metric, base, cand, kind))
            else:
                rows.append(_tested_row(stage, metric, base, cand, kind, limits))
            baselines.append(base)

    tested = [i for i, row in enumerate(rows) if not row.insufficient]
    adjusted = holm_bonferroni([rows[i].p_value for i in tested])  # type: ignore[misc]
    for i, p_adjusted in zip(tested, adjusted):
        rows[i] = _judge(replace(rows[i], p_adjusted=p_adjusted), baselines[i], limits)

    insufficient = any(row.insufficient for row in rows)
    return GroupComparison(
        rows=rows,
        insufficient=insufficient,
        inconclusive=insufficient or any(row.inconclusive for row in rows),
        notes=_group_notes(rows, skipped, limits),
    )
