"""From a fitted forecaster's series to the network's windows: logs, scaling, per-window
normalisation (or the hybrid's smoothing), and the temporal split."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from lstmkit.data import temporal_split
from lstmkit.data.window_norm import denormalise, normalise, window_stats
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.forecast.smoothing import fit_smoothing


@dataclass
class Windows:
    """Scaled model inputs for a set of windows, with where each window came from."""

    past: Tensor  # (W, L, F_in), targets normalised per window
    future: Tensor  # (W, H, F_fut)
    target: Tensor  # (W, H, T), scaled and normalised like the past
    series: list[int]  # index into the series list, per window
    origins: np.ndarray  # (W,) row of the first forecast step within its series
    level: np.ndarray  # (W, 1, T) what window normalisation subtracted (scaled units)
    spread: np.ndarray  # (W, 1, T) what it divided by
    seasonal: np.ndarray  # (W, H, T) the hybrid's seasonal index of each forecast step (or 0)

    def denormalise(self, pred: np.ndarray) -> np.ndarray:
        """Normalised ``(W, H, T, Q)`` forecasts back to scaled units."""
        return denormalise(pred, self.level, self.spread) + self.seasonal[..., None]


class Windowing:
    """The :class:`~lstmkit.tasks.forecast.task.Forecaster`'s window and scaling methods."""

    def _logged(self, values: np.ndarray) -> np.ndarray:
        """``(..., F)`` values in targets | covariates column order with logs taken of the
        targets modelled in logs; a float64 copy."""
        cols = self.columns
        assert cols is not None
        out = np.array(values, dtype=np.float64, copy=True)
        for t, logged in enumerate(self.log_targets):
            if not logged:
                continue
            column = out[..., t]
            if np.any(column[np.isfinite(column)] <= 0):
                raise DataError(
                    f"target {cols['targets'][t]!r} is modelled in logs (its training values were "
                    "all positive), but these values hold zero or a negative number; refit with "
                    "transform='none'"
                )
            out[..., t] = np.log(column)
        return out

    def _scale(self, values: np.ndarray) -> np.ndarray:
        """Log (where chosen) and scale ``(..., F)`` values in targets | covariates column order;
        float64."""
        assert self.columns is not None
        n_t = len(self.columns["targets"])
        out = self._logged(values)
        if self._target_scaler is not None:
            out[..., :n_t] = self._target_scaler.transform(out[..., :n_t])
        if self._covariate_scaler is not None and out.shape[-1] > n_t:
            out[..., n_t:] = self._covariate_scaler.transform(out[..., n_t:])
        return out

    def _unscale_targets(self, values: np.ndarray) -> np.ndarray:
        """Undo target scaling (and logs) of ``(..., T)`` values."""
        out = np.asarray(values, dtype=np.float64)
        if self._target_scaler is not None:
            out = self._target_scaler.inverse_transform(out)
        if any(self.log_targets):
            out = out.copy()
            for t, logged in enumerate(self.log_targets):
                if logged:
                    out[..., t] = np.exp(out[..., t])
        return out

    def _windows(
        self,
        series: list[tuple[Any, pd.DataFrame, np.ndarray]],
        origins: list[np.ndarray],
        fit_stops: list[int] | None = None,
    ) -> Windows:
        """Model inputs of the windows whose first forecast step is at each ``origins[s]``.

        Targets are normalised per window (or, for the hybrid, by exponential smoothing whose
        parameters are chosen on the rows before ``fit_stops[s]``, default all rows).
        """
        L, H = self.lookback, self.horizon
        assert L is not None
        n_t = len(self.columns["targets"])  # type: ignore[index]
        n_fut = len(self.columns["future_covariates"])  # type: ignore[index]
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("past", "future", "target", "level", "spread", "seasonal", "origin")
        }
        owners: list[int] = []
        span = np.arange(-L, H)
        for s, ((_, _, values), org) in enumerate(zip(series, origins, strict=True)):
            if len(org) == 0:
                continue
            scaled = self._scale(values)
            n = scaled.shape[0]
            rows = np.clip(org[:, None] + span[None, :], 0, n - 1)  # (W, L+H); padded past the end
            window = scaled[rows]  # (W, L+H, F)
            past = window[:, :L].copy()
            seasonal = np.zeros((len(org), H, n_t))
            if self.model == "hybrid":
                stop = None if fit_stops is None else fit_stops[s]
                deseasoned, level, seasonal = self._smooth(scaled[:, :n_t], org, stop)
                past_t = deseasoned[rows[:, :L]]
                spread = np.ones_like(level)
            else:
                past_t = past[..., :n_t]
                level, spread = window_stats(past_t, self.window_norm)
            past[..., :n_t] = normalise(past_t, level, spread)
            parts["past"].append(past)
            parts["future"].append(
                window[:, L:, scaled.shape[1] - n_fut :] if n_fut else np.zeros((len(org), H, 0))
            )
            parts["target"].append(normalise(window[:, L:, :n_t] - seasonal, level, spread))
            parts["level"].append(level)
            parts["spread"].append(spread)
            parts["seasonal"].append(seasonal)
            parts["origin"].append(org)
            owners.extend([s] * len(org))
        if not owners:
            raise DataError("no windows to forecast: every series is too short")
        joined = {k: np.concatenate(v) for k, v in parts.items()}

        def tensor(name: str) -> Tensor:
            return torch.from_numpy(np.ascontiguousarray(joined[name], dtype=np.float32))

        return Windows(
            past=tensor("past"),
            future=tensor("future"),
            target=tensor("target"),
            series=owners,
            origins=joined["origin"],
            level=joined["level"],
            spread=joined["spread"],
            seasonal=joined["seasonal"],
        )

    def _smooth(
        self, targets: np.ndarray, origins: np.ndarray, fit_stop: int | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The hybrid's smoothing of one series' scaled targets ``(n, T)``: the deseasonalised
        rows ``(n, T)``, each window's level ``(W, 1, T)`` (after the row before its origin) and
        the seasonal index of its forecast steps ``(W, H, T)``."""
        assert self.season is not None
        n, n_t = targets.shape
        deseasoned = np.full((n, n_t), np.nan)
        level = np.empty((len(origins), 1, n_t))
        seasonal = np.empty((len(origins), self.horizon, n_t))
        for t in range(n_t):
            column = targets[:, t]
            known = int(np.flatnonzero(np.isfinite(column))[-1]) + 1  # future rows are NaN
            smoothing = fit_smoothing(column[:known], self.season, fit_stop)
            deseasoned[:known, t] = column[:known] - smoothing.seasonal_prior
            level[:, 0, t] = smoothing.level[np.minimum(origins, known) - 1]
            seasonal[:, :, t] = smoothing.future_seasonal(origins, self.horizon)
        return deseasoned, level, seasonal

    def _split(self, n: int, key: Any) -> Any:
        assert self.lookback is not None
        try:
            return temporal_split(
                n,
                lookback=self.lookback,
                horizon=self.horizon,
                val_size=self.val_size,
                test_size=self.test_size,
            )
        except DataError as err:
            where = "" if key is None else f"series {key!r}: "
            raise DataError(f"{where}{err}") from None


def part_size(name: str, size: Any) -> float | int:
    """A part's size as given to the Forecaster: a fraction in [0, 1) or a row count >= 0."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise ConfigError(f"{name} must be a fraction in [0, 1) or an int >= 0, got {size!r}")
    if isinstance(size, numbers.Integral):
        if size < 0:
            raise ConfigError(f"{name} must be a fraction in [0, 1) or an int >= 0, got {size!r}")
        return int(size)
    if not 0 <= size < 1:  # NaN fails this too
        raise ConfigError(f"{name} must be a fraction in [0, 1) or an int >= 0, got {size!r}")
    return float(size)


def part_rows(size: float | int, n: int, horizon: int) -> int:
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    return 0 if size == 0 else max(int(round(float(size) * n)), horizon)


def check_finite(
    values: Any, series: list[tuple[Any, Any, np.ndarray]], windows: Windows, what: str
) -> Any:
    """``values`` (per window, first axis), unless one is inf or NaN (a series near 1e200, or far
    outside the range the model was trained on): then a DataError naming the series and its
    largest value, instead of an inf forecast or a saturated network's nonsense."""
    array = values.numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    bad = ~np.isfinite(array)
    if not bad.any():
        return values
    w = int(np.argwhere(bad)[0][0])
    key, _, raw = series[int(np.asarray(windows.series)[w])]
    with np.errstate(invalid="ignore"):
        peak = float(np.nanmax(np.abs(raw))) if np.size(raw) else float("nan")
    name = "the series" if key is None else f"series {key!r}"
    raise DataError(
        f"the {what} of {name} is not finite (inf or NaN): its values reach "
        f"{peak:.3g}, beyond what the model can scale; rescale the series (e.g. divide by 1e6)"
    )
