"""Scoring a forecaster beside its baselines: the test part (``evaluate``), given windows
(``evaluate_windows``) and rolling origins (``backtest``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmkit._checks import positive_int
from lstmkit.data import (
    SeriesTable,
    split_window_starts,
)
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.forecast import statistical as forecast_stats
from lstmkit.tasks.forecast.baselines import naive_forecast, seasonal_naive_forecast
from lstmkit.tasks.forecast.metrics import METRICS, forecast_metrics, seasonal_naive_scale
from lstmkit.tasks.forecast.options import quantile_label
from lstmkit.tasks.forecast.windows import Windows


@dataclass
class BacktestResult:
    """Forecasts of every backtest window (long format) and their metrics beside the baselines."""

    forecasts: pd.DataFrame
    metrics: pd.DataFrame

    def __str__(self) -> str:
        return format_metrics(self.metrics)

    def last_windows(self, id_col: str | None = None) -> pd.DataFrame:
        """The forecast rows of the last window: of each series when the model has an
        ``id_col`` (name it), else of the one series."""
        forecasts = self.forecasts
        if id_col is None:
            return forecasts[forecasts["origin"] == forecasts["origin"].max()]
        last = forecasts.groupby(id_col)["origin"].transform("max")
        return forecasts[forecasts["origin"] == last]


def format_metrics(metrics: pd.DataFrame) -> str:
    """The metrics table as aligned text (the CLI prints this); NaN shows as n/a."""
    from lstmkit._table import format_table

    rows = [
        [str(name), *("n/a" if pd.isna(v) else f"{v:.4f}" for v in values)]
        for name, values in zip(metrics.index, metrics.to_numpy(), strict=True)
    ]
    return format_table(["forecast", *map(str, metrics.columns)], rows)


class Evaluation:
    """The :class:`~lstmkit.tasks.forecast.task.Forecaster`'s evaluation methods."""

    def _score(
        self,
        series: list[tuple[Any, pd.DataFrame, np.ndarray]],
        origins: list[np.ndarray],
        scales: list[np.ndarray],
        fit_stops: list[int],
        statistical: bool = False,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Forecast the windows at ``origins`` with the members fitted before the refit; metrics
        of the model and the baselines (with ``statistical``, also AutoETS, AutoARIMA and
        AutoTheta, each fitted on the rows before a series' first origin)."""
        cols = self.columns
        assert cols is not None and self.season is not None
        n_t = len(cols["targets"])
        windows = self._windows(series, origins, fit_stops)
        pred = self._predict_windows(series, windows, fit_stops, holdout=True)  # (W, H, T, Q)
        point = pred[..., self._point_index]
        statistical = statistical and forecast_stats.available()
        stat_names = tuple(forecast_stats.MODELS) if statistical else ()
        actual, scale = [], []
        baselines: dict[str, list[np.ndarray]] = {
            k: [] for k in ("naive", "seasonal_naive", *stat_names)
        }
        for s, (_, _, values) in enumerate(series):
            org = origins[s]
            if len(org) == 0:
                continue
            y = values[:, :n_t]
            idx = org[:, None] + np.arange(self.horizon)[None, :]
            actual.append(y[idx])
            baselines["naive"].append(naive_forecast(y, org, self.horizon))
            baselines["seasonal_naive"].append(
                seasonal_naive_forecast(y, org, self.horizon, self.season)
            )
            scale.append(np.broadcast_to(scales[s], (len(org), n_t)))
            if stat_names:
                per_target = [
                    forecast_stats.statistical_forecasts(
                        y[:, t], org, self.horizon, self.season, models=stat_names
                    )
                    for t in range(n_t)
                ]
                for name in stat_names:
                    baselines[name].append(np.stack([f[name]["mean"] for f in per_target], -1))
        y_true = np.concatenate(actual)  # (W, H, T)
        scale_w = np.concatenate(scale)[:, None, :]  # (W, 1, T)
        rows = {"model": forecast_metrics(y_true, point, scale_w)}
        for name, forecasts in baselines.items():
            rows[name] = forecast_metrics(y_true, np.concatenate(forecasts), scale_w)
        metrics = pd.DataFrame.from_dict(rows, orient="index")[list(METRICS)]
        metrics.index.name = "forecast"
        if self.quantiles:
            lo, hi = pred[..., 0], pred[..., -1]
            inside = (y_true >= lo) & (y_true <= hi)
            metrics["coverage"] = [float(inside.mean())] + [np.nan] * len(baselines)
        return metrics, self._forecast_frame(series, windows, pred, y_true)

    def _forecast_frame(
        self, series, windows: Windows, pred: np.ndarray, y_true: np.ndarray
    ) -> pd.DataFrame:
        cols = self.columns
        assert cols is not None
        records: dict[str, list[Any]] = {}
        ids, origin_times, times, steps = [], [], [], []
        for s, origin in zip(windows.series, windows.origins, strict=True):
            key, part, _ = series[s]
            t = part[cols["time_col"]].to_numpy()
            ids.extend([key] * self.horizon)
            origin_times.extend([t[origin]] * self.horizon)
            times.extend(t[origin : origin + self.horizon])
            steps.extend(range(1, self.horizon + 1))
        if cols["id_col"] is not None:
            records[cols["id_col"]] = ids
        records["origin"] = origin_times
        records[cols["time_col"]] = times
        records["step"] = steps
        for t_i, name in enumerate(cols["targets"]):
            records[f"{name}_actual"] = y_true[:, :, t_i].reshape(-1).tolist()
            records[name] = pred[:, :, t_i, self._point_index].reshape(-1).tolist()
            for q_i, q in enumerate(self.quantiles or ()):
                records[f"{name}_{quantile_label(q)}"] = pred[:, :, t_i, q_i].reshape(-1).tolist()
        return pd.DataFrame(records)

    def evaluate(
        self,
        data: Any = None,
        *,
        part: str = "test",
        stride: int = 1,
        statistical: bool = False,
    ) -> pd.DataFrame:
        """MAE, RMSE, sMAPE and MASE of the model beside the naive and seasonal-naive baselines.

        Scores every window (every ``stride`` steps) whose targets lie in ``part`` ("train",
        "val" or "test") of each series of ``data``, split as in :meth:`fit`, with the ensemble
        fitted before the refit on all rows, which never saw the test part; ``data`` defaults to
        the data the model was fitted on. MASE scales are the in-sample seasonal-naive MAE of each
        series' training part. With quantiles, ``coverage`` is the share of actual values inside
        the outermost interval. With ``statistical`` (and ``statsforecast`` installed), rows for
        AutoETS, AutoARIMA and AutoTheta too, each fitted on the rows before the part.
        :meth:`evaluate_windows` also returns the forecasts.
        """
        return self.evaluate_windows(
            data, part=part, stride=stride, statistical=statistical
        ).metrics

    def evaluate_windows(
        self,
        data: Any = None,
        *,
        part: str = "test",
        stride: int = 1,
        statistical: bool = False,
    ) -> BacktestResult:
        """:meth:`evaluate`, with every scored window's forecasts (long format) as well."""
        self._require_fitted("evaluate")
        if part not in ("train", "val", "test"):
            raise ConfigError(f"part must be 'train', 'val' or 'test', got {part!r}")
        stride = positive_int("stride", stride)
        table = self._data_or_training(data, "evaluate")
        series = self._series_values(table)
        n_t = len(self.columns["targets"])  # type: ignore[index]
        origins, scales, fit_stops = [], [], []
        for key, _, values in series:
            split = self._split(len(values), key)
            origins.append(split_window_starts(split, stride)[part].numpy() + self.lookback)
            scales.append(seasonal_naive_scale(values[split.fit_rows(), :n_t], self.season))
            fit_stops.append(split.fit_rows().stop)
        if not any(len(o) for o in origins):
            raise DataError(f"the {part} part of the data holds no complete window to score")
        metrics, forecasts = self._score(series, origins, scales, fit_stops, statistical)
        return BacktestResult(forecasts=forecasts, metrics=metrics)

    def _data_or_training(self, data: Any, what: str) -> SeriesTable:
        if data is None:
            if self.training_data is None:
                raise ConfigError(
                    f"{what} needs data: this model was loaded, so pass the data to score"
                )
            return self.training_data
        table = self.read(data)
        self._check_same_columns(table)
        return table

    def backtest(
        self,
        data: Any = None,
        *,
        windows: int = 5,
        stride: int | None = None,
        statistical: bool = False,
    ) -> BacktestResult:
        """Rolling-origin evaluation over the last ``windows`` forecast windows of every series.

        Window k (of K) forecasts from origin ``n - horizon - stride * (K - 1 - k)``; ``stride``
        defaults to the horizon (adjacent, non-overlapping windows). The model is not refitted
        between origins, and it is the ensemble fitted before the refit on all rows (the one
        :meth:`evaluate` uses): windows inside its train or val part flatter it. MASE scales are
        the seasonal-naive MAE of the rows before the first origin.
        """
        self._require_fitted("backtest")
        windows = positive_int("windows", windows)
        stride = self.horizon if stride is None else positive_int("stride", stride)
        table = self._data_or_training(data, "backtest")
        series = self._series_values(table)
        n_t = len(self.columns["targets"])  # type: ignore[index]
        assert self.lookback is not None and self.season is not None
        need = self.lookback + self.horizon + stride * (windows - 1)
        origins, scales = [], []
        for key, _, values in series:
            n = len(values)
            if n < need:
                where = "the series" if key is None else f"series {key!r}"
                raise DataError(
                    f"{where} has {n} rows, too short for {windows} backtest windows: it needs "
                    f"lookback + horizon + stride * (windows - 1) = {need} rows"
                )
            org = n - self.horizon - stride * np.arange(windows - 1, -1, -1)
            origins.append(org)
            scales.append(seasonal_naive_scale(values[: org[0], :n_t], self.season))
        stops = [int(o[0]) for o in origins]
        metrics, forecasts = self._score(series, origins, scales, stops, statistical)
        return BacktestResult(forecasts=forecasts, metrics=metrics)
