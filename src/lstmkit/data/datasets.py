"""Real series bundled with lstmkit (see ``files/SOURCES.md`` for their origin and licence)."""

from __future__ import annotations

import pathlib

import pandas as pd

from lstmkit.errors import DataError

FILES_DIR = pathlib.Path(__file__).resolve().parent / "files"
DATASETS = {
    "elnino_sst_monthly": "Monthly sea-surface temperature (deg C), Nino 1+2 region, 1950-2010",
    "us_macro_quarterly": "US macroeconomic series (GDP, consumption, ...), 1959Q1-2009Q3",
}


def list_datasets() -> dict[str, str]:
    """Bundled dataset names and a one-line description of each."""
    return dict(DATASETS)


def dataset_path(name: str) -> pathlib.Path:
    """Path of a bundled CSV: ``"elnino_sst_monthly"`` or ``"us_macro_quarterly"``."""
    stem = name[:-4] if isinstance(name, str) and name.endswith(".csv") else name
    if stem not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; the bundled datasets are {sorted(DATASETS)}")
    path = FILES_DIR / f"{stem}.csv"
    if not path.is_file():
        raise DataError(f"bundled dataset file {path} is missing: the installation is incomplete")
    return path


def _load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(dataset_path(name))
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame


def load_elnino() -> pd.DataFrame:
    """Monthly sea-surface temperature, 732 rows: ``date`` (month start), ``sst`` (deg C)."""
    return _load("elnino_sst_monthly")


def load_us_macro() -> pd.DataFrame:
    """US quarterly macro data, 203 rows: ``date`` (quarter start), ``realgdp``, ``realcons``,
    ``realinv``, ``cpi``, ``unemp``, ``infl``."""
    return _load("us_macro_quarterly")
