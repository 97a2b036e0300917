"""Missing-value policies for the value columns of one table: ``error``, ``interpolate``, ``ffill``.

- ``"error"`` (default): any missing value (or gap in the time index) is an error naming the
  column, the data row (1-based, header not counted) and the timestamp.
- ``"interpolate"``: linear in time (``pandas.Series.interpolate(method="time")``; by index for
  integer time columns); leading missing values are back-filled and trailing ones carried forward,
  and the notes say so.
- ``"ffill"``: carry the last value forward; a leading missing value is an error (nothing to carry).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmkit.data._checks import describe_row, show
from lstmkit.data.timegrid import ROW
from lstmkit.errors import DataError

POLICIES = ("error", "interpolate", "ffill")


def check_policy(missing: str) -> str:
    if missing not in POLICIES:
        raise DataError(
            f"unknown missing-value policy {missing!r}; expected one of {list(POLICIES)}"
        )
    return missing


def _where(frame: pd.DataFrame, pos: int, time_col: str, id_col: str | None) -> str:
    row = frame[ROW].iloc[pos]
    text = describe_row(None if pd.isna(row) else row)
    text += f", {time_col}={frame[time_col].iloc[pos]}"
    if id_col is not None:
        text += f", {id_col}={show(frame[id_col].iloc[pos])}"
    return text


def check_no_missing(
    frame: pd.DataFrame, value_cols: Sequence[str], time_col: str, id_col: str | None
) -> None:
    """DataError for the missing value that comes first in the source (policy ``"error"``)."""
    best: tuple[float, str, int] | None = None
    rows = frame[ROW].to_numpy(dtype=np.float64)
    for col in value_cols:
        positions = np.flatnonzero(frame[col].isna().to_numpy())
        if positions.size:
            pos = int(positions[np.argmin(rows[positions])])
            if best is None or rows[pos] < best[0]:
                best = (rows[pos], col, pos)
    if best is not None:
        _, col, pos = best
        total = int(frame[list(value_cols)].isna().sum().sum())
        raise DataError(
            f"column {col!r} has a missing value at {_where(frame, pos, time_col, id_col)} "
            f"({total} missing value(s) in all); pass missing='interpolate' or missing='ffill' "
            "to fill them, or fix the data"
        )


def fill_series(
    frame: pd.DataFrame,
    value_cols: Sequence[str],
    policy: str,
    time_col: str,
    id_col: str | None,
    fill_report: dict[str, int],
    notes: list[str],
) -> pd.DataFrame:
    """Fill the missing values of one series in place of a copy; counts go into ``fill_report``."""
    frame = frame.copy()
    label = "" if id_col is None else f" (series {show(frame[id_col].iloc[0])})"
    times = pd.Index(frame[time_col])
    method = "index" if pd.api.types.is_integer_dtype(times) else "time"
    for col in value_cols:
        values = pd.Series(frame[col].to_numpy(dtype=np.float64), index=times)
        isna = values.isna().to_numpy()
        n_missing = int(isna.sum())
        if n_missing == 0:
            continue
        if isna.all():
            raise DataError(f"column {col!r}{label} has no values at all: nothing to fill from")
        first_valid = int(np.argmin(isna))
        if policy == "ffill":
            if first_valid > 0:
                raise DataError(
                    f"column {col!r} starts with a missing value at "
                    f"{_where(frame, 0, time_col, id_col)}: missing='ffill' has nothing to carry "
                    "forward; use missing='interpolate' (back-fills the start) or fix the data"
                )
            filled = values.ffill()
        else:
            filled = values.interpolate(method=method, limit_area="inside")
            if first_valid > 0:
                notes.append(f"{col}{label}: {first_valid} leading value(s) back-filled")
            n_trailing = int(np.argmin(isna[::-1]))
            if n_trailing > 0:
                notes.append(f"{col}{label}: {n_trailing} trailing value(s) carried forward")
            filled = filled.bfill().ffill()
        frame[col] = filled.to_numpy()
        fill_report[col] = fill_report.get(col, 0) + n_missing
    return frame
