"""Labelled text tables: reading them with every column as text, choosing rows by split, and
taking a column of texts or labels with errors that name the column and the row.

A review that reads "NA" must stay a review, so CSV/TSV files are read with no NA guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data._checks import describe_row
from lstmkit.data.datasets import resolve_data_path
from lstmkit.errors import DataError


def read_frame(data: Any, columns: dict[str, str | None]) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a CSV/TSV/Parquet path or ``bundled:NAME``; DataError if it
    has no rows or lacks one of ``columns`` (role -> name: the error names the role and the
    column, and lists the columns the table has)."""
    if isinstance(data, pd.DataFrame):
        frame, where = data, "the table"
    else:
        path = resolve_data_path(data)
        frame, where = read_text_table(path), str(path)
    for role, name in columns.items():
        if name is not None and name not in frame.columns:
            raise DataError(
                f"{role} column {name!r} not found in {where}; the columns are "
                f"{list(frame.columns)}"
            )
    if len(frame) == 0:
        raise DataError(f"{where} has no rows: there is nothing to classify")
    return frame


def read_text_table(path: Path) -> pd.DataFrame:
    """A CSV/TSV file read with every column as text and no NA guessing (a review reading "NA"
    or "null" stays text; an empty cell is ""), or a Parquet file as stored."""
    from lstmkit.data.fileio import CSV_SUFFIXES, read_csv, read_file

    if path.suffix.lower() not in CSV_SUFFIXES or not path.is_file():
        return read_file(path)  # Parquet, or the reader's error for a missing/odd file
    return read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=False)


def split_rows(frame: pd.DataFrame, split_col: str, names: Sequence[str]) -> pd.Index:
    """Index of the rows whose split (trimmed, lower-cased) is one of ``names``; DataError listing
    the splits present when there are none."""
    values = frame[split_col].astype(str).str.strip().str.lower()
    rows = frame.index[values.isin(list(names))]
    if len(rows) == 0:
        raise DataError(
            f"no rows with {split_col!r} in {list(names)}; the splits present are "
            f"{sorted(values.unique().tolist())}"
        )
    return rows


def _first_row(frame: pd.DataFrame, missing: np.ndarray) -> str:
    """Where the first flagged row is: its data row in the file (a file's frame has a 0-based
    RangeIndex, kept through row selection), else its position."""
    pos = int(np.flatnonzero(missing)[0])
    label = frame.index[pos]
    if isinstance(label, int | np.integer):
        return describe_row(int(label) + 1)
    return f"row {pos + 1} of the selected rows"


def column_texts(frame: pd.DataFrame, text_col: str) -> list[str]:
    """The texts of a column; DataError naming the first missing one."""
    values = frame[text_col]
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"text column {text_col!r} has {int(missing.sum())} missing value(s), the first in "
            f"{_first_row(frame, missing)}"
        )
    return values.astype(str).tolist()


def column_labels(frame: pd.DataFrame, label_col: str) -> list[Any]:
    """The labels of a column as plain Python values; DataError naming the first missing one."""
    values = frame[label_col]
    missing = (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()
    if missing.any():
        raise DataError(
            f"label column {label_col!r} has {int(missing.sum())} missing value(s), the first in "
            f"{_first_row(frame, missing)}"
        )
    return values.tolist()


__all__ = ["column_labels", "column_texts", "read_frame", "read_text_table", "split_rows"]
