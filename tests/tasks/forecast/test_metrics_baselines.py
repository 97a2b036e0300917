"""Metrics and baselines against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.tasks.forecast.baselines import naive_forecast, seasonal_naive_forecast
from lstmkit.tasks.forecast.metrics import (
    forecast_metrics,
    mae,
    mase,
    rmse,
    seasonal_naive_scale,
    smape,
)

Y = [1.0, 2.0, 4.0, 0.0]
P = [2.0, 2.0, 2.0, 0.0]  # errors 1, 0, 2, 0


def test_mae_rmse_by_hand():
    assert mae(Y, P) == pytest.approx(3 / 4)
    assert rmse(Y, P) == pytest.approx(math.sqrt(5 / 4))


def test_smape_by_hand_with_zero_over_zero_as_zero():
    # 200*|e|/(|y|+|p|): 200/3, 0, 400/6, 0 (0/0 -> 0)
    assert smape(Y, P) == pytest.approx((200 / 3 + 400 / 6) / 4)


def test_mase_by_hand():
    # seasonal-naive (m = 2) in-sample errors of 1, 3, 2, 5, 4: |2-1|, |5-3|, |4-2| -> mean 5/3
    scale = seasonal_naive_scale([1.0, 3.0, 2.0, 5.0, 4.0], 2)
    assert scale.tolist() == pytest.approx([5 / 3])
    assert mase(Y, P, scale) == pytest.approx((3 / 4) / (5 / 3))
    assert math.isnan(mase(Y, P, 0.0))


def test_seasonal_naive_scale_falls_back_to_lag_one_for_short_series():
    assert seasonal_naive_scale([1.0, 2.0, 4.0], 12).tolist() == pytest.approx([1.5])


def test_forecast_metrics_keys_and_shape_errors():
    assert list(forecast_metrics(Y, P, 1.0)) == ["MAE", "RMSE", "sMAPE", "MASE"]
    with pytest.raises(ShapeError, match=r"y_true has shape \(4,\) but y_pred has shape \(3,\)"):
        mae(Y, P[:3])


def test_naive_forecast_repeats_the_last_value():
    values = np.arange(10.0)
    assert naive_forecast(values, [4, 7], 3).tolist() == [[3.0] * 3, [6.0] * 3]


def test_seasonal_naive_takes_the_value_one_season_earlier():
    values = np.arange(30.0)
    # origin 24, season 4: steps 24..29 -> 20, 21, 22, 23, then again 20, 21 (two seasons back)
    assert seasonal_naive_forecast(values, [24], 6, 4).tolist() == [[20, 21, 22, 23, 20, 21]]
    two_d = np.stack([values, -values], axis=1)
    out = seasonal_naive_forecast(two_d, [12], 2, 12)
    assert out.shape == (1, 2, 2)
    assert out[0, :, 1].tolist() == [-0.0, -1.0]


def test_seasonal_naive_without_a_full_season_of_history_is_naive():
    assert seasonal_naive_forecast(np.arange(10.0), [3], 2, 4).tolist() == [[2.0, 2.0]]


def test_baseline_argument_errors():
    with pytest.raises(ConfigError, match="season must be a positive int"):
        seasonal_naive_forecast(np.arange(5.0), [3], 2, 0)
    with pytest.raises(ShapeError, match=r"origins must lie in \[1, 5\]"):
        naive_forecast(np.arange(5.0), [0], 2)


def test_last_windows_keeps_each_series_latest_origin():
    from lstmkit.tasks.forecast import BacktestResult

    forecasts = pd.DataFrame(
        {
            "id": ["a", "a", "a", "b", "b"],
            "origin": [1, 2, 2, 1, 1],
            "step": [1, 1, 2, 1, 2],
        }
    )
    result = BacktestResult(forecasts=forecasts, metrics=pd.DataFrame())
    assert result.last_windows("id").index.tolist() == [1, 2, 3, 4]  # b's last origin is 1
    assert result.last_windows().index.tolist() == [1, 2]  # one series: the latest origin
