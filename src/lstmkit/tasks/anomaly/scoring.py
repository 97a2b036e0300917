"""Scores to flags to intervals: EWMA smoothing, thresholds, pruning and the rolling z-score.

The dynamic threshold follows Hundman et al., "Detecting Spacecraft Anomalies Using LSTMs and
Nonparametric Dynamic Thresholding", KDD 2018 (arXiv:1802.04431): within a window of smoothed
errors ``e_s``, candidate thresholds are ``eps = mean(e_s) + z * std(e_s)`` for ``z`` in
2.5, 3.0, ..., ``z_max``; the chosen one maximises

    (delta_mean / mean + delta_std / std) / (n_anomalous_points + n_anomalous_sequences ** 2)

where ``delta_mean`` and ``delta_std`` are the drops in mean and standard deviation when the values
above ``eps`` are removed. Detected sequences are then pruned: their maximum smoothed errors,
sorted in decreasing order and followed by the largest error not flagged, give the percent
decreases ``d_i = (m_i - m_{i+1}) / m_i``; the sequences from the first ``i`` after which every
``d`` stays below ``p`` (the minimum percent decrease) are set back to nominal.

Simplifications against the paper: the error buffer (flagged rows closer than ``2 * buffer``
count as one sequence) is used when choosing the threshold but not when pruning; non-overlapping
threshold windows (the last window absorbs a short remainder) rather than a window sliding by a
batch; no labelled-feedback tuning of ``p``.
"""

from __future__ import annotations

import numpy as np

from lstmkit.errors import ConfigError

Z_MIN, Z_STEP = 2.5, 0.5


def ewma_alpha(span: int) -> float:
    """The EWMA weight of the newest value for a span (pandas' convention: 2 / (span + 1))."""
    return 2.0 / (float(span) + 1.0)


def ewma(values: np.ndarray, span: int) -> np.ndarray:
    """Exponentially weighted moving average along axis 0: ``s_t = a x_t + (1 - a) s_{t-1}``,
    started at the first non-NaN row (leading NaN rows stay NaN). ``span=1`` returns a copy.

    The recursion is the one :class:`~lstmkit.tasks.anomaly.streaming.AnomalyStream` runs step by
    step, so batch and stream smoothing agree exactly.
    """
    x = np.asarray(values, dtype=np.float64)
    if span <= 1:
        return x.copy()
    a = ewma_alpha(span)
    flat = x.reshape(x.shape[0], -1)
    out = np.full_like(flat, np.nan)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        finite = np.flatnonzero(~np.isnan(col))
        if finite.size == 0:
            continue
        s = col[finite[0]]
        out[finite[0], j] = s
        # A plain loop: series here are thousands of rows, and the recursion must be exact.
        for t in range(finite[0] + 1, col.shape[0]):
            s = a * col[t] + (1.0 - a) * s
            out[t, j] = s
    return out.reshape(x.shape)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(start, end)`` row ranges of the True runs of a boolean vector."""
    m = np.asarray(mask, dtype=bool).astype(np.int8)
    if m.size == 0:
        return []
    diff = np.diff(np.concatenate([[0], m, [0]]))
    starts = np.flatnonzero(diff == 1)
    ends = np.flatnonzero(diff == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _dilate(mask: np.ndarray, buffer: int) -> np.ndarray:
    """``mask`` with every True row widened by ``buffer`` rows on both sides."""
    if buffer <= 0 or not mask.any():
        return mask
    kernel = np.ones(2 * buffer + 1)
    return np.convolve(mask.astype(np.float64), kernel, mode="same") > 0


def hundman_epsilon(e_s: np.ndarray, z_max: float = 12.0, buffer: int = 0) -> float:
    """The threshold of one window of smoothed errors (see the module docstring).

    Flagged rows closer than ``2 * buffer`` rows count as one sequence (the paper's error
    buffer). Returns ``inf`` when no candidate flags anything (a flat window, or one with no
    outliers). NaN values are ignored.
    """
    e = np.asarray(e_s, dtype=np.float64)
    e = e[~np.isnan(e)]
    if e.size < 2:
        return float("inf")
    mean, std = float(e.mean()), float(e.std())
    if std == 0 or mean == 0:
        return float("inf")
    best, best_eps = -np.inf, float("inf")
    for z in np.arange(Z_MIN, z_max + 1e-9, Z_STEP):
        eps = mean + z * std
        above = e > eps
        n_above = int(above.sum())
        if n_above == 0:
            continue
        below = e[~above]
        delta_mean = mean - float(below.mean())
        delta_std = std - float(below.std())
        n_seq = len(runs(_dilate(above, buffer)))
        score = (delta_mean / mean + delta_std / std) / (n_above + n_seq**2)
        if score > best:
            best, best_eps = score, float(eps)
    return best_eps


def prune(e_s: np.ndarray, flags: np.ndarray, p: float) -> np.ndarray:
    """Hundman's pruning of one window: drop the weak tail of the flagged sequences."""
    seqs = runs(flags)
    if not seqs or p <= 0:
        return flags.copy()
    e = np.nan_to_num(np.asarray(e_s, dtype=np.float64), nan=0.0)
    maxima = np.array([e[s : t + 1].max() for s, t in seqs])
    order = np.argsort(-maxima, kind="stable")
    nominal = e[~flags]
    tail = float(nominal.max()) if nominal.size else 0.0
    m = np.concatenate([maxima[order], [tail]])
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(m[:-1] > 0, (m[:-1] - m[1:]) / m[:-1], 0.0)
    strong = np.flatnonzero(d >= p)
    keep = 0 if strong.size == 0 else int(strong[-1]) + 1
    out = np.zeros_like(flags)
    for k in order[:keep]:
        s, t = seqs[k]
        out[s : t + 1] = True
    return out


def threshold_windows(n: int, window: int) -> list[tuple[int, int]]:
    """Half-open row ranges of the threshold windows: consecutive, ``window`` rows each, the last
    one absorbing a remainder shorter than half a window."""
    if n <= 0:
        return []
    bounds = list(range(0, n, window)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < window // 2:
        del bounds[-2]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def dynamic_flags(
    e_s: np.ndarray, *, window: int, z_max: float = 12.0, p: float = 0.13, buffer: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Flags and the threshold of every row, with a Hundman threshold per window of rows."""
    e = np.asarray(e_s, dtype=np.float64)
    flags = np.zeros(e.shape[0], dtype=bool)
    thresholds = np.full(e.shape[0], np.inf)
    for a, b in threshold_windows(e.shape[0], window):
        eps = hundman_epsilon(e[a:b], z_max, buffer)
        thresholds[a:b] = eps
        part = np.nan_to_num(e[a:b], nan=-np.inf) > eps
        flags[a:b] = prune(e[a:b], part, p)
    return flags, thresholds


def rolling_zscore(values: np.ndarray, window: int) -> np.ndarray:
    """``|x_t - mean| / std`` per channel, the mean and (population) std taken over the ``window``
    rows before ``t``; NaN for the first ``window`` rows. A zero std counts as 1e-12.

    The simple baseline the LSTM detectors are compared with.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    out = np.full(x.shape, np.nan)
    if n <= window:
        return out
    views = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[: n - window]  # (W, C, w)
    mean = views.mean(axis=-1)
    std = views.std(axis=-1)
    out[window:] = np.abs(x[window:] - mean) / np.maximum(std, 1e-12)
    return out


def check_quantile(q: float) -> float:
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 < float(q) <= 1.0:
        raise ConfigError(f"quantile must be a number in (0, 1], got {q!r}")
    return float(q)


__all__ = [
    "dynamic_flags",
    "ewma",
    "ewma_alpha",
    "hundman_epsilon",
    "prune",
    "rolling_zscore",
    "runs",
    "threshold_windows",
]
