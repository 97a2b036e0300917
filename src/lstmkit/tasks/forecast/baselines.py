"""The baselines every forecast is shown beside: naive (last value) and seasonal naive.

Both read a series' own values up to the forecast origin: ``values`` ``(N,)`` or ``(N, F)``, and
``origins`` the row index of the first forecast step of each window (the inputs end at
``origin - 1``). They return ``(W, horizon, F)`` (or ``(W, horizon)`` for 1-D values).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit._checks import positive_int
from lstmkit.errors import ShapeError


def _prepare(values: Any, origins: Any, horizon: int) -> tuple[np.ndarray, np.ndarray, bool]:
    arr = np.asarray(values, dtype=np.float64)
    flat = arr.ndim == 1
    if flat:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ShapeError(f"values must have shape (N,) or (N, F), got {arr.shape}")
    org = np.asarray(origins, dtype=np.int64).reshape(-1)
    positive_int("horizon", horizon)
    if org.size and (org.min() < 1 or org.max() > arr.shape[0]):
        raise ShapeError(
            f"origins must lie in [1, {arr.shape[0]}] (there must be a value before each origin), "
            f"got {int(org.min())}..{int(org.max())}"
        )
    return arr, org, flat


def naive_forecast(values: Any, origins: Any, horizon: int) -> np.ndarray:
    """The last observed value (row ``origin - 1``) repeated ``horizon`` times."""
    arr, org, flat = _prepare(values, origins, horizon)
    out = np.repeat(arr[org - 1][:, None, :], horizon, axis=1)
    return out[..., 0] if flat else out


def seasonal_naive_forecast(values: Any, origins: Any, horizon: int, season: int) -> np.ndarray:
    """The value one season before each forecast step: step h (0-based) of a window with origin o
    is ``values[o + h - season * ceil((h + 1) / season)]``, the latest observed value in the same
    phase of the season. Where a window has fewer than ``season`` values before its origin, it
    gets the naive forecast instead.
    """
    positive_int("season", season)
    arr, org, flat = _prepare(values, origins, horizon)
    steps = np.arange(horizon)
    lag = season * ((steps + 1 + season - 1) // season)  # season * ceil((h+1)/season)
    index = org[:, None] + steps[None, :] - lag[None, :]  # (W, H)
    short = org < season
    if short.any():
        index[short] = (org[short] - 1)[:, None]
    out = arr[index]  # (W, H, F)
    return out[..., 0] if flat else out
