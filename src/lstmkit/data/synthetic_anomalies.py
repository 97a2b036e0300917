"""Synthetic multivariate series with injected anomalies of known kinds and labelled intervals.

Each channel is a sum of two sinusoids (periods differ per channel) plus Gaussian noise. Anomalies
are injected into one channel each, only after the clean prefix (so a detector can be trained on
the prefix), never overlapping and at least ``gap`` rows apart::

    spike             1-3 rows pushed +/- 6 noise-free standard deviations off the signal
    level_shift       an offset of 2.5 signal standard deviations over 30-80 rows
    frequency_change  the channel's sinusoids at 2.5x their frequency over 60-120 rows
    flat_line         the value frozen at the segment's first value over 40-100 rows
    noise_burst       noise with 6x the usual standard deviation over 30-80 rows

The labels are inclusive row ranges and the matching timestamps of the time column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError

KINDS = ("spike", "level_shift", "frequency_change", "flat_line", "noise_burst")
# (shortest, longest) length in rows of each kind
_LENGTHS = {
    "spike": (1, 3),
    "level_shift": (30, 80),
    "frequency_change": (60, 120),
    "flat_line": (40, 100),
    "noise_burst": (30, 80),
}


@dataclass
class SyntheticAnomalies:
    """A generated series: ``frame`` (time column + channels), the labels and the clean values."""

    frame: pd.DataFrame
    labels: pd.DataFrame  # start, end (timestamps, inclusive), start_row, end_row, kind, channel
    clean: np.ndarray  # (n, channels): the series before injection
    time_col: str
    columns: list[str]
    clean_rows: int  # rows [0, clean_rows) hold no anomaly


def make_anomaly_series(
    n: int = 4000,
    *,
    channels: int = 2,
    n_anomalies: int = 10,
    kinds: tuple[str, ...] | list[str] = KINDS,
    clean_fraction: float = 0.5,
    noise: float = 0.1,
    gap: int = 60,
    start: str | None = None,
    freq: str = "min",
    seed: int = 0,
) -> SyntheticAnomalies:
    """Generate ``n`` rows of ``channels`` channels with ``n_anomalies`` injected anomalies.

    Args:
        n: rows.
        channels: number of value columns, named ``x0``, ``x1``, ...
        n_anomalies: anomalies to inject, kinds drawn in turn from ``kinds`` (cycled, so every
            kind appears when ``n_anomalies >= len(kinds)``).
        kinds: a subset of :data:`KINDS`.
        clean_fraction: the leading share of rows kept free of anomalies (for training).
        noise: standard deviation of the Gaussian noise (the sinusoids have amplitude ~1).
        gap: minimum number of clean rows between two anomalies.
        start: with a start timestamp (e.g. ``"2024-01-01"``), the time column ``time`` holds
            timestamps at ``freq``; by default it holds the integer steps 0..n-1.
        seed: the random seed; same seed, same series.
    """
    n = positive_int("n", n)
    channels = positive_int("channels", channels)
    if isinstance(n_anomalies, bool) or not isinstance(n_anomalies, int) or n_anomalies < 0:
        raise ConfigError(f"n_anomalies must be an int >= 0, got {n_anomalies!r}")
    kinds = list(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ConfigError(f"kinds must be a non-empty subset of {list(KINDS)}, got {kinds!r}")
    if not 0.0 <= float(clean_fraction) < 1.0:
        raise ConfigError(f"clean_fraction must be in [0, 1), got {clean_fraction!r}")
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    periods = [(rng.uniform(40, 80), rng.uniform(150, 300)) for _ in range(channels)]
    phases = rng.uniform(0, 2 * np.pi, size=(channels, 2))

    def signal(c: int, rows: np.ndarray, speed: float = 1.0) -> np.ndarray:
        p1, p2 = periods[c]
        return np.sin(2 * np.pi * speed * rows / p1 + phases[c, 0]) + 0.5 * np.sin(
            2 * np.pi * speed * rows / p2 + phases[c, 1]
        )

    base = np.stack([signal(c, t) for c in range(channels)], axis=1)
    clean = base + noise * rng.standard_normal((n, channels))
    values = clean.copy()
    signal_std = base.std(axis=0)

    clean_rows = int(round(clean_fraction * n))
    free = n - clean_rows
    records = []
    # every anomaly gets an equal slot, which must hold the longest kind used plus the gap
    used = {kinds[i % len(kinds)] for i in range(n_anomalies)}
    need = n_anomalies * (max((_LENGTHS[k][1] for k in used), default=0) + gap)
    if n_anomalies and need > free:
        raise ConfigError(
            f"{n_anomalies} anomalies need about {need} rows after the clean prefix, but only "
            f"{free} are left (n={n}, clean_fraction={clean_fraction}); raise n or lower "
            "n_anomalies, gap or clean_fraction"
        )
    # Place anomalies in equal slots after the clean prefix, at a random offset inside each.
    slot = free // max(n_anomalies, 1)
    for i in range(n_anomalies):
        kind = kinds[i % len(kinds)]
        lo, hi = _LENGTHS[kind]
        length = int(rng.integers(lo, hi + 1))
        first = clean_rows + i * slot + gap // 2
        last_start = clean_rows + (i + 1) * slot - length - gap // 2
        s = int(rng.integers(first, max(first, last_start) + 1))
        e = s + length - 1
        c = int(rng.integers(channels))
        rows = np.arange(s, e + 1)
        if kind == "spike":
            values[rows, c] += rng.choice([-1.0, 1.0]) * 6.0 * signal_std[c]
        elif kind == "level_shift":
            values[rows, c] += rng.choice([-1.0, 1.0]) * 2.5 * signal_std[c]
        elif kind == "frequency_change":
            values[rows, c] = signal(c, rows.astype(np.float64), 2.5) + noise * (
                rng.standard_normal(length)
            )
        elif kind == "flat_line":
            values[rows, c] = values[s, c]
        else:  # noise_burst
            values[rows, c] += 5.0 * noise * rng.standard_normal(length) * np.sqrt(35.0 / 25.0)
        records.append((s, e, kind, f"x{c}"))

    if start is None:
        times: pd.Index = pd.Index(np.arange(n), name="time")
    else:
        times = pd.date_range(start=start, periods=n, freq=freq, name="time")
    columns = [f"x{c}" for c in range(channels)]
    frame = pd.DataFrame(values, columns=columns)
    frame.insert(0, "time", np.asarray(times))
    labels = pd.DataFrame(
        {
            "start": [times[s] for s, _, _, _ in records],
            "end": [times[e] for _, e, _, _ in records],
            "start_row": [s for s, _, _, _ in records],
            "end_row": [e for _, e, _, _ in records],
            "kind": [k for _, _, k, _ in records],
            "channel": [c for _, _, _, c in records],
        }
    )
    return SyntheticAnomalies(
        frame=frame,
        labels=labels,
        clean=clean,
        time_col="time",
        columns=columns,
        clean_rows=clean_rows,
    )


__all__ = ["KINDS", "SyntheticAnomalies", "make_anomaly_series"]
