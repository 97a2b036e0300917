"""The exponential smoothing of the default combination: its recursion against a plain float64
loop, the form AICc picks on series whose shape is known, and the combined forecast."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.tasks.conftest import TINY, monthly_frame

from lstmkit.errors import ConfigError
from lstmkit.tasks import Forecaster
from lstmkit.tasks.forecast.ets import ETSParams, ets_forecast, fit_ets


def _reference(x, p: ETSParams, horizon: int) -> np.ndarray:
    """The state-space recursion written out row by row, from the same initial states."""
    m = p.season if p.form in ("A", "AdA") else 1
    trend = p.form.startswith("Ad")
    start = p.start
    if m > 1:
        level = x[:m].mean()
        season = list(x[:m] - level)
        slope = (x[m : 2 * m].mean() - x[:m].mean()) / m if trend else 0.0
        level += slope * (m - 1) / 2
    else:
        k = max(start - 1, min(len(x) - 1, 4))
        slope = (x[k] - x[0]) / k if trend else 0.0
        level, season = x[start - 1], []
    phi = p.phi if trend else 1.0
    for t in range(start, len(x)):
        s_prior = season[t - m] if m > 1 else 0.0
        e = x[t] - (level + phi * slope + s_prior)
        level = level + phi * slope + p.alpha * e
        slope = phi * slope + p.beta * e
        if m > 1:
            season.append(s_prior + p.gamma * e)
    out = []
    n = len(x)
    for h in range(1, horizon + 1):
        damp = sum(phi**j for j in range(1, h + 1)) if trend else 0.0
        s = season[n - 1 + h - m * ((h + m - 1) // m)] if m > 1 else 0.0
        out.append(level + damp * slope + s)
    return np.array(out)


@pytest.mark.parametrize("form,season", [("N", 1), ("Ad", 1), ("A", 4), ("AdA", 4)])
def test_recursion_and_forecast_match_a_row_by_row_loop(form, season):
    rng = np.random.default_rng(0)
    x = 10 + 0.3 * np.arange(40) + np.tile([1.0, -2.0, 0.5, 0.5], 10) + rng.normal(0, 0.3, 40)
    p = ETSParams(form, 0.4, 0.1 if "Ad" in form else 0.0, 0.9, 0.2, season, start=season)
    for origin in (20, 33, 40):
        got = ets_forecast(x, np.array([origin]), 6, p)[0, :, 0]
        np.testing.assert_allclose(got, _reference(x[:origin], p, 6), rtol=0, atol=1e-10)


def test_aicc_picks_the_shape_of_the_series():
    rng = np.random.default_rng(1)
    t = np.arange(120)
    level = 50 + rng.normal(0, 1, 120)
    trend = 50 + 0.5 * t + np.cumsum(rng.normal(0, 0.3, 120))
    seasonal = 50 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, 120)
    assert fit_ets(level, 1, 10).form == "N"
    assert fit_ets(trend, 1, 10).form == "Ad"
    assert fit_ets(seasonal, 12, 12).form in ("A", "AdA")


def test_trend_and_season_are_forecast_within_a_stated_error():
    rng = np.random.default_rng(2)
    t = np.arange(150)
    y = 100 + 0.8 * t + 6 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, 150)
    p = fit_ets(y[:138], 12, 12, (0.1, 0.5, 0.9))
    pred = ets_forecast(y, np.array([138]), 12, p, (0.1, 0.5, 0.9))[0]
    # within 3 % of the level, and the 80 % band holds most of the actual values
    assert np.abs(pred[:, 1] - y[138:]).max() < 0.03 * y[138:].mean()
    assert ((y[138:] >= pred[:, 0]) & (y[138:] <= pred[:, 2])).mean() >= 0.5


def test_params_round_trip_and_bad_state_is_named():
    p = fit_ets(np.sin(np.arange(60) / 3) + 5, 1, 4, (0.1, 0.5, 0.9))
    assert ETSParams.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    with pytest.raises(ConfigError, match="ETS form must be one of .* got 'M'"):
        ETSParams.from_dict({**p.to_dict(), "form": "M"})
    with pytest.raises(ConfigError, match="bad exponential-smoothing parameters"):
        ETSParams.from_dict({"form": "N"})
    with pytest.raises(ValueError, match="at least 4 finite values"):
        fit_ets(np.array([1.0, 2.0, np.nan, 3.0]), 1, 2)


@pytest.fixture(scope="module")
def combined() -> Forecaster:
    fc = Forecaster(horizon=3, lookback=12, hidden_size=8, ensemble=1, scaler="standard")
    return fc.fit(monthly_frame(), time_col="date", targets="y", seed=0, **TINY)


def test_combined_forecast_is_the_mean_of_the_network_and_the_smoothing(combined):
    frame = monthly_frame()
    assert combined.combine == "ets" and combined.log_targets == [False]
    both = combined.predict(frame)
    combined.combine = "none"
    try:
        network = combined.predict(frame)
    finally:
        combined.combine = "ets"
    params = ETSParams.from_dict(combined.smoothers["all"][""][0])
    scaled = combined._scale(frame[["y"]].to_numpy(np.float64))[:, 0]
    smooth = ets_forecast(scaled, np.array([len(frame)]), 3, params, combined.quantiles)[0]
    smooth = combined._unscale_targets(smooth.T[..., None])[..., 0].T  # (H, Q) in data units
    for q_i, column in enumerate(["y_q0.1", "y_q0.5", "y_q0.9"]):
        expected = (network[column].to_numpy() + smooth[:, q_i]) / 2
        np.testing.assert_allclose(both[column].to_numpy(), expected, rtol=1e-9, atol=1e-9)
    # evaluate uses the smoothing fitted before the test part, predict the one on all rows
    assert combined.smoothers["holdout"][""] != combined.smoothers["all"][""]


def test_combined_model_saves_and_a_model_saved_before_it_loads_alone(combined, tmp_path):
    frame = monthly_frame()
    combined.save(tmp_path / "m")
    back = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.predict(frame), combined.predict(frame))
    # a model saved before the combination existed has no "combine" and forecasts alone
    config_path = tmp_path / "m" / "config.json"
    config = json.loads(config_path.read_text())
    del config["config"]["combine"]
    config_path.write_text(json.dumps(config))
    old = Forecaster.load(tmp_path / "m")
    combined.combine = "none"
    try:
        pd.testing.assert_frame_equal(old.predict(frame), combined.predict(frame))
    finally:
        combined.combine = "ets"


def test_bad_combine_is_named():
    with pytest.raises(ConfigError, match="combine must be one of 'ets', 'none', got 'mean'"):
        Forecaster(horizon=2, combine="mean")


def test_covariates_switch_the_combination_off():
    frame = monthly_frame()
    fc = Forecaster(horizon=3, lookback=12, hidden_size=4, ensemble=1)
    fc.fit(frame, time_col="date", targets="y", past_covariates="temp", seed=0, **TINY)
    assert fc.combine == "ets" and not fc.combined and fc.smoothers == {}


def test_a_column_with_a_gap_gets_no_smoothing():
    from types import SimpleNamespace

    from lstmkit.tasks.forecast.combination import _fit

    stub = SimpleNamespace(season=4, horizon=2, quantiles=(0.1, 0.5, 0.9))
    column = np.sin(np.arange(40) * np.pi / 2) + 5
    assert _fit(stub, column) is not None
    column[10] = np.nan  # dropping the row would move every later row's season by one step
    assert _fit(stub, column) is None
    assert _fit(stub, column[:3]) is None
