"""Sliding windows as views: ``(N, F)`` -> ``(W, lookback, F)`` and ``(W, horizon, F)``.

Window ``w`` reads rows ``[w*stride, w*stride + lookback)`` as inputs and rows
``[w*stride + lookback, w*stride + lookback + horizon)`` as targets, so
``W = (N - lookback - horizon) // stride + 1``. Nothing is copied: both results share storage
with ``values`` (call ``.contiguous()`` or ``.clone()`` if you need to write into them).
"""

from __future__ import annotations

import numpy as np
import torch

from lstmkit._checks import positive_int
from lstmkit.errors import DataError, ShapeError


def _check(n: int, lookback: int, horizon: int, stride: int) -> tuple[int, int, int]:
    lookback = positive_int("lookback", lookback)
    horizon = positive_int("horizon", horizon)
    stride = positive_int("stride", stride)
    if n < lookback + horizon:
        raise DataError(
            f"a series of {n} rows is too short for one window: it needs at least "
            f"lookback + horizon = {lookback} + {horizon} = {lookback + horizon} rows"
        )
    return lookback, horizon, stride


def n_windows(n: int, lookback: int, horizon: int, stride: int = 1) -> int:
    """How many windows :func:`sliding_windows` gives for ``n`` rows (0 if too short)."""
    lookback = positive_int("lookback", lookback)
    horizon = positive_int("horizon", horizon)
    stride = positive_int("stride", stride)
    if n < lookback + horizon:
        return 0
    return (n - lookback - horizon) // stride + 1


def window_starts(n: int, lookback: int, horizon: int, stride: int = 1) -> torch.Tensor:
    """Start row of each window (int64, shape ``(W,)``); its targets start ``lookback`` later."""
    lookback, horizon, stride = _check(int(n), lookback, horizon, stride)
    return torch.arange(0, n - lookback - horizon + 1, stride, dtype=torch.int64)


def sliding_windows(
    values: torch.Tensor, lookback: int, horizon: int, stride: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``(W, lookback, F)`` and targets ``(W, horizon, F)``, views of ``values`` ``(N, F)``.

    ``values`` may also be ``(N,)`` (giving ``(W, lookback)``) or ``(N, *feature_dims)``; a numpy
    array is wrapped with ``torch.from_numpy`` (shared memory as well).
    """
    if isinstance(values, np.ndarray):
        values = torch.from_numpy(values)
    if not isinstance(values, torch.Tensor):
        raise ShapeError(f"values must be a torch.Tensor of shape (N, F), got {type(values)!r}")
    if values.dim() < 1:
        raise ShapeError("values must have a time dimension: shape (N, F), got a 0-d tensor")
    lookback, horizon, stride = _check(values.shape[0], lookback, horizon, stride)
    # unfold puts the window as the last dim: (W, *F, L+H); move it next to the window index.
    windows = values.unfold(0, lookback + horizon, stride).movedim(-1, 1)
    return windows[:, :lookback], windows[:, lookback:]
