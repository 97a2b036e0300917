"""Exponential-smoothing level and seasonality for the hybrid forecaster (after Smyl's ES-RNN).

Smyl's ES-RNN (M4 winner; Smyl 2020, IJF 36(1)) lets per-series Holt-Winters smoothing remove the
level and the seasonality of each window, and an LSTM forecast what is left. Here the smoothing is
additive on the (scaled, optionally logged) series, which is multiplicative on the original scale
when the forecaster takes logs, as in the paper::

    l_t = alpha * (x_t - s_{t-m}) + (1 - alpha) * l_{t-1}
    s_t = gamma * (x_t - l_t)     + (1 - gamma) * s_{t-m}

with no trend term (the LSTM forecasts the trend). ``alpha`` and ``gamma`` are chosen per series
on a grid by the one-step-ahead squared error over the rows a model may fit on; the paper learns
them jointly with the network by gradient descent, which this module does not do.

Everything here is causal: the seasonal index that deseasonalises row ``t`` is ``s_{t-m}``,
known before ``x_t``; a forecast step ``o + h`` uses the latest estimate of its phase made before
the origin ``o``, ``s_{o+h-m*ceil((h+1)/m)}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Smoothing grids: coarse, but the one-step error is flat near its minimum on short series.
_ALPHAS = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
_GAMMAS = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5])


@dataclass(frozen=True)
class Smoothing:
    """The smoothing state of one series column: ``level[t]`` (after row t) and the seasonal
    index ``seasonal_prior[t] = s_{t-m}`` that deseasonalises row t (0 without a season)."""

    alpha: float
    gamma: float
    season: int
    level: np.ndarray  # (n,)
    seasonal: np.ndarray  # (n,) s_t, the estimate after row t
    seasonal_prior: np.ndarray  # (n,) s_{t-m}

    def future_seasonal(self, origins: np.ndarray, horizon: int) -> np.ndarray:
        """``(W, horizon)`` seasonal index of steps ``o .. o + horizon - 1`` from origins ``o``."""
        m = self.season
        if m <= 1:
            return np.zeros((len(origins), horizon))
        steps = np.arange(horizon)
        lag = m * ((steps + m) // m)  # m * ceil((h + 1) / m)
        index = np.asarray(origins)[:, None] + steps[None, :] - lag[None, :]
        return self.seasonal[np.clip(index, 0, len(self.seasonal) - 1)]


def _run(
    x: np.ndarray, alpha: np.ndarray, gamma: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The recursion for G parameter pairs at once: level, seasonal, prior seasonal ``(G, n)``
    and the one-step squared errors ``(G, n)`` (0 over the first season, used to start)."""
    n, g = x.size, alpha.size
    level = np.empty((g, n))
    seasonal = np.zeros((g, n))
    prior = np.zeros((g, n))
    err = np.zeros((g, n))
    start = min(m, n) if m > 1 else 1
    l0 = x[:start].mean()
    if m > 1:
        seasonal[:, :start] = x[:start] - l0
        level[:, :start] = l0
    else:
        level[:, 0] = x[0]
    prev = level[:, start - 1].copy()
    for t in range(start, n):
        s_prior = seasonal[:, t - m] if m > 1 else 0.0
        err[:, t] = (x[t] - prev - s_prior) ** 2
        cur = alpha * (x[t] - s_prior) + (1 - alpha) * prev
        level[:, t] = cur
        if m > 1:
            prior[:, t] = s_prior
            seasonal[:, t] = gamma * (x[t] - cur) + (1 - gamma) * s_prior
        prev = cur
    if m > 1:
        prior[:, :start] = seasonal[:, :start]
    return level, seasonal, prior, err


def fit_smoothing(x: np.ndarray, season: int, fit_stop: int | None = None) -> Smoothing:
    """Choose ``alpha`` (and ``gamma`` when ``season > 1``) on rows ``< fit_stop`` of ``x``
    ``(n,)`` by one-step squared error, and run the recursion over all of ``x``."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    m = int(season) if season > 1 and x.size >= 2 * season else 1
    stop = x.size if fit_stop is None else int(fit_stop)
    gammas = _GAMMAS if m > 1 else np.array([0.0])
    alpha, gamma = np.meshgrid(_ALPHAS, gammas, indexing="ij")
    alpha, gamma = alpha.ravel(), gamma.ravel()
    _, _, _, err = _run(x[:stop], alpha, gamma, m)
    best = int(np.argmin(err.sum(axis=1)))
    a, c = alpha[best : best + 1], gamma[best : best + 1]
    level, seasonal, prior, _ = _run(x, a, c, m)
    return Smoothing(
        alpha=float(a[0]),
        gamma=float(c[0]),
        season=m,
        level=level[0],
        seasonal=seasonal[0],
        seasonal_prior=prior[0],
    )


__all__ = ["Smoothing", "fit_smoothing"]
