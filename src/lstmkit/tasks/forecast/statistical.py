"""The statisticians' baselines, from ``statsforecast`` (an extra: ``pip install lstmkit[stats]``).

AutoETS, AutoARIMA and AutoTheta (Nixtla's implementations, C++ underneath, fast on short
series) beside the LSTM, on the same split: each model is fitted once on the rows before the first
forecast origin and applied at every origin with those parameters (``forward``), the same "no refit
between origins" rule the LSTM is held to. Prediction intervals come from the models' own levels.

``statsforecast`` caps pandas below 3, which is why it is an extra and not a dependency; without it
:func:`available` is False and the tables say so.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Display name -> statsforecast class name.
MODELS = {"ets": "AutoETS", "arima": "AutoARIMA", "theta": "AutoTheta"}
MISSING_NOTE = "statsforecast is not installed (pip install 'lstmkit[stats]')"


def available() -> bool:
    """True when ``statsforecast`` can be imported."""
    return importlib.util.find_spec("statsforecast") is not None


def _model(name: str, season: int) -> Any:
    from statsforecast import models

    cls = getattr(models, MODELS[name])
    return cls(season_length=max(int(season), 1))


def _forecast_levels(
    y: np.ndarray,
    org: np.ndarray,
    horizon: int,
    season: int,
    stop: int,
    name: str,
    levels: list[int],
) -> dict[str, np.ndarray]:
    """One model fitted once on ``y[:stop]``: ``{"mean", "lo-L", "hi-L" for L in levels}``, each
    ``(W, horizon)``, NaN (with a warning) when it cannot be fitted."""
    if name not in MODELS:
        raise KeyError(f"unknown statistical model {name!r}; known: {sorted(MODELS)}")
    keys = ["mean", *(f"{side}-{lv}" for lv in levels for side in ("lo", "hi"))]
    result = {k: np.full((org.size, horizon), np.nan) for k in keys}
    # statsforecast forecasts garbage (zeros), not an error, from a series with gaps
    if not np.all(np.isfinite(y[: int(org.max())])):
        log.warning("%s not fitted: the series has missing values", MODELS[name])
        return result
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = _model(name, season).fit(y[:stop])
            for w, o in enumerate(org):
                f = fitted.forward(y[:o], h=horizon, level=levels)
                for k in keys:
                    result[k][w] = f[k]
    except Exception as err:  # a library failure on one series must not end a benchmark
        log.warning("%s failed on a series of %d rows: %s", MODELS[name], stop, err)
        for k in keys:
            result[k][:] = np.nan
    return result


def statistical_forecasts(
    values: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    season: int,
    *,
    fit_stop: int | None = None,
    models: tuple[str, ...] = tuple(MODELS),
    interval: float = 0.8,
) -> dict[str, dict[str, np.ndarray]]:
    """Forecasts of each model in ``models`` from each origin, for one series column.

    ``values`` ``(n,)``; ``origins`` ``(W,)`` the first forecast row of each window (the model
    reads rows ``< origin``); each model is fitted on rows ``< fit_stop`` (default: the first
    origin). Returns ``{name: {"mean", "lo", "hi"}}``, each ``(W, horizon)``: the point forecast
    and the central ``interval`` prediction interval. A model that fails to fit (too short a
    series) gives NaN, with a warning in the log.
    """
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    org = np.asarray(origins, dtype=np.int64).reshape(-1)
    stop = int(org.min()) if fit_stop is None else int(fit_stop)
    level = int(round(100 * interval))
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in models:
        f = _forecast_levels(y, org, horizon, season, stop, name, [level])
        out[name] = {"mean": f["mean"], "lo": f[f"lo-{level}"], "hi": f[f"hi-{level}"]}
    return out


def quantile_forecasts(
    values: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    season: int,
    quantiles: tuple[float, ...],
    *,
    fit_stop: int | None = None,
    model: str = "ets",
) -> np.ndarray:
    """``(W, horizon, Q)`` forecasts of ``quantiles`` of one model (as
    :func:`statistical_forecasts`, the model fitted once); 0.5 is the point forecast, a
    quantile ``q`` below it is the lower end of the central ``1 - 2q`` interval, one above it
    the upper end of ``2q - 1``."""
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    org = np.asarray(origins, dtype=np.int64).reshape(-1)
    stop = int(org.min()) if fit_stop is None else int(fit_stop)
    level_of = {q: int(round(100 * abs(1 - 2 * q))) for q in quantiles if q != 0.5}
    f = _forecast_levels(y, org, horizon, season, stop, model, sorted(set(level_of.values())))
    out = np.empty((org.size, horizon, len(quantiles)))
    for k, q in enumerate(quantiles):
        if q == 0.5:
            out[..., k] = f["mean"]
        else:
            out[..., k] = f[f"{'lo' if q < 0.5 else 'hi'}-{level_of[q]}"]
    return out


__all__ = [
    "MISSING_NOTE",
    "MODELS",
    "available",
    "quantile_forecasts",
    "statistical_forecasts",
]
