"""The hybrid's exponential smoothing: the recursion, its causality and its parameter choice."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.tasks.forecast.smoothing import fit_smoothing


def _seasonal(n: int = 96, m: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 0.05 * t + 2 * np.sin(2 * np.pi * t / m) + 0.1 * rng.standard_normal(n)


def test_recursion_matches_the_equations_written_out():
    x = _seasonal()
    sm = fit_smoothing(x, 12)
    a, c, m = sm.alpha, sm.gamma, 12
    level = x[:m].mean()
    seasonal = list(x[:m] - level)
    for t in range(m, len(x)):
        s_prior = seasonal[t - m]
        new_level = a * (x[t] - s_prior) + (1 - a) * level
        seasonal.append(c * (x[t] - new_level) + (1 - c) * s_prior)
        level = new_level
        assert sm.level[t] == pytest.approx(level)
        assert sm.seasonal[t] == pytest.approx(seasonal[t])
        assert sm.seasonal_prior[t] == pytest.approx(s_prior)


def test_state_at_t_does_not_depend_on_later_rows():
    x = _seasonal()
    y = x.copy()
    y[60:] += 100.0  # a different future
    a = fit_smoothing(x, 12, fit_stop=50)
    b = fit_smoothing(y, 12, fit_stop=50)
    assert (a.alpha, a.gamma) == (b.alpha, b.gamma)  # chosen on rows < 50 only
    np.testing.assert_array_equal(a.level[:60], b.level[:60])
    np.testing.assert_array_equal(a.seasonal_prior[:61], b.seasonal_prior[:61])


def test_future_seasonal_repeats_the_last_estimate_of_each_phase():
    x = _seasonal()
    sm = fit_smoothing(x, 12)
    origin = 90
    future = sm.future_seasonal(np.array([origin]), 15)[0]
    for h in range(15):
        lag = 12 * int(np.ceil((h + 1) / 12))
        assert future[h] == sm.seasonal[origin + h - lag]
        assert origin + h - lag < origin  # known at the origin


def test_smoothing_tracks_a_seasonal_series_better_than_its_level_alone():
    x = _seasonal()
    sm = fit_smoothing(x, 12)
    one_step = sm.level[:-1] + sm.seasonal_prior[1:]
    err_seasonal = np.abs(x[24:] - one_step[23:]).mean()
    err_naive = np.abs(np.diff(x)[23:]).mean()
    assert sm.gamma > 0
    assert err_seasonal < 0.5 * err_naive


def test_no_season_is_simple_exponential_smoothing():
    x = np.cumsum(np.random.default_rng(1).standard_normal(50))
    sm = fit_smoothing(x, 1)
    assert sm.season == 1 and sm.gamma == 0.0
    assert not sm.seasonal_prior.any()
    assert sm.future_seasonal(np.array([40]), 5).shape == (1, 5)
    # a season longer than half the series is not estimated
    assert fit_smoothing(x, 30).season == 1
