"""The time column: parsing it, inferring the frequency, and finding gaps in the grid it implies.

A datetime time column has a pandas frequency (an offset alias such as ``"MS"`` or ``"D"``). An
integer time column (a step counter, or years written as 1950, 1951, ...) is kept as integers;
its step is the greatest common divisor of the differences between consecutive values, and
``freq`` is ``None``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmkit.data._checks import describe_row, show
from lstmkit.errors import DataError

ROW = "__lstmkit_row__"  # 1-based data row of each row in its source; NaN for inserted rows


def parse_time(frame: pd.DataFrame, time_col: str) -> pd.Series:
    """The time column as datetime64 (or int64 for an integer step column)."""
    col = frame[time_col]
    empty = col.isna()
    if empty.any():
        first = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataError(
            f"time column {time_col!r} has an empty value at {describe_row(frame[ROW].iloc[first])}"
        )
    if pd.api.types.is_datetime64_any_dtype(col):
        return col
    if pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.astype("int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format" chatter; we check below
        parsed = pd.to_datetime(col, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"time column {time_col!r}: cannot parse {show(col.iloc[first])} as a timestamp "
            f"(at {describe_row(frame[ROW].iloc[first])}); "
            f"{int(bad.sum())} value(s) in all could not be parsed"
        )
    return parsed


def is_step_index(times: pd.Series | pd.Index) -> bool:
    return pd.api.types.is_integer_dtype(times)


def infer_freq(times: pd.Series | pd.Index) -> str | None:
    """``pandas.infer_freq`` as a string (None if it cannot tell, e.g. fewer than 3 rows)."""
    index = pd.DatetimeIndex(times)
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces infer_freq will return an offset
        try:
            freq = pd.infer_freq(index)
        except (TypeError, ValueError):
            return None
    if freq is not None and not isinstance(freq, str):
        freq = freq.freqstr
    return freq


def check_freq(freq: str) -> pd.DateOffset:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError) as err:
        raise DataError(
            f"freq={freq!r} is not a pandas offset alias (e.g. 'D', 'h', 'MS', 'QS', 'YS'): {err}"
        ) from None


def resolve_freq(
    groups: Sequence[tuple[object, pd.Series]], freq: str | None, time_col: str, id_col: str | None
) -> tuple[str | None, pd.DateOffset | int]:
    """The frequency string and the grid step (an offset, or an int for step columns)."""
    times0 = groups[0][1]
    if is_step_index(times0):
        if freq is not None:
            raise DataError(
                f"freq={freq!r} applies to datetime time columns, but {time_col!r} holds "
                "integers (steps); leave freq=None"
            )
        diffs = [np.diff(t.to_numpy()) for _, t in groups]
        positive = np.concatenate(diffs) if diffs else np.array([], dtype=np.int64)
        positive = positive[positive > 0]
        step = int(np.gcd.reduce(positive)) if positive.size else 1
        return None, step
    if freq is not None:
        offset = check_freq(freq)
        return offset.freqstr, offset
    found: dict[str, object] = {}
    for key, times in groups:
        f = infer_freq(times)
        if f is not None:
            found.setdefault(f, key)
    if not found:
        where = "any series" if id_col is not None else "the data"
        raise DataError(
            f"cannot infer the frequency of time column {time_col!r} from {where} (irregular "
            "spacing, gaps, or fewer than 3 rows); pass freq= with a pandas offset alias, e.g. "
            "freq='D' (daily), 'h' (hourly), 'MS' (month start), 'QS' (quarter start)"
        )
    if len(found) > 1:
        detail = ", ".join(f"{f!r} (series {show(k)})" for f, k in found.items())
        raise DataError(
            f"the series have different frequencies: {detail}; pass freq= to choose one"
        )
    freq = next(iter(found))
    return freq, check_freq(freq)


def expected_grid(times: pd.Series, step: pd.DateOffset | int) -> pd.Index:
    """Every timestamp from the first to the last of ``times`` at the given step."""
    first, last = times.iloc[0], times.iloc[-1]
    if isinstance(step, int):
        return pd.Index(np.arange(first, last + 1, step, dtype=np.int64))
    # A first timestamp off the grid (mid-month with freq='MS') is left out, so off_grid names it.
    return pd.date_range(start=first, end=last, freq=step)


def off_grid(times: pd.Series, grid: pd.Index) -> int | None:
    """Position of the first timestamp that is not on ``grid``, or None."""
    bad = ~pd.Index(times).isin(grid)
    return int(np.flatnonzero(bad)[0]) if bad.any() else None
