"""``read_table``: a CSV/Parquet file or DataFrame checked and shaped into a :class:`SeriesTable`.

Rows are named in messages by their *data row*: 1-based, the header line not counted (so data
row 1 is line 2 of a CSV file with one header line; for a DataFrame it is ``iloc[0]``).
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstmkit.data import missing as missing_values
from lstmkit.data import timegrid
from lstmkit.data._checks import describe_row, show
from lstmkit.data.fileio import read_file
from lstmkit.data.timegrid import ROW
from lstmkit.errors import DataError


@dataclass
class SeriesTable:
    """One or many time series, checked, sorted and with missing values handled."""

    frame: pd.DataFrame  # sorted by (id_col,) time_col; only the used columns; values float64
    time_col: str
    targets: list[str]
    past_covariates: list[str]  # known only up to the present
    future_covariates: list[str]  # known in the future too (calendar features, planned prices)
    id_col: str | None
    freq: str | None  # pandas offset alias, inferred or given (None for integer time columns)
    fill_report: dict[str, int]  # column -> number of values filled by the missing-value policy
    inserted_rows: int = 0  # timestamps added to fill gaps (their values count in fill_report)
    fill_notes: list[str] = field(default_factory=list)  # e.g. "sst: 2 leading values back-filled"

    @property
    def value_columns(self) -> list[str]:
        """Targets, then past covariates, then future covariates."""
        return [*self.targets, *self.past_covariates, *self.future_covariates]

    @property
    def n_series(self) -> int:
        return 1 if self.id_col is None else int(self.frame[self.id_col].nunique())

    def series(self) -> list[tuple[object, pd.DataFrame]]:
        """``(id, frame of one series)`` in id order; ``[(None, frame)]`` without ``id_col``."""
        if self.id_col is None:
            return [(None, self.frame)]
        return [
            (key, part.reset_index(drop=True))
            for key, part in self.frame.groupby(self.id_col, sort=False, dropna=False)
        ]


def _names(role: str, value: str | Sequence[str]) -> list[str]:
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise DataError(f"{role} must be a column name or a list of names, got {value!r}") from None
    return names


def _check_roles(
    time_col: str, targets: list[str], past: list[str], future: list[str], id_col: str | None
) -> None:
    if not targets:
        raise DataError("targets must name at least one column")
    seen: dict[object, str] = {time_col: "time_col"}
    if id_col is not None:
        if id_col == time_col:
            raise DataError(f"id_col and time_col are both {id_col!r}; they must differ")
        seen[id_col] = "id_col"
    for role, names in (
        ("targets", targets),
        ("past_covariates", past),
        ("future_covariates", future),
    ):
        for name in names:
            if name in seen:
                raise DataError(
                    f"column {name!r} is given twice: in {role} and in {seen[name]}; "
                    "each column has one role (targets are past inputs already)"
                )
            seen[name] = role


def _check_present(frame: pd.DataFrame, role: str, names: Sequence[object]) -> None:
    absent = [n for n in names if n not in frame.columns]
    if absent:
        what = "column" if len(absent) == 1 else "columns"
        raise DataError(
            f"{role} {what} {', '.join(repr(a) for a in absent)} not found; "
            f"the columns present are {[c for c in frame.columns if c != ROW]}"
        )


def _to_float(frame: pd.DataFrame, col: str) -> pd.Series:
    """A value column as float64; DataError naming the first non-numeric value."""
    raw = frame[col]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(np.float64)
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.astype(np.float64)
    else:
        cleaned = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
        cleaned = cleaned.mask(cleaned.map(lambda v: isinstance(v, str) and v == ""))
        values = pd.to_numeric(cleaned, errors="coerce").astype(np.float64)
        bad = values.isna() & cleaned.notna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            value = raw.iloc[pos]
            hint = ""
            if isinstance(value, str) and "," in value:
                hint = " (a decimal comma? use '.' as the decimal mark)"
            raise DataError(
                f"column {col!r} must be numeric, but has {show(value)} at "
                f"{describe_row(frame[ROW].iloc[pos])}{hint}; "
                f"{int(bad.sum())} non-numeric value(s) in all"
            )
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        pos = int(np.flatnonzero(infinite)[0])
        raise DataError(
            f"column {col!r} has a non-finite value {show(raw.iloc[pos])} at "
            f"{describe_row(frame[ROW].iloc[pos])}"
        )
    return values


def _check_duplicates(frame: pd.DataFrame, time_col: str, id_col: str | None) -> None:
    keys = [time_col] if id_col is None else [id_col, time_col]
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        same = (frame[time_col] == frame[time_col].iloc[pos]).to_numpy() & dup.to_numpy()
        if id_col is not None:
            same &= (frame[id_col] == frame[id_col].iloc[pos]).to_numpy()
        rows = sorted(int(r) for r in frame[ROW].to_numpy()[same])
        series = "" if id_col is None else f" in series {show(frame[id_col].iloc[pos])}"
        raise DataError(
            f"duplicated timestamp {frame[time_col].iloc[pos]}{series} at data rows "
            f"{', '.join(map(str, rows))} (1-based, header not counted); each timestamp must "
            f"appear once{' per series' if id_col is not None else ''}"
        )


def _load(
    source: str | pathlib.Path | pd.DataFrame, time_col: str, delimiter: str | None
) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        frame = source
        if time_col not in frame.columns and time_col in (frame.index.names or []):
            frame = frame.reset_index()
        frame = frame.reset_index(drop=True).copy()
    elif isinstance(source, (str, pathlib.Path)):
        frame = read_file(source, delimiter)
    else:
        raise DataError(
            f"source must be a file path or a pandas DataFrame, got {type(source).__name__}"
        )
    if len(frame) == 0:
        where = "the DataFrame" if isinstance(source, pd.DataFrame) else str(source)
        raise DataError(f"{where} has no data rows (columns: {list(frame.columns)})")
    frame[ROW] = np.arange(1, len(frame) + 1, dtype=np.float64)
    return frame


def read_table(
    source: str | pathlib.Path | pd.DataFrame,
    *,
    time_col: str,
    targets: str | Sequence[str],
    past_covariates: Sequence[str] = (),
    future_covariates: Sequence[str] = (),
    id_col: str | None = None,
    freq: str | None = None,
    missing: str = "error",
    delimiter: str | None = None,
) -> SeriesTable:
    """Read, check and shape one or many time series.

    ``source``: a ``.csv``/``.txt``/``.tsv`` file (delimiter comma, semicolon or tab, sniffed from
    the header unless ``delimiter`` is given), a ``.parquet``/``.pq`` file (needs pyarrow), or a
    DataFrame (a time index is accepted too). The time column is parsed (integers are kept as
    steps) and sorted (within each ``id_col`` series); duplicated timestamps are an error; the
    frequency is inferred (or ``freq`` checked); gaps in the time grid and missing values follow
    ``missing``: ``"error"``, ``"interpolate"`` or ``"ffill"`` (see :mod:`lstmkit.data.missing`).
    Every problem is a :class:`~lstmkit.errors.DataError` naming the column, row and value.
    """
    missing_values.check_policy(missing)
    targets = _names("targets", targets)
    past = _names("past_covariates", past_covariates)
    future = _names("future_covariates", future_covariates)
    _check_roles(time_col, targets, past, future, id_col)
    value_cols = [*targets, *past, *future]

    frame = _load(source, time_col, delimiter)
    _check_present(frame, "time", [time_col])
    _check_present(frame, "id", [id_col] if id_col is not None else [])
    _check_present(frame, "target", targets)
    _check_present(frame, "past covariate", past)
    _check_present(frame, "future covariate", future)
    keys = [time_col] if id_col is None else [id_col, time_col]
    repeated = [c for c in (*keys, *value_cols) if list(frame.columns).count(c) > 1]
    if repeated:
        raise DataError(f"column {repeated[0]!r} appears more than once in the table")
    frame = frame[[*keys, *value_cols, ROW]].copy()

    for col in value_cols:
        frame[col] = _to_float(frame, col)
    if id_col is not None and frame[id_col].isna().any():
        pos = int(np.flatnonzero(frame[id_col].isna().to_numpy())[0])
        raise DataError(
            f"id column {id_col!r} has an empty value at {describe_row(frame[ROW].iloc[pos])}"
        )
    frame[time_col] = timegrid.parse_time(frame, time_col)
    try:
        frame = frame.sort_values(keys, kind="mergesort").reset_index(drop=True)
    except TypeError as err:
        raise DataError(
            f"cannot sort by {keys}: the id column {id_col!r} mixes value types ({err}); "
            "make the ids all strings or all numbers"
        ) from None
    _check_duplicates(frame, time_col, id_col)

    parts = (
        [(None, frame)]
        if id_col is None
        else [(key, part) for key, part in frame.groupby(id_col, sort=False)]
    )
    freq, step = timegrid.resolve_freq(
        [(key, part[time_col]) for key, part in parts], freq, time_col, id_col
    )
    fill_report = {col: 0 for col in value_cols}
    notes: list[str] = []
    inserted = 0
    filled_parts = []
    for key, part in parts:
        part = _fill_gaps(part, step, freq, missing, time_col, id_col, key)
        inserted += int(part[ROW].isna().sum())
        if missing != "error":
            part = missing_values.fill_series(
                part, value_cols, missing, time_col, id_col, fill_report, notes
            )
        filled_parts.append(part)
    frame = pd.concat(filled_parts, ignore_index=True) if len(filled_parts) > 1 else filled_parts[0]
    if missing == "error":
        missing_values.check_no_missing(frame, value_cols, time_col, id_col)
    frame = frame.drop(columns=ROW).reset_index(drop=True)
    for col in value_cols:
        frame[col] = frame[col].astype(np.float64)
    return SeriesTable(
        frame=frame,
        time_col=time_col,
        targets=targets,
        past_covariates=past,
        future_covariates=future,
        id_col=id_col,
        freq=freq,
        fill_report=fill_report,
        inserted_rows=inserted,
        fill_notes=notes,
    )


def _fill_gaps(
    part: pd.DataFrame,
    step: pd.DateOffset | int,
    freq: str | None,
    missing: str,
    time_col: str,
    id_col: str | None,
    key: object,
) -> pd.DataFrame:
    """Check one series against its time grid; insert rows for missing timestamps if allowed."""
    times = part[time_col].reset_index(drop=True)
    grid = timegrid.expected_grid(times, step)
    series = "" if id_col is None else f" in series {show(key)}"
    step_text = f"freq {freq!r}" if freq is not None else f"step {step}"
    bad = timegrid.off_grid(times, grid)
    if bad is not None:
        raise DataError(
            f"timestamp {times.iloc[bad]}{series} (at "
            f"{describe_row(part[ROW].iloc[bad])}) is not on the {step_text} grid that starts at "
            f"{times.iloc[0]}; pass the right freq= or fix the timestamps"
        )
    if len(grid) == len(times):
        return part
    absent = grid[~grid.isin(times)]
    if missing == "error":
        before = times[times < absent[0]].iloc[-1]
        raise DataError(
            f"gap in the time index{series} ({step_text}): {absent[0]} is missing after {before}; "
            f"{len(absent)} timestamp(s) missing in all; pass missing='interpolate' or "
            "missing='ffill' to insert and fill them, or freq= if the frequency is wrong"
            + (
                " (the time column holds integers, used as steps: if they are dates such as "
                "20200131, convert them to datetimes first)"
                if freq is None
                else ""
            )
        )
    full = part.set_index(time_col).reindex(grid)
    full.index.name = time_col
    full = full.reset_index()
    if id_col is not None:
        full[id_col] = key
    return full[part.columns]
