"""Per-window normalisation of a series, and the choice of a log transform.

A forecaster that sees a series in the units of its training rows fails on a trend: the series
leaves the range it was trained on and the network saturates. Normalising each window by its own
level makes the input level- and trend-free; the forecast is expressed relative to the same level
and mapped back afterwards (RevIN, Kim et al., ICLR 2022, does the same with the window's mean and
standard deviation).

Kinds (``WINDOW_NORMS``):

* ``"last"``  — subtract the window's last value: the forecast is a change from the present.
* ``"mean"``  — subtract the window's mean.
* ``"revin"`` — subtract the mean and divide by the standard deviation (the learnable affine of
  RevIN lives in the network, :class:`~lstmkit.tasks.forecast.net.ForecastNet`).
* ``"none"``  — the values as they are.

Shapes: ``past`` ``(W, L, T)``; ``level`` and ``spread`` ``(W, 1, T)``, so they broadcast against
the past ``(W, L, T)`` and the future ``(W, H, T)`` alike.
"""

from __future__ import annotations

import numpy as np

from lstmkit._checks import choice

WINDOW_NORMS = ("last", "mean", "revin", "none")
# Floor of a window's spread, as a fraction of the global scale: a flat window is not blown up.
_MIN_SPREAD = 1e-3


def check_window_norm(kind: str) -> str:
    return choice("window_norm", kind, WINDOW_NORMS)


def window_stats(past: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(level, spread)`` of each window of ``past`` ``(W, L, T)``, each ``(W, 1, T)``."""
    check_window_norm(kind)
    past = np.asarray(past, dtype=np.float64)
    shape = (past.shape[0], 1, past.shape[2])
    spread = np.ones(shape)
    if kind == "none":
        level = np.zeros(shape)
    elif kind == "last":
        level = past[:, -1:, :].copy()
    else:
        level = past.mean(axis=1, keepdims=True)
        if kind == "revin":
            spread = np.maximum(past.std(axis=1, keepdims=True), _MIN_SPREAD)
    return level, spread


def normalise(values: np.ndarray, level: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``(values - level) / spread``; values ``(W, any, T)``."""
    return (np.asarray(values, dtype=np.float64) - level) / spread


def denormalise(values: np.ndarray, level: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """The inverse of :func:`normalise`; extra trailing axes of ``values`` (quantiles) are kept:
    ``values`` ``(W, H, T)`` or ``(W, H, T, Q)``."""
    values = np.asarray(values, dtype=np.float64)
    extra = values.ndim - level.ndim
    shape = level.shape + (1,) * extra
    return values * spread.reshape(shape) + level.reshape(shape)


def wants_log(values: np.ndarray, season: int) -> bool:
    """True when ``values`` (one column) are all positive and their swings grow with their level.

    The series is cut into blocks of ``max(season, 4)`` rows (at least 4 blocks); the spread of
    each block (its detrended standard deviation) is compared with its mean. Multiplicative
    seasonality, or noise proportional to the level, shows as a strong positive rank correlation
    between the two (> 0.6), over a level that changes by at least 1.5x.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    x = x[np.isfinite(x)]
    if x.size < 16 or np.any(x <= 0):
        return False
    block = max(int(season), 4)
    n_blocks = x.size // block
    if n_blocks < 4:
        return False
    blocks = x[: n_blocks * block].reshape(n_blocks, block)
    means = blocks.mean(axis=1)
    t = np.arange(block) - (block - 1) / 2
    slopes = (blocks - means[:, None]) @ t / (t @ t)
    spreads = (blocks - means[:, None] - slopes[:, None] * t).std(axis=1)
    if means.max() < 1.5 * means.min() or np.ptp(spreads) == 0:
        return False
    return _rank_correlation(means, spreads) > 0.6


def _rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    ra = np.argsort(np.argsort(a)).astype(np.float64)
    rb = np.argsort(np.argsort(b)).astype(np.float64)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = np.sqrt((ra @ ra) * (rb @ rb))
    return float(ra @ rb / denom) if denom > 0 else 0.0


__all__ = [
    "WINDOW_NORMS",
    "check_window_norm",
    "denormalise",
    "normalise",
    "wants_log",
    "window_stats",
]
