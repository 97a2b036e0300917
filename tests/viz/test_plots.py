"""Plots are written as real PNG files, atomically."""

from __future__ import annotations

import pandas as pd
import pytest

from lstmkit.errors import DataError
from lstmkit.train import History
from lstmkit.viz import plot_forecast, plot_forecasts, plot_loss_curves

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG


def _frames():
    history = pd.DataFrame(
        {"date": pd.date_range("2020-01-01", periods=24, freq="MS"), "y": range(24)}
    )
    forecast = pd.DataFrame(
        {
            "date": pd.date_range("2022-01-01", periods=3, freq="MS"),
            "y": [24.0, 25.0, 26.0],
            "y_q0.1": [23.0, 23.5, 24.0],
            "y_q0.5": [24.0, 25.0, 26.0],
            "y_q0.9": [25.0, 26.5, 28.0],
        }
    )
    return history, forecast


def test_forecast_plot_with_band_and_actual(tmp_path):
    history, forecast = _frames()
    actual = forecast[["date"]].assign(y=[24.5, 25.5, 25.0])
    path = plot_forecast(
        history, forecast, tmp_path / "f.png", time_col="date", target="y", actual=actual
    )
    assert path == tmp_path / "f.png" and _is_png(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]  # no temporary file left


def test_forecast_plots_per_series(tmp_path):
    history, forecast = _frames()
    both_h = pd.concat([history.assign(k="a"), history.assign(k="b")])
    both_f = pd.concat([forecast.assign(k="a"), forecast.assign(k="b")])
    paths = plot_forecasts(both_h, both_f, tmp_path, time_col="date", targets=["y"], id_col="k")
    assert [p.name for p in paths] == ["forecast_a.png", "forecast_b.png"]
    assert all(_is_png(p) for p in paths)


def test_forecast_plot_names_absent_columns(tmp_path):
    history, forecast = _frames()
    with pytest.raises(DataError, match=r"forecast frame lacks column\(s\) \['sales'\]"):
        plot_forecast(
            history.assign(sales=1), forecast, tmp_path / "f.png", time_col="date", target="sales"
        )


def test_loss_curves(tmp_path):
    history = History(
        epoch=[0, 1, 2], train_loss=[1.0, 0.5, 0.3], val_loss=[1.1, 0.6, 0.7], lr=[1e-3] * 3
    )
    assert _is_png(plot_loss_curves(history, tmp_path / "loss.png"))
    assert _is_png(plot_loss_curves(history.to_dict(), tmp_path / "loss2.png"))
    with pytest.raises(DataError, match="the history is empty"):
        plot_loss_curves(History(), tmp_path / "empty.png")
