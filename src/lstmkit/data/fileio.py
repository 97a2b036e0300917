"""Reading a CSV or Parquet file into a pandas DataFrame, with errors that say what failed."""

from __future__ import annotations

import importlib.util
import pathlib
from typing import Any

import pandas as pd

from lstmkit.errors import DataError

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = (",", ";", "\t")


def sniff_delimiter(path: pathlib.Path) -> str:
    """The delimiter among comma, semicolon and tab that the header line uses most.

    A header with none of them (a single column) falls back to tab for ``.tsv``, comma otherwise.
    """
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
    except OSError as err:
        raise DataError(f"could not open {path}: {err}") from None
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] == 0:
        return "\t" if path.suffix.lower() == ".tsv" else ","
    return best


def read_csv(path: pathlib.Path, delimiter: str | None = None, **options: Any) -> pd.DataFrame:
    """A CSV file (the delimiter sniffed unless given, a BOM dropped); ``options`` go to
    ``pandas.read_csv``; DataError naming the file if it cannot be read."""
    sep = delimiter if delimiter is not None else sniff_delimiter(path)
    options = {"encoding": "utf-8-sig", "skipinitialspace": True, **options}
    try:
        return pd.read_csv(path, sep=sep, **options)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: no header and no rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as err:
        raise DataError(
            f"could not read {path} as CSV (delimiter {sep!r}): {type(err).__name__}: {err}"
        ) from None


def read_parquet(path: pathlib.Path) -> pd.DataFrame:
    if importlib.util.find_spec("pyarrow") is None:
        raise DataError(
            f"reading Parquet ({path}) needs pyarrow, which is not installed: "
            "pip install 'lstmkit[parquet]' (or pip install pyarrow), or convert the file to CSV"
        )
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except Exception as err:  # pyarrow raises its own types (ArrowInvalid, ...)
        raise DataError(f"could not read {path} as Parquet: {type(err).__name__}: {err}") from None


def read_file(source: str | pathlib.Path, delimiter: str | None = None) -> pd.DataFrame:
    """A CSV (``.csv``, ``.txt``, ``.tsv``) or Parquet (``.parquet``, ``.pq``) file, read;
    ``bundled:NAME`` names a dataset shipped with lstmkit."""
    from lstmkit.data.datasets import resolve_data_path

    path = resolve_data_path(source).expanduser()
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if not path.is_file():
        raise DataError(f"not a file: {path}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, delimiter)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path)
    raise DataError(
        f"cannot tell the format of {path} from its extension {suffix or '(none)'!r}: "
        f"use one of {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}, or pass a pandas DataFrame"
    )
