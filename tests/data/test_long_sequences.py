"""Long-format tables (one row per time step) read into labelled sequences, and their errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.long_sequences import read_long, read_sequences
from lstmkit.data.ts_format import write_ts
from lstmkit.errors import ConfigError, DataError


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["s2", "s1", "s1", "s2", "s1", "s3"],
            "t": [1, 2, 0, 0, 1, 5],
            "label": ["run", "walk", "walk", "run", "walk", "walk"],
            "ax": [2.0, 0.3, 0.1, 1.0, 0.2, 9.0],
            "ay": [20.0, 3.0, 1.0, 10.0, None, 90.0],
        }
    )


def test_orders_by_time_and_keeps_first_seen_order(tmp_path):
    path = tmp_path / "long.csv"
    table().to_csv(path, index=False)
    seqs = read_long(path, series_col="id", time_col="t", label_col="label")
    assert seqs.ids == ["s2", "s1", "s3"] and seqs.labels == ["run", "walk", "walk"]
    assert seqs.columns == ["ax", "ay"]
    np.testing.assert_array_equal(seqs.series[0], [[1.0, 10.0], [2.0, 20.0]])
    assert seqs.series[1][:, 0].tolist() == [0.1, 0.2, 0.3] and np.isnan(seqs.series[1][1, 1])
    assert seqs.series[2].shape == (1, 2)


def test_parquet_and_named_columns(tmp_path):
    path = tmp_path / "long.parquet"
    table().to_parquet(path)
    seqs = read_sequences(path, series_col="id", time_col="t", columns=["ay"])
    assert seqs.labels is None and seqs.columns == ["ay"] and seqs.series[0].shape == (2, 1)


def test_dates_as_time():
    frame = pd.DataFrame(
        {"id": [1, 1], "t": ["2024-01-02", "2024-01-01"], "y": [2.0, 1.0], "label": ["a", "a"]}
    )
    seqs = read_long(frame, series_col="id", time_col="t", label_col="label")
    assert seqs.series[0][:, 0].tolist() == [1.0, 2.0]


def test_ts_through_read_sequences(tmp_path):
    path = write_ts(tmp_path / "x.ts", [np.ones(3), np.zeros(4)], ["a", "b"])
    seqs = read_sequences(path)
    assert seqs.labels == ["a", "b"] and seqs.ids == ["0", "1"]
    with pytest.raises(ConfigError, match="time_col apply to tables"):
        read_sequences(path, time_col="t")


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "message"),
    [
        (lambda f: f.assign(label=["run", "walk", "jog", "run", "walk", "walk"]), {},
         DataError, r"series 's1' changes label midway \('jog' then 'walk'"),
        (lambda f: f.assign(t=[1, 2, 0, 1, 1, 5]), {},
         DataError, r"series 's2' has two rows at time 1"),
        (lambda f: f.assign(ax=[2.0, 0.3, 0.1, 1.0, 0.2, "high"]), {},
         DataError, r"column 'ax', data row 6 \(series 's3'\) holds 'high'"),
        (lambda f: f.assign(ax=[2.0, 0.3, 0.1, 1.0, 0.2, None], ay=[1.0] * 5 + [None]), {},
         DataError, r"series 's3' is empty"),
        (lambda f: f.assign(label=["run", "walk", None, "run", "walk", "walk"]), {},
         DataError, r"series 's1' has no label at data row 3"),
        (lambda f: f, {"columns": ["gyro"]}, DataError, r"column\(s\) \['gyro'\] not found"),
        (lambda f: f, {"columns": ["ax", "label"]}, ConfigError, "both features and"),
        (lambda f: f.drop(columns="t"), {}, DataError, "time column 't' not found"),
    ],
)  # fmt: skip
def test_bad_tables(change, kwargs, error, message):
    with pytest.raises(error, match=message):
        read_long(change(table()), series_col="id", time_col="t", label_col="label", **kwargs)


def test_a_table_needs_series_col(tmp_path):
    path = tmp_path / "long.csv"
    table().to_csv(path, index=False)
    with pytest.raises(ConfigError, match="needs series_col"):
        read_sequences(path)


def test_the_time_column_gives_each_series_its_time_stamps():
    frame = pd.DataFrame(
        {
            "id": ["a", "a", "a", "b", "b"],
            "t": [3.0, 0.0, 1.5, 0.0, 2.0],
            "v": [3.0, 1.0, None, 4.0, 5.0],
        }
    )
    seqs = read_long(frame, series_col="id", time_col="t")
    assert [s.tolist() for s in seqs.times] == [[0.0, 1.5, 3.0], [0.0, 2.0]]
    frame["t"] = ["2024-01-01 00:10", "2024-01-01 00:00", "2024-01-01 00:05"] + [
        "2024-01-02 00:00",
        "2024-01-02 01:00",
    ]
    seqs = read_long(frame, series_col="id", time_col="t")
    assert np.diff(seqs.times[0]).tolist() == [300.0, 300.0]  # dates as seconds
    assert np.diff(seqs.times[1]).tolist() == [3600.0]
    assert read_long(frame, series_col="id", columns=["v"]).times is None
