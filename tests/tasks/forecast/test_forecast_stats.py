"""Our baselines agree with statsforecast's; the statistical wrapper fits once, applies at each
origin."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import dataset_path
from lstmkit.tasks.forecast import statistical as forecast_stats
from lstmkit.tasks.forecast.baselines import naive_forecast, seasonal_naive_forecast

sf_models = pytest.importorskip("statsforecast.models")


@pytest.fixture(scope="module")
def sst() -> np.ndarray:
    return pd.read_csv(dataset_path("elnino_sst_monthly"))["sst"].to_numpy(np.float64)


@pytest.mark.parametrize("origin", [300, 517, 720])
def test_naive_and_seasonal_naive_agree_with_statsforecast(sst, origin):
    horizon = 18  # longer than a season, so the seasonal naive wraps around
    ours = seasonal_naive_forecast(sst, [origin], horizon, 12)[0]
    theirs = sf_models.SeasonalNaive(season_length=12).fit(sst[:origin]).predict(horizon)["mean"]
    np.testing.assert_allclose(ours, theirs)
    ours = naive_forecast(sst, [origin], horizon)[0]
    theirs = sf_models.Naive().fit(sst[:origin]).predict(horizon)["mean"]
    np.testing.assert_allclose(ours, theirs)


def test_models_are_fitted_once_and_applied_at_each_origin(sst):
    origins = np.array([600, 612, 630])
    out = forecast_stats.statistical_forecasts(sst, origins, 12, 12, models=("ets", "theta"))
    for name, cls in (("ets", sf_models.AutoETS), ("theta", sf_models.AutoTheta)):
        fitted = cls(season_length=12).fit(sst[:600])
        first = fitted.predict(12, level=[80])
        np.testing.assert_allclose(out[name]["mean"][0], first["mean"])
        np.testing.assert_allclose(out[name]["lo"][0], first["lo-80"])
        later = fitted.forward(sst[:630], h=12, level=[80])
        np.testing.assert_allclose(out[name]["mean"][2], later["mean"])
        np.testing.assert_allclose(out[name]["hi"][2], later["hi-80"])
        assert np.all(out[name]["lo"] <= out[name]["mean"])
        assert np.all(out[name]["mean"] <= out[name]["hi"])


def test_a_series_with_gaps_gives_nan_and_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        out = forecast_stats.statistical_forecasts(
            np.array([1.0, np.nan, 3.0, 4.0, 5.0]), np.array([4]), 2, 1, models=("arima",)
        )
    assert np.isnan(out["arima"]["mean"]).all() and np.isnan(out["arima"]["hi"]).all()
    assert "AutoARIMA not fitted: the series has missing values" in caplog.text


def test_a_model_that_fails_gives_nan_and_a_warning(caplog, monkeypatch):
    def broken(name, season):
        raise ValueError("no convergence")

    monkeypatch.setattr(forecast_stats, "_model", broken)
    with caplog.at_level(logging.WARNING):
        out = forecast_stats.statistical_forecasts(np.arange(30.0), np.array([20]), 3, 1)
    assert all(np.isnan(r["mean"]).all() for r in out.values())
    assert "AutoETS failed on a series of 20 rows: no convergence" in caplog.text


def test_unknown_model_is_named(sst):
    with pytest.raises(KeyError, match="unknown statistical model 'prophet'"):
        forecast_stats.statistical_forecasts(sst, np.array([100]), 3, 12, models=("prophet",))
