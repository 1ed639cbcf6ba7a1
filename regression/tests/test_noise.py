"""The noise floor (``regression.noise``): one band for the group statistics and the pair scoring. No database."""

from __future__ import annotations

import math

import numpy as np
import pytest

from regression.noise import NoiseBand, noise_band


@pytest.mark.parametrize(
    ("runs", "band"),
    [
        ([10.0, 30.0], (10.0, 30.0)),  # 2 runs: min–max
        ([130.0, 90.0, 110.0], (90.0, 130.0)),  # 3 runs: min–max, in any order
        ([1.0, 2.0, 3.0, 4.0], (1.75, 3.25)),  # 4 runs: the interquartile range
        ([float(n) for n in range(1, 9)], (2.75, 6.25)),  # 8 runs: the interquartile range
    ],
    ids=["2-runs", "3-runs", "4-runs", "8-runs"],
)
def test_band_is_min_max_below_four_runs_and_the_interquartile_range_from_four(runs, band):
    assert noise_band(runs) == NoiseBand(*band)
    assert noise_band(runs).width == pytest.approx(band[1] - band[0])


def test_all_equal_runs_have_no_noise():
    band = noise_band([250.0] * 6)
    assert band == NoiseBand(250.0, 250.0) and band.width == 0
    assert band.contains(250.0) and not band.contains(250.5)


def test_one_outlier_does_not_widen_the_band_from_four_runs():
    steady = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0]
    band = noise_band([*steady, 1000.0])
    assert band == NoiseBand(101.75, 105.25)  # min–max would be 100..1000
    assert not band.contains(300.0)


def test_with_three_runs_an_outlier_is_all_there_is_to_go_by():
    assert noise_band([100.0, 101.0, 1000.0]) == NoiseBand(100.0, 1000.0)


@pytest.mark.parametrize("runs", [[], [42.0], [math.nan, 5.0], [math.inf, math.nan]])
def test_fewer_than_two_finite_runs_have_no_floor(runs):
    assert noise_band(runs) is None


def test_runs_that_did_not_record_the_metric_are_not_samples():
    assert noise_band([math.nan, 1.0, 3.0]) == NoiseBand(1.0, 3.0)
    assert noise_band(np.array([1.0, 2.0, math.nan, 3.0, 4.0])) == NoiseBand(1.75, 3.25)


def test_band_contains_its_edges():
    band = NoiseBand(10.0, 20.0)
    assert band.contains(10.0) and band.contains(20.0) and not band.contains(9.99) and not band.contains(20.01)
