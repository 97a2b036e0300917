"""Labelled sequences from a long-format table (one row per time step) or a ``.ts`` file.

Long format, as sensor logs and patient records usually come::

    series,t,label,ax,ay,az
    walk-01,0,walk,0.1,0.3,9.8
    walk-01,1,walk,0.2,0.2,9.7
    run-07,0,run,1.4,0.9,9.1

``series_col`` names the sequence a row belongs to, ``time_col`` orders the rows within it (numbers
or dates; duplicates are an error), ``label_col`` its label (one per sequence: a label that changes
midway is an error naming the sequence) and ``columns`` the features (default: every other
column). Sequences keep the order of their first row; they may have any length. Empty cells are
missing values (NaN). Every error is a :class:`~lstmkit.errors.DataError` that names the file, the
column and the sequence or row.

:func:`read_sequences` reads either input (a ``.ts`` file, or a table with ``series_col``) into
one :class:`Sequences` value.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data._checks import show
from lstmkit.data.datasets import resolve_data_path
from lstmkit.errors import ConfigError, DataError


@dataclass
class Sequences:
    """Series ids, the series ``(T_i, F)`` float64 (NaN where missing), labels (None when the
    input has none), the feature names, where they came from, and with a time column each
    series' time stamps as float64 ``(T_i,)`` (dates as seconds since 1970; else None).

    ``table_columns``: read from a long table, the column names it was read with
    (``series_col``, ``time_col``, ``label_col`` and the feature ``columns``), which a model keeps
    to read the next table the same way; None for a ``.ts`` file, which has no column names."""

    ids: list[Any]
    series: list[np.ndarray]
    labels: list[Any] | None
    columns: list[str]
    source: str
    times: list[np.ndarray] | None = None
    table_columns: dict[str, Any] | None = None


def _read(data: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, "the table"
    from lstmkit.data.fileio import read_file

    path = resolve_data_path(data)
    return read_file(path), str(path)


def _missing(values: pd.Series) -> np.ndarray:
    return values.isna().to_numpy() | values.astype(str).str.strip().eq("").to_numpy()


def read_long(
    data: Any,
    *,
    series_col: str,
    time_col: str | None = None,
    label_col: str | None = None,
    columns: Sequence[str] | None = None,
) -> Sequences:
    """Sequences from a long-format table (a DataFrame, a CSV/TSV/Parquet path or
    ``bundled:NAME``); see the module docstring. Without ``time_col`` the rows' order in the file
    is the time order. Without ``label_col`` the labels are None (for prediction)."""
    frame, where = _read(data)
    if len(frame) == 0:
        raise DataError(f"{where} has no rows: there are no sequences")
    roles = {"series": series_col, "time": time_col, "label": label_col}
    for role, name in roles.items():
        if name is not None and name not in frame.columns:
            raise DataError(
                f"{role} column {name!r} not found in {where}; the columns are "
                f"{list(frame.columns)}"
            )
    used = {v for v in roles.values() if v is not None}
    if columns is None:
        columns = [str(c) for c in frame.columns if c not in used]
        if not columns:
            raise DataError(
                f"{where} has no feature columns besides {sorted(used)}; name them with columns"
            )
    else:
        columns = [str(c) for c in columns]
        if not columns:
            raise ConfigError("columns is empty: name at least one feature column")
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise DataError(
                f"feature column(s) {absent} not found in {where}; the columns are "
                f"{list(frame.columns)}"
            )
        clash = sorted(set(columns) & used)
        if clash:
            raise ConfigError(f"column(s) {clash} are both features and series/time/label")
    ids = frame[series_col]
    bad = np.nonzero(_missing(ids))[0]
    if bad.size:
        raise DataError(f"{where}: data row {bad[0] + 1} has no series id ({series_col!r} empty)")
    features = {}
    for c in columns:
        values = pd.to_numeric(frame[c].replace("", np.nan), errors="coerce")
        wrong = np.nonzero(values.isna().to_numpy() & ~_missing(frame[c]))[0]
        if wrong.size:
            row = int(wrong[0])
            raise DataError(
                f"{where}: column {c!r}, data row {row + 1} (series {show(ids.iloc[row])}) "
                f"holds {frame[c].iloc[row]!r}, which is not a number"
            )
        features[c] = values.to_numpy(dtype=np.float64)
    matrix = np.column_stack([features[c] for c in columns])
    order_key = None
    if time_col is not None:
        times = frame[time_col]
        if _missing(times).any():
            row = int(np.nonzero(_missing(times))[0][0])
            raise DataError(f"{where}: data row {row + 1} has no time ({time_col!r} empty)")
        numeric = pd.to_numeric(times, errors="coerce")
        if numeric.isna().any():
            numeric = pd.to_datetime(times, errors="coerce")
            if numeric.isna().any():
                row = int(np.nonzero(numeric.isna().to_numpy())[0][0])
                raise DataError(
                    f"{where}: time column {time_col!r}, data row {row + 1} holds "
                    f"{times.iloc[row]!r}: expected numbers or dates"
                )
        order_key = numeric.to_numpy()
        if pd.api.types.is_datetime64_any_dtype(numeric):  # dates: seconds since 1970
            naive = numeric.dt.tz_convert(None) if numeric.dt.tz is not None else numeric
            stamps = naive.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
        else:
            stamps = order_key.astype(np.float64)
    labels_col = frame[label_col] if label_col is not None else None
    groups: dict[Any, list[int]] = {}
    for row, key in enumerate(ids.tolist()):
        groups.setdefault(key, []).append(row)
    out_ids, series, labels, out_times = [], [], [], []
    for key, rows in groups.items():
        idx = np.asarray(rows)
        if order_key is not None:
            keys = order_key[idx]
            idx = idx[np.argsort(keys, kind="stable")]
            sorted_keys = order_key[idx]
            dup = np.nonzero(sorted_keys[1:] == sorted_keys[:-1])[0]
            if dup.size:
                raise DataError(
                    f"{where}: series {show(key)} has two rows at time {show(sorted_keys[dup[0]])} "
                    f"({time_col!r}); one row per time step"
                )
        x = matrix[idx]
        if np.isnan(x).all():
            raise DataError(f"{where}: series {show(key)} is empty (every value is missing)")
        if labels_col is not None:
            values = labels_col.iloc[idx]
            gone = _missing(values)
            if gone.any():
                raise DataError(
                    f"{where}: series {show(key)} has no label at data row {idx[gone][0] + 1} "
                    f"({label_col!r} empty)"
                )
            distinct = list(dict.fromkeys(values.tolist()))
            if len(distinct) > 1:
                raise DataError(
                    f"{where}: series {show(key)} changes label midway ({show(distinct[0])} then "
                    f"{show(distinct[1])} in {label_col!r}); a series has one label"
                )
            labels.append(distinct[0])
        out_ids.append(key)
        series.append(x)
        if order_key is not None:
            out_times.append(stamps[idx])
    return Sequences(
        out_ids,
        series,
        labels if labels_col is not None else None,
        list(columns),
        where,
        out_times if order_key is not None else None,
        {
            "series_col": series_col,
            "time_col": time_col,
            "label_col": label_col,
            "columns": list(columns),
        },
    )


def read_sequences(
    data: Any,
    *,
    series_col: str | None = None,
    time_col: str | None = None,
    label_col: str | None = None,
    columns: Sequence[str] | None = None,
) -> Sequences:
    """A ``.ts`` or ``.ts.gz`` file (by its suffix; column options do not apply) or a long-format
    table (needs ``series_col``)."""
    from lstmkit.data.ts_format import is_ts_path, read_ts

    if not isinstance(data, pd.DataFrame):
        path = resolve_data_path(os.fspath(data))
        if is_ts_path(path):
            given = [n for n, v in (("time_col", time_col), ("columns", columns)) if v]
            if given:
                raise ConfigError(f"{path} is a .ts file: {', '.join(given)} apply to tables")
            ts = read_ts(path)
            names = [f"channel_{c}" for c in range(ts.n_channels)]
            return Sequences(ts.ids, ts.series, ts.labels, names, str(Path(path)))
    if series_col is None:
        raise ConfigError(
            "a table of sequences needs series_col (--series-col): the column naming the sequence "
            "each row (time step) belongs to; or give a .ts file"
        )
    return read_long(
        data, series_col=series_col, time_col=time_col, label_col=label_col, columns=columns
    )


__all__ = ["Sequences", "read_long", "read_sequences"]
