"""The noise floor: how much a metric moves between repeats of the same question with nothing changed.

The one definition, used by the group statistics (``regression.statistics``)
and by the single-pair scoring of an analysis (``regression.services.analyses``
hands its width to the engine). Pure: plain numbers in, plain numbers out.

Rule: the baseline runs' interquartile range from ``IQR_FROM`` (4) runs on,
their min–max with 2 or 3 runs, no floor below 2. Min–max grows with the
number of runs (at 20 runs it spans about ±2 standard deviations and hid a
real 46 % latency regression), while the interquartile range stays the
middle half whatever the count; with fewer than 4 runs quartiles are mere
interpolations between the extremes, so the extremes themselves are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IQR_FROM = 4  # runs from which the band is the interquartile range instead of min–max


@dataclass(frozen=True)
class NoiseBand:
    """Where the baseline runs lie: ``low``..``high``."""

    low: float
    high: float

    @property
    def width(self) -> float:
        """How far apart two runs of the baseline lie: the largest change one run can show against another."""
        return self.high - self.low

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def noise_band(values: Sequence[float]) -> NoiseBand | None:
    """The baseline runs' band (interquartile range from 4 runs, else min–max); None below 2 finite runs."""
    runs = np.asarray(values, dtype=float).ravel()
    runs = runs[np.isfinite(runs)]  # a run that did not record the metric is not a sample
    if runs.size < 2:
        return None
    if runs.size >= IQR_FROM:
        low, high = np.percentile(runs, [25, 75])
        return NoiseBand(float(low), float(high))
    return NoiseBand(float(runs.min()), float(runs.max()))
