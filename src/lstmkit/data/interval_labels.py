"""Labelled anomaly intervals: a labels table (``start``, ``end`` timestamps, inclusive) read
against a series' time column as inclusive row ranges (what
:meth:`lstmkit.tasks.AnomalyDetector.evaluate` and ``lstmkit detect score --labels`` score)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import DataError


def read_labels(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The labels CSV at ``path``, or a one-line DataError naming the file and what is wrong
    with it (absent, not a CSV, not UTF-8, without a ``start`` or ``end`` column)."""
    if not Path(path).is_file():
        raise DataError(f"labels file {path} does not exist")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:  # empty, binary (not UTF-8), malformed
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(err, UnicodeDecodeError):
            reason = "not UTF-8 text (a binary file?)"
        raise DataError(
            f"labels file {path} is not a CSV with columns start,end: {reason}"
        ) from None
    absent = [c for c in ("start", "end") if c not in frame.columns]
    if absent:
        raise DataError(
            f"labels file {path} lacks the column(s) {absent}; it has {list(frame.columns)}"
        )
    return frame


def labels_to_rows(labels: Any, times: Any) -> list[tuple[int, int]]:
    """Inclusive row ranges of labelled intervals against a sorted time column.

    ``labels``: a CSV path (read by :func:`read_labels`) or DataFrame with columns ``start`` and
    ``end`` (timestamps of the time column, both inclusive; parsed as dates when the time column
    holds dates). A row is inside an interval when ``start <= time <= end``; intervals that cover
    no row are dropped.
    """
    frame = labels if isinstance(labels, pd.DataFrame) else read_labels(labels)
    absent = [c for c in ("start", "end") if c not in frame.columns]
    if absent:
        raise DataError(
            f"labels need columns 'start' and 'end' (timestamps, inclusive); missing {absent}, "
            f"found {list(frame.columns)}"
        )
    t = pd.Series(np.asarray(times))
    is_time = pd.api.types.is_datetime64_any_dtype(t)
    try:
        if is_time:
            start = pd.to_datetime(frame["start"]).to_numpy()
            end = pd.to_datetime(frame["end"]).to_numpy()
        else:
            start = pd.to_numeric(frame["start"]).to_numpy(np.float64)
            end = pd.to_numeric(frame["end"]).to_numpy(np.float64)
    except (ValueError, TypeError) as err:
        kind = "timestamps" if is_time else "numbers like the time column"
        raise DataError(f"labels: 'start'/'end' must be {kind}: {err}") from None
    tv = t.to_numpy()
    out = []
    for s, e in zip(start, end, strict=True):
        if e < s:
            raise DataError(f"labels: interval end {e} is before its start {s}")
        first = int(np.searchsorted(tv, s, side="left"))
        last = int(np.searchsorted(tv, e, side="right")) - 1
        if first <= last:
            out.append((first, last))
    return out


__all__ = ["labels_to_rows", "read_labels"]
