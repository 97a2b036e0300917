"""Forecast accuracy metrics: MAE, RMSE, sMAPE and MASE, on numpy arrays of any matching shape.

MASE (Hyndman & Koehler, 2006) divides each absolute error by the in-sample MAE of the
seasonal-naive forecast on the series' training part (:func:`seasonal_naive_scale`), so 1.0
means "as good as repeating last season, in-sample"; below 1 is better.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.errors import ShapeError

METRICS = ("MAE", "RMSE", "sMAPE", "MASE")


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=np.float64)
    b = np.asarray(y_pred, dtype=np.float64)
    if a.shape != b.shape:
        raise ShapeError(f"y_true has shape {a.shape} but y_pred has shape {b.shape}")
    if a.size == 0:
        raise ShapeError("cannot compute a metric over 0 values")
    return a, b


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    a, b = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    a, b = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric MAPE in percent (0 to 200): mean of 200·|y - ŷ| / (|y| + |ŷ|), 0/0 counted as 0."""
    a, b = _pair(y_true, y_pred)
    denom = np.abs(a) + np.abs(b)
    ratio = np.divide(2.0 * np.abs(a - b), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100.0 * np.mean(ratio))


def mase(y_true: Any, y_pred: Any, scale: Any) -> float:
    """Mean absolute scaled error: mean of |y - ŷ| / scale.

    ``scale`` broadcasts against the errors (e.g. one value per series and target column, see
    :func:`seasonal_naive_scale`). A scale of 0 (a constant training series) makes MASE undefined:
    NaN.
    """
    a, b = _pair(y_true, y_pred)
    s = np.asarray(scale, dtype=np.float64)
    try:
        s = np.broadcast_to(s, a.shape)
    except ValueError:
        raise ShapeError(f"scale of shape {s.shape} does not broadcast to {a.shape}") from None
    if np.any(s <= 0) or not np.all(np.isfinite(s)):
        return float("nan")
    return float(np.mean(np.abs(a - b) / s))


def seasonal_naive_scale(values: Any, season: int) -> np.ndarray:
    """In-sample MAE of the seasonal-naive forecast: mean over t >= m of |y_t - y_{t-m}|.

    ``values``: ``(N,)`` or ``(N, F)`` (one scale per column). With ``N <= season`` the naive
    (m = 1) scale is used instead.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    m = int(season) if arr.shape[0] > int(season) else 1
    if arr.shape[0] <= m:
        raise ShapeError(f"need at least {m + 1} values for a MASE scale, got {arr.shape[0]}")
    return np.mean(np.abs(arr[m:] - arr[:-m]), axis=0)


def forecast_metrics(y_true: Any, y_pred: Any, scale: Any) -> dict[str, float]:
    """``{"MAE", "RMSE", "sMAPE", "MASE"}`` for one set of forecasts."""
    return {
        "MAE": mae(y_true, y_pred),
        "RMSE": rmse(y_true, y_pred),
        "sMAPE": smape(y_true, y_pred),
        "MASE": mase(y_true, y_pred, scale),
    }
