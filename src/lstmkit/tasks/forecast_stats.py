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
    level = [int(round(100 * interval))]
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in models:
        if name not in MODELS:
            raise KeyError(f"unknown statistical model {name!r}; known: {sorted(MODELS)}")
        result = {k: np.full((org.size, horizon), np.nan) for k in ("mean", "lo", "hi")}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = _model(name, season).fit(y[:stop])
                for w, o in enumerate(org):
                    f = fitted.forward(y[:o], h=horizon, level=level)
                    result["mean"][w] = f["mean"]
                    result["lo"][w] = f[f"lo-{level[0]}"]
                    result["hi"][w] = f[f"hi-{level[0]}"]
        except Exception as err:  # a library failure on one series must not end a benchmark
            log.warning("%s failed on a series of %d rows: %s", MODELS[name], stop, err)
        out[name] = result
    return out


__all__ = ["MISSING_NOTE", "MODELS", "available", "statistical_forecasts"]
