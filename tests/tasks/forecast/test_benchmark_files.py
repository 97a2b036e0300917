"""Which files ``lstmkit forecast benchmark PATH...`` benchmarks."""

from __future__ import annotations

import pytest

from lstmkit.errors import DataError
from lstmkit.tasks.forecast.benchmark import series_files


def test_files_are_kept_and_directories_give_their_csv_files_sorted(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    for name in ("b.csv", "a.csv", "notes.txt"):
        (folder / name).write_text("t,y\n", encoding="utf-8")
    single = tmp_path / "one.csv"
    single.write_text("t,y\n", encoding="utf-8")
    assert series_files([single, str(folder)]) == [single, folder / "a.csv", folder / "b.csv"]


def test_a_missing_path_or_a_folder_without_csv_is_named(tmp_path):
    with pytest.raises(DataError, match=r"nothing\.csv: no such file or directory"):
        series_files([tmp_path / "nothing.csv"])
    with pytest.raises(DataError, match="is a directory with no \\*.csv file to benchmark"):
        series_files([tmp_path])
