"""Thresholds from extreme-value theory, and turning flags into alarms a person can trust.

SPOT and DSPOT follow Siffer, Fouque, Termier and Largouët, "Anomaly Detection in Streams with
Extreme Value Theory", KDD 2017. Instead of a quantile of the scores the user sets a *risk* ``q``,
the false-alarm rate (``q=1e-4``: one alarm in 10,000 nominal points). By the
Pickands-Balkema-de Haan theorem the excesses ``Y = X - t`` over a high initial threshold ``t``
(here the ``level`` quantile of the calibration scores) follow a generalised Pareto distribution
(GPD) with shape ``gamma`` and scale ``sigma``; the threshold ``z_q`` with ``P(X > z_q) = q`` is
then

    z_q = t + sigma / gamma * ((q n / N_t) ** -gamma - 1)      (t - sigma log(q n / N_t) if gamma=0)

with ``n`` observations of which ``N_t`` are peaks over ``t``. The GPD is fitted by Grimshaw's
method: the maximum-likelihood estimate solves ``u(x) v(x) = 1`` with
``u(x) = mean(1 / (1 + x Y))`` and ``v(x) = 1 + mean(log(1 + x Y))``, ``gamma = v(x) - 1``,
``sigma = gamma / x``; the roots are searched on ``(-1 / max Y, 0)`` and
``(0, 2 (mean Y - min Y) / (mean Y * min Y))`` (a grid, then bisection) and the candidate with the
highest likelihood (``x = 0``, the exponential, included) wins.

Streaming (:class:`Spot`): a value above ``z_q`` is an alarm and is *not* learned from; a value
between ``t`` and ``z_q`` is a new peak, the GPD is refitted and ``z_q`` updated; the last
``max_peaks`` peaks are kept (bounded memory and time). Since alarms are never learned from, the
tail seen by the fit is censored at ``z_q`` and a long nominal stream lets ``z_q`` drift somewhat
low (measured: exponential scores, ``q=1e-3``: 6.78 after calibration on 20,000 values, 5.98
after 50,000 more, against the true 6.91), as in the paper. DSPOT (``depth > 0``) runs SPOT on the
value minus the mean of the last ``depth`` nominal values, to follow a drifting level.

:func:`alarms` turns per-row flags into alarms: hysteresis keeps an event open until the score
falls below ``hysteresis * threshold``, and a suppression window allows no second alarm within
``suppress`` rows of the last one; only an event's first row raises an alarm.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from lstmkit.errors import ConfigError, DataError


def _check_risk(risk: Any) -> float:
    if isinstance(risk, bool) or not isinstance(risk, int | float) or not 0.0 < risk < 1.0:
        raise ConfigError(f"risk must be a false-alarm rate in (0, 1), e.g. 1e-4, got {risk!r}")
    return float(risk)


def _log_likelihood(y: np.ndarray, gamma: float, sigma: float) -> float:
    n = y.shape[0]
    if sigma <= 0:
        return -math.inf
    if gamma == 0.0:
        return -n * math.log(sigma) - float(y.sum()) / sigma
    z = 1.0 + gamma * y / sigma
    if (z <= 0).any():
        return -math.inf
    return -n * math.log(sigma) - (1.0 + 1.0 / gamma) * float(np.log(z).sum())


def _grimshaw_w(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    s = 1.0 + np.outer(x, y)  # (k, n)
    u = (1.0 / s).mean(axis=1)
    v = 1.0 + np.log(s).mean(axis=1)
    return u * v - 1.0


def _roots(y: np.ndarray, lo: float, hi: float, grid: int = 48) -> list[float]:
    """Roots of Grimshaw's function in ``[lo, hi]`` (both of one sign): a grid geometric in
    ``|x|`` (roots lie anywhere from near 0 to the bound), then bisection."""
    if not hi > lo or lo * hi <= 0:
        return []
    xs = np.sign(lo) * np.geomspace(abs(lo), abs(hi), grid)
    xs = np.sort(xs)
    w = _grimshaw_w(y, xs)
    roots = []
    for i in np.flatnonzero(np.sign(w[:-1]) * np.sign(w[1:]) < 0):
        a, b, wa = xs[i], xs[i + 1], w[i]
        for _ in range(40):
            m = 0.5 * (a + b)
            wm = float(_grimshaw_w(y, np.array([m]))[0])
            if np.sign(wm) == np.sign(wa):
                a, wa = m, wm
            else:
                b = m
        roots.append(0.5 * (a + b))
    return roots


def fit_gpd(excesses: Any) -> tuple[float, float]:
    """``(gamma, sigma)`` of a generalised Pareto distribution fitted to positive excesses by
    Grimshaw's method (see the module docstring)."""
    y = np.asarray(excesses, dtype=np.float64)
    y = y[y > 0]
    if y.size == 0:
        raise DataError("no positive excesses to fit a generalised Pareto tail to")
    mean, ymin, ymax = float(y.mean()), float(y.min()), float(y.max())
    cands = [(0.0, mean)]  # the exponential tail
    if y.size >= 2 and ymax > ymin:
        eps = 1e-6 / mean
        left = _roots(y, -1.0 / ymax + 1e-6 / ymax, -eps)
        right = _roots(y, eps, 2.0 * (mean - ymin) / (mean * ymin)) if ymin > 0 else []
        for x in left + right:
            gamma = float(np.log1p(x * y).mean())
            if gamma != 0.0:
                cands.append((gamma, gamma / x))
    best = max(cands, key=lambda c: _log_likelihood(y, *c))
    return best


def gpd_quantile(t: float, gamma: float, sigma: float, risk: float, n: int, n_peaks: int) -> float:
    """The threshold ``z_q`` exceeded with probability ``risk`` (see the module docstring)."""
    r = risk * n / n_peaks
    if gamma == 0.0:
        return t - sigma * math.log(r)
    return t + sigma / gamma * (r ** (-gamma) - 1.0)


class Spot:
    """Streaming peaks-over-threshold (SPOT, or DSPOT with ``depth > 0``).

    Args:
        risk: the false-alarm rate ``q``.
        level: the quantile of the calibration values used as the initial threshold ``t``.
        depth: DSPOT's moving-average depth (0: plain SPOT).
        max_peaks: peaks kept for the fit (the oldest are forgotten).
    """

    def __init__(
        self, risk: float = 1e-4, *, level: float = 0.98, depth: int = 0, max_peaks: int = 1000
    ) -> None:
        self.risk = _check_risk(risk)
        if not 0.0 < float(level) < 1.0:
            raise ConfigError(f"level must be in (0, 1), got {level!r}")
        self.level = float(level)
        self.depth = int(depth)
        self.max_peaks = int(max_peaks)
        self.t = math.nan
        self.z = math.inf
        self.gamma, self.sigma = 0.0, math.nan
        self.n = 0
        self.peaks: deque[float] = deque(maxlen=self.max_peaks)
        self.n_peaks_seen = 0
        self.recent: deque[float] = deque(maxlen=max(self.depth, 1))

    def _drift(self) -> float:
        return float(np.mean(self.recent)) if self.depth and self.recent else 0.0

    def fit(self, values: Any) -> Spot:
        """Calibrate on ``values`` (nominal scores): ``t``, the peaks and the first ``z_q``."""
        x = np.asarray(values, dtype=np.float64)
        x = x[np.isfinite(x)]
        if self.depth:
            if x.size <= self.depth:
                raise DataError(f"DSPOT needs more than depth={self.depth} calibration values")
            means = np.convolve(x, np.ones(self.depth) / self.depth, mode="valid")[:-1]
            self.recent.extend(x[-self.depth :].tolist())
            x = x[self.depth :] - means
        if x.size < 10:
            raise DataError(f"SPOT needs at least 10 calibration values, got {x.size}")
        self.t = float(np.quantile(x, self.level))
        peaks = x[x > self.t] - self.t
        self.n = int(x.size)
        self.peaks.clear()
        self.peaks.extend(peaks[-self.max_peaks :].tolist())
        self.n_peaks_seen = int(peaks.size)
        self._refit()
        return self

    def _refit(self) -> None:
        if not self.peaks:
            self.gamma, self.sigma = 0.0, 0.0
            self.z = self.t
            return
        self.gamma, self.sigma = fit_gpd(np.fromiter(self.peaks, float))
        self.z = gpd_quantile(self.t, self.gamma, self.sigma, self.risk, self.n, self.n_peaks_seen)

    @property
    def threshold(self) -> float:
        """The current alarm threshold on the raw value (drift added back for DSPOT)."""
        return self.z + self._drift()

    def step(self, value: float) -> bool:
        """Learn from one value; True when it is above the threshold (an alarm, not learned)."""
        if not math.isfinite(value):
            return False
        x = value - self._drift()
        if x > self.z:
            return True
        self.n += 1
        if x > self.t:
            self.peaks.append(x - self.t)
            self.n_peaks_seen += 1
            self._refit()
        if self.depth:
            self.recent.append(value)
        return False

    def run(self, values: Any) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`step` over ``values``: ``(flags, thresholds)``, the threshold in force at each
        row."""
        x = np.asarray(values, dtype=np.float64)
        flags = np.zeros(x.shape[0], dtype=bool)
        thresholds = np.empty(x.shape[0])
        for i, v in enumerate(x.tolist()):
            thresholds[i] = self.threshold
            flags[i] = self.step(v)
        return flags, thresholds

    def state_dict(self) -> dict[str, Any]:
        return {
            "risk": self.risk,
            "level": self.level,
            "depth": self.depth,
            "max_peaks": self.max_peaks,
            "t": self.t,
            "z": self.z,
            "gamma": self.gamma,
            "sigma": self.sigma,
            "n": self.n,
            "n_peaks_seen": self.n_peaks_seen,
            "peaks": list(self.peaks),
            "recent": list(self.recent),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Spot:
        spot = cls(
            state["risk"], level=state["level"], depth=state["depth"], max_peaks=state["max_peaks"]
        )
        for key in ("t", "z", "gamma", "sigma"):
            setattr(spot, key, float(state[key]))
        spot.n, spot.n_peaks_seen = int(state["n"]), int(state["n_peaks_seen"])
        spot.peaks.extend(state["peaks"])
        spot.recent.extend(state["recent"])
        return spot


def alarms(
    scores: Any, thresholds: Any, *, hysteresis: float = 1.0, suppress: int = 0
) -> np.ndarray:
    """Alarm rows: the first row of each event. An event opens when the score exceeds the
    threshold, stays open until it falls to ``hysteresis * threshold`` or below (``hysteresis``
    in (0, 1]; 1: no hysteresis), and raises an alarm only if no alarm was raised in the
    ``suppress`` rows before."""
    if not 0.0 < float(hysteresis) <= 1.0:
        raise ConfigError(f"hysteresis must be in (0, 1], got {hysteresis!r}")
    if isinstance(suppress, bool) or not isinstance(suppress, int) or suppress < 0:
        raise ConfigError(f"suppress must be an int >= 0 (rows), got {suppress!r}")
    s = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf)
    th = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), s.shape)
    out = np.zeros(s.shape[0], dtype=bool)
    open_, last = False, -(10**18)
    for i in range(s.shape[0]):
        if open_:
            open_ = s[i] > hysteresis * th[i]
            continue
        if s[i] > th[i]:
            open_ = True
            if i - last > suppress:
                out[i] = True
                last = i
    return out


def group_flags(
    flags: Any,
    scores: Any,
    thresholds: Any,
    *,
    hysteresis: float = 1.0,
    suppress: int = 0,
    merge_gap: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Per-row flags (from any threshold) turned into events and alarms.

    Hysteresis first: a flagged run is extended while the score stays above
    ``hysteresis * threshold`` (1: no extension). Then each run either joins the current event
    (it starts within ``merge_gap`` rows of the event's end, or within ``suppress`` rows of the
    event's alarm) or opens a new one, whose first row is an alarm. Returns the extended flags,
    the alarm rows (a boolean vector) and each event's inclusive ``(start, end)`` rows: one event
    per alarm.
    """
    if not 0.0 < float(hysteresis) <= 1.0:
        raise ConfigError(f"hysteresis must be in (0, 1], got {hysteresis!r}")
    for name, value in (("suppress", suppress), ("merge_gap", merge_gap)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{name} must be an int >= 0 (rows), got {value!r}")
    f = np.array(flags, dtype=bool).reshape(-1)
    s = np.nan_to_num(np.asarray(scores, dtype=np.float64).reshape(-1), nan=-np.inf)
    th = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), s.shape)
    if hysteresis < 1.0:
        for i in range(1, f.shape[0]):
            if not f[i] and f[i - 1] and s[i] > hysteresis * th[i]:
                f[i] = True
    alarm = np.zeros(f.shape[0], dtype=bool)
    events: list[list[int]] = []
    m = f.astype(np.int8)
    diff = np.diff(np.concatenate([[0], m, [0]]))
    for start, end in zip(np.flatnonzero(diff == 1), np.flatnonzero(diff == -1) - 1, strict=True):
        if events and (start - events[-1][1] - 1 <= merge_gap or start - events[-1][0] <= suppress):
            events[-1][1] = int(end)
        else:
            events.append([int(start), int(end)])
            alarm[start] = True
    return f, alarm, [(a, b) for a, b in events]


__all__ = ["Spot", "alarms", "fit_gpd", "gpd_quantile", "group_flags"]
