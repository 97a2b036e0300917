"""The forecaster's option values and the choices it makes from the data: the season of a
frequency or of the series itself, and the quantiles of its intervals."""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.errors import ConfigError

SCALERS = ("standard", "minmax", "none")
LOSSES = ("mse", "mae")
MODELS = ("lstm", "hybrid", "ets", "auto")
TRANSFORMS = ("auto", "log", "none")
# Season length per pandas frequency (checked in this order on the upper-cased alias).
SEASONS = (
    ("MIN", 60),
    ("T", 60),
    ("Q", 4),
    ("BQ", 4),
    ("M", 12),
    ("BM", 12),
    ("W", 52),
    ("B", 5),
    ("D", 7),
    ("H", 24),
    ("BH", 24),
    ("S", 60),
    ("Y", 1),
    ("A", 1),
)


def season_from_freq(freq: str | None) -> int | None:
    """Season length for a pandas frequency alias: 12 monthly, 4 quarterly, 7 daily, 24 hourly,
    52 weekly, 5 business-daily, 60 for minutes/seconds, 1 yearly; None if unknown."""
    if not freq:
        return None
    # Sub-second aliases ("500ms", "L", "us", "N") have no calendar season; "ms" must not be read
    # as "MS" (month start) once upper-cased.
    if freq.lstrip("0123456789") in ("ms", "L", "us", "U", "ns", "N"):
        return None
    alias = freq.upper().lstrip("0123456789")
    for prefix, season in SEASONS:
        if alias.startswith(prefix):
            return season
    return None


def detect_season(values: np.ndarray, max_lag: int | None = None) -> int:
    """The lag of the highest autocorrelation peak above 0.3 (1 when there is none)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    x = x - x.mean()
    n = x.size
    max_lag = min(max_lag or n // 3, n // 2)
    denom = float(np.dot(x, x))
    if max_lag < 3 or denom == 0:
        return 1
    acf = np.array([np.dot(x[:-k], x[k:]) / denom for k in range(1, max_lag + 1)])
    best, best_value = 1, 0.3
    for k in range(2, max_lag):  # acf[k - 1] is lag k
        if acf[k - 1] > acf[k - 2] and acf[k - 1] >= acf[k] and acf[k - 1] > best_value:
            best, best_value = k, float(acf[k - 1])
    return best


def check_quantiles(quantiles: Any) -> tuple[float, ...] | None:
    if quantiles is None:
        return None
    try:
        values = sorted({float(q) for q in quantiles})
    except (TypeError, ValueError):
        raise ConfigError(
            f"quantiles must be numbers in (0, 1), e.g. (0.1, 0.5, 0.9), got {quantiles!r}"
        ) from None
    bad = [q for q in values if not 0.0 < q < 1.0]
    if bad or not values:
        raise ConfigError(
            f"quantiles must be numbers in (0, 1), e.g. (0.1, 0.5, 0.9), got {quantiles!r}"
        )
    if 0.5 not in values:  # the point forecast is the median
        values = sorted([*values, 0.5])
    return tuple(values)


def quantile_label(q: float) -> str:
    """Column suffix of a quantile: 0.1 -> "q0.1", 0.05 -> "q0.05"."""
    return f"q{q:g}"
