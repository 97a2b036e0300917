"""Exponential smoothing with a damped trend and additive seasonality, chosen by AICc: the
statistical half of the forecaster's default combination (``combine="ets"``).

The state-space form with additive errors (Hyndman et al., *Forecasting with Exponential
Smoothing*, 2008, ch. 2), for a row ``x_t`` and the states after row ``t - 1``::

    xhat_t = l_{t-1} + phi * b_{t-1} + s_{t-m}
    e_t    = x_t - xhat_t
    l_t    = l_{t-1} + phi * b_{t-1} + alpha * e_t
    b_t    = phi * b_{t-1} + beta * e_t
    s_t    = s_{t-m} + gamma * e_t

and the forecast ``h`` steps after the last row ``t``: ``l_t + (phi + ... + phi^h) b_t +
s_{t+h-m*ceil(h/m)}``. Four forms compete: no trend or a damped one (an undamped trend
extrapolates without end, which the combination is meant to hedge, not add), without or with a
season. Smoothing parameters come from a grid (``beta <= alpha``, ``gamma <= 1 - alpha``) by
the sum of squared one-step errors; the form by AICc with ``k`` counting the parameters and the
initial states, all forms scored on the same rows. Multiplicative seasonality is the
forecaster's log transform applied before this module sees the series.

Initial states are heuristics from the first rows (the first season's mean and deviations, the
mean slope of the first rows), not optimised as statsforecast's AutoETS does; the parameters
are fitted once and then applied to any later history (``forecast``), so a model never re-fits
between forecast origins. Quantiles: the point forecast plus the empirical quantiles of the
in-sample ``h``-step errors; so the median (what the combination uses as its point forecast) also
carries the model's in-sample bias at each step, e.g. a form without trend on a trending series.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lstmkit.errors import ConfigError

_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
_BETAS = np.array([0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3])
_PHIS = np.array([0.8, 0.85, 0.9, 0.95, 0.98])
_GAMMAS = np.array([0.0, 0.01, 0.05, 0.1, 0.2, 0.3])
FORMS = ("N", "A", "Ad", "AdA")  # no trend or season; season; damped trend; both


@dataclass(frozen=True)
class ETSParams:
    """A fitted form: its smoothing parameters, season length and the in-sample ``h``-step
    error quantiles (``error_quantiles[h][q]``) its intervals are built from."""

    form: str
    alpha: float
    beta: float
    phi: float
    gamma: float
    season: int
    start: int = 1  # the first row the recursion updates on (the rows before set its states)
    error_quantiles: tuple[tuple[float, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> ETSParams:
        try:
            params = cls(
                form=str(saved["form"]),
                alpha=float(saved["alpha"]),
                beta=float(saved["beta"]),
                phi=float(saved["phi"]),
                gamma=float(saved["gamma"]),
                season=int(saved["season"]),
                start=int(saved["start"]),
                error_quantiles=tuple(
                    tuple(float(v) for v in row) for row in saved["error_quantiles"]
                ),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"state.json: bad exponential-smoothing parameters ({err})") from None
        if params.form not in FORMS:
            raise ConfigError(f"state.json: ETS form must be one of {FORMS}, got {params.form!r}")
        return params


def _initial(x: np.ndarray, m: int, start: int, trend: bool) -> tuple[float, float, np.ndarray]:
    """Level and slope after row ``start - 1``, and the first season's indices, from the first
    rows (classical decomposition of the first season when there is one)."""
    if m > 1:
        level = float(x[:m].mean())
        seasonal = x[:m] - level
        slope = float(x[m : 2 * m].mean() - x[:m].mean()) / m if trend and x.size >= 2 * m else 0.0
        return level + slope * (m - 1) / 2, slope, seasonal
    k = max(start - 1, min(x.size - 1, 4))
    slope = float(x[k] - x[0]) / k if trend and k > 0 else 0.0
    return float(x[start - 1]), slope, np.zeros(0)


def _run(
    x: np.ndarray,
    m: int,
    start: int,
    alpha: np.ndarray,
    beta: np.ndarray,
    phi: np.ndarray,
    gamma: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The recursion for G parameter sets of one form at once over ``x`` ``(n,)`` from row
    ``start`` (``m``: the season, 1 for a form without one): level and slope after each row
    ``(G, n)``, seasonal states ``(G, n)`` (``s_t``) and one-step errors ``(G, n)`` (0 over the
    rows that set the initial states)."""
    n, g = x.size, alpha.size
    trend = bool(np.any(beta > 0))
    l0, b0, s0 = _initial(x, m, start, trend)
    level, slope = np.zeros((g, n)), np.zeros((g, n))
    seasonal, err = np.zeros((g, n)), np.zeros((g, n))
    level[:, :start], slope[:, :start] = l0, b0  # b0 is 0 for a form without trend
    if m > 1:
        seasonal[:, :m] = s0
    lev, slo = level[:, start - 1].copy(), slope[:, start - 1].copy()
    for t in range(start, n):
        s_prior = seasonal[:, t - m] if m > 1 else 0.0
        e = x[t] - (lev + phi * slo + s_prior)
        err[:, t] = e
        lev = lev + phi * slo + alpha * e
        slo = phi * slo + beta * e
        level[:, t], slope[:, t] = lev, slo
        if m > 1:
            seasonal[:, t] = s_prior + gamma * e
    return level, slope, seasonal, err


def _grid(form: str, m: int) -> tuple[np.ndarray, ...]:
    trend, season = form.startswith("Ad"), form in ("A", "AdA")
    betas = _BETAS if trend else np.array([0.0])
    phis = _PHIS if trend else np.array([1.0])
    gammas = _GAMMAS if season and m > 1 else np.array([0.0])
    a, b, p, c = (v.ravel() for v in np.meshgrid(_ALPHAS, betas, phis, gammas, indexing="ij"))
    ok = (b <= a) & (c <= 1 - a)
    return a[ok], b[ok], p[ok], c[ok]


def _n_states(form: str, m: int) -> int:
    """Parameters plus initial states, for AICc."""
    return {"N": 2, "A": 2 + m, "Ad": 5, "AdA": 5 + m}[form]


def _forecast_from(
    level: np.ndarray,
    slope: np.ndarray,
    seasonal: np.ndarray,
    last: np.ndarray,
    p: ETSParams,
    horizon: int,
) -> np.ndarray:
    """``(W, horizon)`` forecasts after rows ``last`` from one parameter set's state paths."""
    steps = np.arange(1, horizon + 1)
    damp = np.cumsum(p.phi**steps) if p.form.startswith("Ad") else np.zeros(horizon)
    out = level[last][:, None] + slope[last][:, None] * damp[None, :]
    if p.season > 1 and p.form in ("A", "AdA"):
        m = p.season
        lag = m * ((steps + m - 1) // m)  # m * ceil(h / m)
        out = out + seasonal[np.clip(last[:, None] + steps[None, :] - lag[None, :], 0, None)]
    return out


def fit_ets(
    x: np.ndarray, season: int, horizon: int, quantiles: tuple[float, ...] = (0.5,)
) -> ETSParams:
    """Choose the form and parameters on ``x`` ``(n,)`` (finite values), and the error
    quantiles of its in-sample 1..``horizon``-step forecasts."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.size < 4 or not np.all(np.isfinite(x)):
        raise ValueError("exponential smoothing needs at least 4 finite values")
    m = int(season) if season > 1 and x.size >= 3 * season else 1
    forms = ("N", "A", "Ad", "AdA") if m > 1 else ("N", "Ad")
    start = max(m, 1)  # every form scored on the same rows
    n_err = x.size - start
    best: tuple[float, ETSParams] | None = None
    for form in forms:
        a, b, p, c = _grid(form, m)
        *_, err = _run(x, _season_of(form, m), start, a, b, p, c)
        sse = (err**2).sum(axis=1)
        i = int(np.argmin(sse))
        k = _n_states(form, m)
        if n_err - k - 1 <= 0:
            continue
        penalty = 2 * k + 2 * k * (k + 1) / (n_err - k - 1)
        aicc = n_err * np.log(max(sse[i], 1e-300) / n_err) + penalty
        params = ETSParams(form, float(a[i]), float(b[i]), float(p[i]), float(c[i]), m)
        if best is None or aicc < best[0]:
            best = (float(aicc), params)
    if best is None:  # too few rows for any form but the simplest
        best = (0.0, ETSParams("N", 0.5, 0.0, 1.0, 0.0, m))
    params = ETSParams(**{**asdict(best[1]), "start": start})
    # In-sample h-step errors from every origin with a full horizon after it.
    level, slope, seasonal = _state(x, params)
    last = np.arange(start, x.size - horizon)
    table: list[tuple[float, ...]] = []
    if last.size >= 5:
        pred = _forecast_from(level, slope, seasonal, last, params, horizon)
        actual = x[last[:, None] + np.arange(1, horizon + 1)[None, :]]
        errors = actual - pred  # (O, H)
        table = [tuple(float(v) for v in np.quantile(e, quantiles)) for e in errors.T]
    return ETSParams(**{**asdict(params), "error_quantiles": tuple(table)})


def _season_of(form: str, m: int) -> int:
    return m if form in ("A", "AdA") else 1


def _state(x: np.ndarray, p: ETSParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    one = np.array
    level, slope, seasonal, _ = _run(
        x,
        _season_of(p.form, p.season),
        p.start,
        one([p.alpha]),
        one([p.beta]),
        one([p.phi]),
        one([p.gamma]),
    )
    return level[0], slope[0], seasonal[0]


def ets_forecast(
    x: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    params: ETSParams,
    quantiles: tuple[float, ...] = (0.5,),
) -> np.ndarray:
    """``(W, horizon, Q)`` forecasts of the ``horizon`` rows from each origin ``o`` (the first
    forecast row; rows ``< o`` of ``x`` are the history), by ``params`` fitted earlier. The
    quantiles add the stored error quantiles to the point forecast (the point itself when none
    were stored, e.g. a history too short to measure them)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    origins = np.asarray(origins, dtype=np.int64)
    known = int(origins.max())
    level, slope, seasonal = _state(x[:known], params)
    point = _forecast_from(level, slope, seasonal, origins - 1, params, horizon)
    out = np.repeat(point[..., None], len(quantiles), axis=-1)
    if params.error_quantiles and len(params.error_quantiles[0]) == len(quantiles):
        out = out + np.asarray(params.error_quantiles)[None, :horizon, :]
    return np.sort(out, axis=-1)


__all__ = ["ETSParams", "ets_forecast", "fit_ets"]
