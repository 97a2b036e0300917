"""The forecaster's default combination: the network ensemble's forecast averaged with an
exponential-smoothing model's (:mod:`lstmkit.tasks.forecast.ets`), quantile by quantile.

Why: the two fail in different places. The network learns what a series' own history did after
a window like the last one (a rebound after a fall, a cycle's turn); smoothing with a damped
trend follows where the series is heading now. Where history repeats, the network wins; after
a change of regime (a heart rate that falls and stays down), smoothing does. Their mean was the
most robust default the benchmark measured (FORECASTING.md, docs/forecasting.md), as forecast
combinations were in the M competitions. Averaging quantiles, not mixing distributions, keeps
the bands ordered and as wide as the members' on average.

Both halves work in the forecaster's scaled units (after the log transform, so a season that
grows with the level is multiplicative here). The smoothing parameters are chosen at fit time on
the same rows as the networks: each series' rows before its test part for the members that
:meth:`~lstmkit.tasks.Forecaster.evaluate` uses, all rows for the refitted ones that predict
uses, and are then applied to whatever history a forecast starts from, never re-fitted. A series
predict has not seen at fit time (another id) gets parameters fitted on its own history.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from lstmkit.tasks.forecast.ets import ETSParams, ets_forecast, fit_ets

log = logging.getLogger(__name__)

COMBINES = ("ets", "none")


def _key(key: Any) -> str:
    return "" if key is None else str(key)


def fit_smoothers(
    forecaster: Any,
    series: list[tuple[Any, Any, np.ndarray]],
    fit_stops: list[int],
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per series key, per target column: the ETS fitted on the rows before each series' test
    part (``"holdout"``) and on all its rows (``"all"``, only with ``refit``)."""
    n_t = len(forecaster.columns["targets"])
    out: dict[str, dict[str, list[dict[str, Any]]]] = {"holdout": {}, "all": {}}
    for (key, _, values), stop in zip(series, fit_stops, strict=True):
        scaled = forecaster._scale(values)[:, :n_t]
        parts = {"holdout": stop, "all": scaled.shape[0]} if forecaster.refit else {"holdout": stop}
        for part, rows in parts.items():
            fitted = [_fit(forecaster, scaled[:rows, t]) for t in range(n_t)]
            out[part][_key(key)] = [None if p is None else p.to_dict() for p in fitted]
    if not forecaster.refit:
        out["all"] = out["holdout"]
    return out


def _fit(forecaster: Any, column: np.ndarray) -> ETSParams | None:
    """The smoothing model of one scaled column; None when it is shorter than 4 rows or has a
    gap (its forecasts are then the network's alone, as :func:`combine` does for a history with
    gaps: dropping the gap's rows would shift the season's phase)."""
    try:
        return fit_ets(
            column,
            forecaster.season or 1,
            forecaster.horizon,
            tuple(forecaster.quantiles or ()),
        )
    except ValueError:
        return None


def combine(
    forecaster: Any,
    series: list[tuple[Any, Any, np.ndarray]],
    windows: Any,
    pred: np.ndarray,
    *,
    holdout: bool,
) -> np.ndarray:
    """The mean of the ensemble's scaled forecasts ``pred`` ``(W, H, T, Q)`` and the smoothing
    model's, per window of ``windows``; a series whose history has gaps keeps the ensemble's."""
    fitted = forecaster.smoothers["holdout" if holdout else "all"]
    quantiles = tuple(forecaster.quantiles or (0.5,))
    n_t = pred.shape[2]
    owners = np.asarray(windows.series)
    out = pred.copy()
    for s, (key, _, values) in enumerate(series):
        rows = np.flatnonzero(owners == s)
        if rows.size == 0:
            continue
        origins = windows.origins[rows]
        scaled = forecaster._scale(values)[:, :n_t]
        history = scaled[: int(origins.max())]
        if not np.all(np.isfinite(history)):
            log.warning("series %r has gaps: its forecast is the network's alone", key)
            continue
        saved = fitted.get(_key(key))
        for t in range(n_t):
            if saved is None:
                params = _fit(forecaster, history[:, t])
            else:
                params = None if saved[t] is None else ETSParams.from_dict(saved[t])
            if params is None:
                continue
            smooth = ets_forecast(scaled[:, t], origins, forecaster.horizon, params, quantiles)
            out[rows, :, t, :] = (pred[rows, :, t, :] + smooth) / 2
    return np.sort(out, axis=-1)


__all__ = ["COMBINES", "combine", "fit_smoothers"]
