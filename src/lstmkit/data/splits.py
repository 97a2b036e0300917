"""Temporal train/val/test splits of one series, with windows that never look into the future.

The rows of a series are cut, in time order, into ``train | val | test``. A train window has its
inputs *and* targets inside train. A val window has its target rows inside val; its inputs may
reach back into train (that is history the model would have had, not leakage). A test window's
targets lie inside test and its inputs may reach back into val and train. Scalers are fitted on
``split.fit_rows()`` (the train rows) only.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

from lstmkit._checks import positive_int
from lstmkit.data.windows import n_windows, sliding_windows
from lstmkit.errors import ConfigError, DataError, ShapeError

PARTS = ("train", "val", "test")


@dataclass(frozen=True)
class TemporalSplit:
    """Row ranges of one series (``val``/``test`` may be empty) and the window shape."""

    train: slice
    val: slice
    test: slice
    lookback: int
    horizon: int

    @property
    def n(self) -> int:
        """Length of the series the split was made for."""
        return self.test.stop

    def fit_rows(self) -> slice:
        """Rows a scaler may be fitted on: the train rows only."""
        return slice(self.train.start, self.train.stop)

    def part(self, name: str) -> slice:
        """The slice of ``"train"``, ``"val"`` or ``"test"``."""
        if name not in PARTS:
            raise ConfigError(f"unknown split part {name!r}; expected one of {list(PARTS)}")
        return getattr(self, name)

    def input_rows(self, name: str) -> slice:
        """Rows the windows of a part read (targets and their history), at most from row 0."""
        part = self.part(name)
        if name == "train":
            return slice(part.start, part.stop)
        return slice(max(part.start - self.lookback, 0), part.stop)


def _size(name: str, value: float | int, n: int, horizon: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a fraction in [0, 1) or a number of rows, got {value!r}")
    if isinstance(value, numbers.Integral):
        rows = int(value)
        if rows < 0:
            raise ConfigError(f"{name} must be >= 0 rows, got {rows}")
        if 0 < rows < horizon:
            raise ConfigError(
                f"{name}={rows} rows is fewer than horizon={horizon}: no window's targets fit "
                f"inside it; use 0 (no such part) or at least {horizon} rows"
            )
        return rows
    frac = float(value)
    if not 0.0 <= frac < 1.0:
        raise ConfigError(
            f"{name} as a fraction must be in [0, 1), got {frac}; pass an int for a number of rows"
        )
    if frac == 0.0:
        return 0
    # A non-empty part must hold at least one window's targets.
    return max(int(round(frac * n)), horizon)


def temporal_split(
    n: int,
    *,
    lookback: int,
    horizon: int,
    val_size: float | int = 0.15,
    test_size: float | int = 0.15,
) -> TemporalSplit:
    """Split ``n`` rows into train, val and test, in time order.

    ``val_size``/``test_size``: a float in [0, 1) is a fraction of ``n`` (rounded, and raised to
    ``horizon`` rows if smaller, so a non-empty part holds at least one window's targets); an int
    is an exact number of target rows (0 for none; otherwise at least ``horizon``).
    DataError if the train part cannot hold one window (lookback + horizon rows).
    """
    lookback = positive_int("lookback", lookback)
    horizon = positive_int("horizon", horizon)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ConfigError(f"n must be an int >= 0, got {n!r}")
    n = int(n)
    n_val = _size("val_size", val_size, n, horizon)
    n_test = _size("test_size", test_size, n, horizon)
    n_train = n - n_val - n_test
    if n_train < lookback + horizon:
        raise DataError(
            f"series of {n} rows is too short: after {n_val} val and {n_test} test rows, train "
            f"has {n_train} rows but one train window needs lookback + horizon = "
            f"{lookback + horizon}; the minimum length is {lookback + horizon + n_val + n_test} "
            "(or use smaller val_size/test_size, lookback or horizon)"
        )
    return TemporalSplit(
        train=slice(0, n_train),
        val=slice(n_train, n_train + n_val),
        test=slice(n_train + n_val, n),
        lookback=lookback,
        horizon=horizon,
    )


def _part_first_start(split: TemporalSplit, name: str) -> int:
    """Global start row of the first window of a part (inputs start here)."""
    part = split.part(name)
    return part.start if name == "train" else part.start - split.lookback


def split_window_starts(split: TemporalSplit, stride: int = 1) -> dict[str, torch.Tensor]:
    """Global start row of each window of each part, matching :func:`split_windows`.

    Window ``w`` of a part reads inputs ``[s, s + lookback)`` and targets
    ``[s + lookback, s + lookback + horizon)`` with ``s = starts[part][w]``.
    """
    stride = positive_int("stride", stride)
    out = {}
    for name in PARTS:
        first = _part_first_start(split, name)
        count = n_windows(split.part(name).stop - first, split.lookback, split.horizon, stride)
        out[name] = first + stride * torch.arange(count, dtype=torch.int64)
    return out


def split_windows(
    values: torch.Tensor, split: TemporalSplit, stride: int = 1
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (inputs, targets), "val": ..., "test": ...}`` as views of ``values`` ``(N, F)``.

    Each part gets the windows whose target rows fall entirely inside it (an empty part gives
    ``(0, lookback, F)`` and ``(0, horizon, F)`` tensors).
    """
    if isinstance(values, np.ndarray):
        values = torch.from_numpy(values)
    if not isinstance(values, torch.Tensor) or values.dim() < 1:
        raise ShapeError(f"values must be a torch.Tensor of shape (N, F), got {type(values)!r}")
    stride = positive_int("stride", stride)
    if values.shape[0] != split.n:
        raise ShapeError(
            f"values has {values.shape[0]} rows but the split was made for {split.n} rows"
        )
    lookback, horizon = split.lookback, split.horizon
    if split.train.stop - split.train.start < lookback + horizon:
        raise DataError(
            f"the train part has {split.train.stop - split.train.start} rows, too short for one "
            f"window: it needs lookback + horizon = {lookback + horizon} rows; the minimum series "
            f"length is {lookback + horizon + (split.n - split.train.stop)}"
        )
    out = {}
    for name in PARTS:
        first = _part_first_start(split, name)
        rows = values[first : split.part(name).stop]
        if n_windows(rows.shape[0], lookback, horizon, stride) == 0:
            feature_shape = tuple(values.shape[1:])
            out[name] = (
                values.new_empty((0, lookback, *feature_shape)),
                values.new_empty((0, horizon, *feature_shape)),
            )
        else:
            out[name] = sliding_windows(rows, lookback, horizon, stride)
    return out
