"""Gaps and irregular time stamps in numeric sequences: what the classifier's network sees.

A sequence ``x (T, F)`` may hold NaN (a value not observed) and may come with time stamps
``s (T,)`` (strictly increasing; without them step ``t`` is at time ``t``). The values are
standardised first (with the training mean and std of the observed values), so the training
mean of every channel is 0. Then, per ``method``:

* ``"mask"``: per channel three inputs: the value carried forward from the last observation
  (the training mean, 0, before the first), the observed mask ``m`` (1 observed, 0 missing) and
  the time since the channel's previous observation ``δ``, divided by ``gap_scale``;
* ``"decay"``: the same three, and the network decays the carried value toward the mean with a
  learned rate (:class:`lstmkit.nn.InputDecay`, GRU-D's input decay);
* ``"grud"``: as ``"decay"``, and before each step the LSTM's hidden state decays at a learned
  rate of ``δ`` (:class:`lstmkit.nn.HiddenDecay`, GRU-D's hidden-state decay; the backward
  direction reads the time to the next observation), in a Python loop over time (slower);
* ``"interpolate"``: the same three, but the value is interpolated linearly in time between
  the channel's previous and next observation (held at the first and last observed value
  before and after them) instead of carried forward;
* ``"linear"``: the interpolated value alone (linear interpolation, a baseline);
* ``"mean"``: the value, the training mean where it is missing (mean imputation, a baseline);
* ``"ffill"``: the value carried forward, the mean before the first observation (a baseline).

``δ`` follows GRU-D (Che et al. 2018): ``δ_0 = 0``; ``δ_t = s_t - s_{t-1}`` after an observed
step and ``s_t - s_{t-1} + δ_{t-1}`` after a missing one, i.e. the time since the channel's last
observation before step ``t`` (since ``s_0`` before any). ``gap_scale`` is the training set's
typical gap: the median, over every channel of every training sequence, of the time between two
consecutive observations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.errors import ConfigError, DataError

METHODS = ("mask", "decay", "grud", "interpolate", "linear", "mean", "ffill")
# "auto" with gaps: chosen by the missing-value benchmark (docs/sequence-classification.md):
# with 50 % of the values removed at random, the mask and time inputs cost 3 to 30 points on
# three dev sets against interpolation alone (random gaps carry no label information; the
# extra inputs are noise the small training sets are fitted to), and interpolation beats
# forward fill on 7 of 9 set-rate cells (CLASSIFICATION-missing.md).
DEFAULT_METHOD = "linear"


def check_missing(value: Any) -> str:
    """``"auto"`` or one of :data:`METHODS`."""
    if value == "auto" or value in METHODS:
        return str(value)
    raise ConfigError(
        f"missing must be 'auto' or one of {', '.join(map(repr, METHODS))}, got {value!r}"
    )


def width(method: str | None, n_features: int) -> int:
    """Network inputs per step for ``n_features`` channels."""
    return 3 * n_features if method in ("mask", "decay", "grud", "interpolate") else n_features


def check_times(times: Any, lengths: list[int], what: str) -> list[np.ndarray] | None:
    """One float64 time stamp per step of each sequence, strictly increasing (None passes)."""
    if times is None:
        return None
    try:
        items = list(times)
    except TypeError:
        raise DataError(
            f"{what}: times must be a list of 1-D arrays (one per sequence), got "
            f"{type(times).__name__}"
        ) from None
    if len(items) != len(lengths):
        raise DataError(
            f"{what}: {len(lengths)} sequences but {len(items)} time arrays; expected one each"
        )
    out = []
    for i, (s, n) in enumerate(zip(items, lengths, strict=True)):
        try:
            arr = np.asarray(s, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{what}: the times of sequence {i} are not numbers") from None
        if arr.ndim != 1 or arr.shape[0] != n:
            raise DataError(
                f"{what}: sequence {i} has {n} steps but its times have shape {arr.shape}; "
                "expected one time stamp per step"
            )
        if not np.isfinite(arr).all():
            raise DataError(f"{what}: the times of sequence {i} hold NaN or infinite values")
        bad = np.nonzero(np.diff(arr) <= 0)[0]
        if bad.size:
            k = int(bad[0])
            raise DataError(
                f"{what}: the times of sequence {i} are not increasing at step {k + 1} "
                f"({arr[k]:g} then {arr[k + 1]:g}); expected strictly increasing time stamps"
            )
        out.append(arr)
    return out


def irregular(times: list[np.ndarray] | None) -> bool:
    """True when some sequence's steps are not evenly spaced."""
    if times is None:
        return False
    for s in times:
        gaps = np.diff(s)
        if gaps.size and not np.allclose(gaps, gaps[0]):
            return True
    return False


def observed_features(
    x: np.ndarray, times: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(carried, m, delta)``, each ``(T, F)`` float64, of a sequence ``x (T, F)`` with NaN
    where missing: the last observed value carried forward (0 before the first), the observed
    mask and the unscaled time since the previous observation (module docstring)."""
    steps = x.shape[0]
    s = np.arange(steps, dtype=np.float64) if times is None else np.asarray(times, np.float64)
    observed = ~np.isnan(x)
    index = np.where(observed, np.arange(steps)[:, None], -1)
    last = np.maximum.accumulate(index, axis=0)  # (T, F): the last observed step up to t
    cols = np.arange(x.shape[1])[None, :]
    carried = np.where(last >= 0, x[np.maximum(last, 0), cols], 0.0)
    before = np.vstack([np.full((1, x.shape[1]), -1), last[:-1]])  # last observed step < t
    delta = s[:, None] - np.where(before >= 0, s[np.maximum(before, 0)], s[0])
    return carried, observed.astype(np.float64), delta


def interpolated(x: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    """``x (T, F)`` with each channel's NaN filled by linear interpolation in time between its
    neighbouring observations, and its first and last observed value before and after them."""
    s = np.arange(x.shape[0], dtype=np.float64) if times is None else np.asarray(times, np.float64)
    out = np.array(x, dtype=np.float64, copy=True)
    for c in range(x.shape[1]):
        seen = ~np.isnan(x[:, c])
        if not seen.all():
            out[:, c] = np.interp(s, s[seen], x[seen, c])
    return out


def gap_scale(items: list[np.ndarray], times: list[np.ndarray] | None) -> float:
    """The median time between consecutive observations of a channel over the training data
    (1.0 when no channel is observed twice)."""
    gaps = []
    for i, x in enumerate(items):
        s = np.arange(len(x), dtype=np.float64) if times is None else times[i]
        for c in range(x.shape[1]):
            seen = s[~np.isnan(x[:, c])]
            gaps.append(np.diff(seen))
    values = np.concatenate(gaps) if gaps else np.empty(0)
    scale = float(np.median(values)) if values.size else 1.0
    return scale if scale > 0 else 1.0


def features(
    x: np.ndarray, times: np.ndarray | None, method: str | None, scale: float
) -> np.ndarray:
    """The network's inputs ``(T, width)`` for a standardised sequence ``x (T, F)``."""
    if method is None:
        return x
    if method == "mean":
        return np.where(np.isnan(x), 0.0, x)
    carried, m, delta = observed_features(x, times)
    if method == "ffill":
        return carried
    if method == "linear":
        return interpolated(x, times)
    if method == "interpolate":
        carried = interpolated(x, times)
    return np.concatenate([carried, m, delta / scale], axis=1)


def remove_at_random(series: list[np.ndarray], rate: float, seed: int) -> list[np.ndarray]:
    """Copies of ``series`` with ``rate`` of the values set to NaN, each value independently
    (a generator seeded by ``seed``); every channel of every sequence keeps at least one value
    (one chosen at random is put back where all were removed)."""
    if not 0 <= rate < 1:
        raise ConfigError(f"missing rate must be in [0, 1), got {rate!r}")
    rng = np.random.default_rng(seed)
    out = []
    for x in series:
        x = np.array(x, dtype=np.float64, copy=True)
        if x.ndim == 1:
            x = x[:, None]
        drop = rng.random(x.shape) < rate
        for c in np.nonzero(drop.all(axis=0) | np.isnan(np.where(drop, np.nan, x)).all(axis=0))[0]:
            seen = np.nonzero(~np.isnan(x[:, c]))[0]
            if seen.size:
                drop[rng.choice(seen), c] = False
        x[drop] = np.nan
        out.append(x)
    return out


__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "check_missing",
    "check_times",
    "features",
    "gap_scale",
    "interpolated",
    "irregular",
    "observed_features",
    "remove_at_random",
]
