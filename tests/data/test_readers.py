import importlib.util

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import SeriesTable, dataset_path, read_table
from lstmkit.errors import ConfigError, DataError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def monthly(n=12, start="2020-01-01", **columns):
    frame = pd.DataFrame({"date": pd.date_range(start, periods=n, freq="MS")})
    frame["y"] = np.arange(n, dtype=float)
    for name, values in columns.items():
        frame[name] = values
    return frame


# -- reading files ------------------------------------------------------------------------------


def test_csv_round_trip(tmp_path):
    frame = monthly(x=np.linspace(0, 1, 12), z=np.arange(12) % 3)
    path = tmp_path / "m.csv"
    frame.to_csv(path, index=False)
    table = read_table(
        path, time_col="date", targets="y", past_covariates=["x"], future_covariates=["z"]
    )
    assert isinstance(table, SeriesTable)
    assert list(table.frame.columns) == ["date", "y", "x", "z"]
    assert (
        table.targets == ["y"]
        and table.past_covariates == ["x"]
        and table.future_covariates == ["z"]
    )
    assert table.value_columns == ["y", "x", "z"]
    assert table.freq == "MS" and table.id_col is None
    assert table.fill_report == {"y": 0, "x": 0, "z": 0} and table.inserted_rows == 0
    assert pd.api.types.is_datetime64_any_dtype(table.frame["date"])
    assert all(table.frame[c].dtype == np.float64 for c in ("y", "x", "z"))
    pd.testing.assert_frame_equal(
        table.frame[["y", "x", "z"]], frame[["y", "x", "z"]].astype(float), check_exact=False
    )
    assert (table.frame["date"] == frame["date"]).all()
    [(key, one)] = table.series()
    assert key is None and len(one) == 12


@pytest.mark.parametrize(
    "name,sep", [("semi.csv", ";"), ("tabs.tsv", "\t"), ("tabs.txt", "\t"), ("comma.txt", ",")]
)
def test_delimiters_are_sniffed(tmp_path, name, sep):
    text = (
        sep.join(["date", "y", "x"])
        + "\n"
        + "".join(sep.join([f"2021-0{m}-01", str(m), str(m * 2)]) + "\n" for m in range(1, 6))
    )
    table = read_table(
        write(tmp_path, text, name), time_col="date", targets="y", past_covariates=["x"]
    )
    assert table.frame["x"].tolist() == [2.0, 4.0, 6.0, 8.0, 10.0]


def test_explicit_delimiter(tmp_path):
    text = "date|y\n2021-01-01|1\n2021-01-02|2\n2021-01-03|3\n"
    table = read_table(write(tmp_path, text), time_col="date", targets="y", delimiter="|")
    assert table.freq == "D" and table.frame["y"].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_round_trip(tmp_path, suffix):
    pytest.importorskip("pyarrow")
    frame = monthly(x=np.linspace(0, 1, 12))
    path = tmp_path / f"m{suffix}"
    frame.to_parquet(path, index=False)
    table = read_table(path, time_col="date", targets=["y"], past_covariates=["x"])
    assert table.freq == "MS" and table.frame["y"].tolist() == frame["y"].tolist()
    assert np.allclose(table.frame["x"], frame["x"])


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, monkeypatch):
    path = write(tmp_path, "not really parquet", "m.parquet")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pyarrow" else real_find_spec(name, *a),
    )
    with pytest.raises(
        DataError, match=r"needs pyarrow, which is not installed: pip install 'lstmkit\[parquet\]'"
    ):
        read_table(path, time_col="date", targets="y")


def test_dataframe_source_with_time_index():
    frame = monthly().set_index("date")
    table = read_table(frame, time_col="date", targets="y")
    assert len(table.frame) == 12 and table.freq == "MS"
    shuffled = monthly().iloc[::-1]
    before = shuffled.copy()
    read_table(shuffled, time_col="date", targets="y")
    pd.testing.assert_frame_equal(shuffled, before)  # the caller's DataFrame is left alone


def test_rows_are_sorted_by_time(tmp_path):
    frame = monthly(24).sample(frac=1.0, random_state=0)
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    table = read_table(path, time_col="date", targets="y")
    assert table.frame["date"].is_monotonic_increasing
    assert table.frame["y"].tolist() == list(map(float, range(24)))
    assert table.frame.index.tolist() == list(range(24))


def test_freq_inference_on_bundled_elnino():
    table = read_table(dataset_path("elnino_sst_monthly"), time_col="date", targets="sst")
    assert table.freq == "MS"


def test_given_freq_is_checked_and_used():
    table = read_table(monthly(), time_col="date", targets="y", freq="MS")
    assert table.freq == "MS"
    with pytest.raises(DataError, match=r"freq='fortnightly' is not a pandas offset alias"):
        read_table(monthly(), time_col="date", targets="y", freq="fortnightly")
    with pytest.raises(DataError, match=r"is not on the freq 'W-SUN' grid"):
        read_table(monthly(), time_col="date", targets="y", freq="W")


def test_integer_time_column_is_a_step_index():
    frame = pd.DataFrame({"t": [3, 1, 2, 5, 4], "y": [3.0, 1.0, 2.0, 5.0, 4.0]})
    table = read_table(frame, time_col="t", targets="y")
    assert table.freq is None and table.frame["t"].tolist() == [1, 2, 3, 4, 5]
    gappy = pd.DataFrame({"year": [1950, 1951, 1953], "y": [1.0, 2.0, 4.0]})
    filled = read_table(gappy, time_col="year", targets="y", missing="interpolate")
    assert filled.frame["year"].tolist() == [1950, 1951, 1952, 1953]
    assert filled.frame["y"].tolist() == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(
        DataError, match=r"gap in the time index \(step 1\): 1952 is missing after 1951"
    ):
        read_table(gappy, time_col="year", targets="y")


# -- duplicates, gaps, missing values ------------------------------------------------------------


def test_duplicated_timestamp_names_first_duplicate_and_rows(tmp_path):
    text = "date,y\n2020-01-01,1\n2020-03-01,3\n2020-02-01,2\n2020-03-01,4\n2020-04-01,5\n"
    with pytest.raises(
        DataError,
        match=r"duplicated timestamp 2020-03-01 00:00:00 at data rows 2, 4 "
        r"\(1-based, header not counted\)",
    ):
        read_table(write(tmp_path, text), time_col="date", targets="y")


def test_gap_is_an_error_by_default():
    frame = monthly(12).drop(index=[4, 5])
    with pytest.raises(
        DataError,
        match=r"gap in the time index \(freq 'MS'\): 2020-05-01 00:00:00 is "
        r"missing after 2020-04-01 00:00:00; 2 timestamp\(s\) missing in all; "
        r"pass missing='interpolate'",
    ):
        read_table(frame, time_col="date", targets="y", freq="MS")


def test_cannot_infer_freq_suggests_freq():
    frame = monthly(12).drop(index=[4, 5])  # irregular: pandas cannot infer
    with pytest.raises(
        DataError, match=r"cannot infer the frequency of time column 'date'.*pass freq="
    ):
        read_table(frame, time_col="date", targets="y")


def test_gaps_filled_by_interpolation_with_report():
    frame = monthly(12).drop(index=[4, 5])
    frame["x"] = frame["y"] * 10
    table = read_table(
        frame, time_col="date", targets="y", past_covariates=["x"], freq="MS", missing="interpolate"
    )
    assert len(table.frame) == 12 and table.inserted_rows == 2
    assert table.frame["date"].tolist() == list(pd.date_range("2020-01-01", periods=12, freq="MS"))
    assert table.fill_report == {"y": 2, "x": 2}
    # linear in time: May has 30 days and June 31, so the values are not exactly 4 and 5
    days = (table.frame["date"] - table.frame["date"][0]).dt.days.to_numpy()
    expected = 3 + 3 * (days[4:6] - days[3]) / (days[6] - days[3])
    np.testing.assert_allclose(table.frame["y"][4:6], expected)
    assert not table.frame.isna().any().any()


def test_gaps_filled_forward():
    frame = monthly(12).drop(index=[4, 5])
    table = read_table(frame, time_col="date", targets="y", freq="MS", missing="ffill")
    assert table.frame["y"].tolist()[3:7] == [3.0, 3.0, 3.0, 6.0]
    assert table.fill_report == {"y": 2}


def test_missing_value_error_names_column_row_and_timestamp(tmp_path):
    text = "date,y,x\n2020-01-01,1,1\n2020-02-01,2,\n2020-03-01,,3\n2020-04-01,4,4\n"
    with pytest.raises(
        DataError,
        match=r"column 'x' has a missing value at data row 2 \(1-based, header "
        r"not counted\), date=2020-02-01 00:00:00 \(2 missing value\(s\) in "
        r"all\); pass missing='interpolate' or missing='ffill'",
    ):
        read_table(write(tmp_path, text), time_col="date", targets="y", past_covariates=["x"])


def test_interpolate_fills_inside_and_backfills_leading_values():
    frame = monthly(8)
    frame["y"] = [np.nan, np.nan, 2.0, np.nan, 4.0, 5.0, 6.0, np.nan]
    table = read_table(frame, time_col="date", targets="y", missing="interpolate")
    y = table.frame["y"].to_numpy()
    assert y[0] == y[1] == 2.0  # leading: back-filled
    assert 2.0 < y[3] < 4.0  # inside: linear in time
    assert y[7] == 6.0  # trailing: carried forward
    assert table.fill_report == {"y": 4}
    assert any("2 leading value(s) back-filled" in note for note in table.fill_notes)
    assert any("1 trailing value(s) carried forward" in note for note in table.fill_notes)


def test_ffill_fills_and_rejects_leading_missing_values():
    frame = monthly(5)
    frame["y"] = [1.0, np.nan, np.nan, 4.0, np.nan]
    table = read_table(frame, time_col="date", targets="y", missing="ffill")
    assert table.frame["y"].tolist() == [1.0, 1.0, 1.0, 4.0, 4.0]
    assert table.fill_report == {"y": 3}
    frame["y"] = [np.nan, 1.0, 2.0, 3.0, 4.0]
    with pytest.raises(
        DataError,
        match=r"column 'y' starts with a missing value at data row 1 \(1-based, "
        r"header not counted\), date=2020-01-01 00:00:00: missing='ffill' has "
        r"nothing to carry forward",
    ):
        read_table(frame, time_col="date", targets="y", missing="ffill")


def test_all_missing_column_cannot_be_filled():
    frame = monthly(5)
    frame["y"] = np.nan
    with pytest.raises(DataError, match="column 'y' has no values at all"):
        read_table(frame, time_col="date", targets="y", missing="interpolate")


# -- many series ---------------------------------------------------------------------------------


def test_many_series_with_an_id_column(tmp_path):
    a = monthly(6).assign(store="a")
    b = monthly(4, start="2021-01-01").assign(store="b", y=lambda f: f["y"] + 100)
    frame = pd.concat([b, a]).sample(frac=1.0, random_state=1)
    path = tmp_path / "stores.csv"
    frame.to_csv(path, index=False)
    table = read_table(path, time_col="date", targets="y", id_col="store")
    assert list(table.frame.columns) == ["store", "date", "y"]
    assert table.frame["store"].tolist() == ["a"] * 6 + ["b"] * 4
    assert table.n_series == 2 and table.freq == "MS"
    parts = table.series()
    assert [key for key, _ in parts] == ["a", "b"]
    assert parts[0][1]["y"].tolist() == list(map(float, range(6)))
    assert parts[1][1]["y"].tolist() == [100.0, 101.0, 102.0, 103.0]
    assert all(part["date"].is_monotonic_increasing for _, part in parts)
    assert parts[1][1].index.tolist() == [0, 1, 2, 3]


def test_same_timestamp_in_two_series_is_fine_but_not_twice_in_one():
    a = monthly(4).assign(id=1)
    b = monthly(4).assign(id=2)
    assert len(read_table(pd.concat([a, b]), time_col="date", targets="y", id_col="id").frame) == 8
    c = pd.concat([a, b, b.iloc[[2]]], ignore_index=True)
    with pytest.raises(
        DataError,
        match=r"duplicated timestamp 2020-03-01 00:00:00 in series 2 at data "
        r"rows 7, 9 .*once per series",
    ):
        read_table(c, time_col="date", targets="y", id_col="id")


def test_gaps_per_series_are_filled_per_series():
    a = monthly(6).assign(id="a").drop(index=[2])
    b = monthly(5).assign(id="b")
    table = read_table(
        pd.concat([a, b]), time_col="date", targets="y", id_col="id", missing="interpolate"
    )
    assert table.inserted_rows == 1 and table.fill_report == {"y": 1}
    assert table.frame["id"].tolist() == ["a"] * 6 + ["b"] * 5
    assert table.series()[0][1]["y"][2] == pytest.approx(2.0, abs=0.05)
    with pytest.raises(DataError, match=r"gap in the time index in series 'a'"):
        read_table(pd.concat([a, b]), time_col="date", targets="y", id_col="id")


def test_series_with_different_frequencies_are_an_error():
    a = monthly(5).assign(id="a")
    b = pd.DataFrame(
        {"date": pd.date_range("2020-01-01", periods=5, freq="D"), "y": 1.0, "id": "b"}
    )
    with pytest.raises(
        DataError, match=r"different frequencies: 'MS' \(series 'a'\), 'D' \(series 'b'\)"
    ):
        read_table(pd.concat([a, b]), time_col="date", targets="y", id_col="id")


# -- every bad input has its own message -------------------------------------------------------


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=rf"file not found: {path}"):
        read_table(path, time_col="date", targets="y")


def test_unreadable_files_say_what_failed(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b'date,y\n2020-01-01,"unterminated\n')
    with pytest.raises(
        DataError, match=rf"could not read {bad} as CSV \(delimiter ','\): ParserError"
    ):
        read_table(bad, time_col="date", targets="y")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x00date,y\n\x00\x9f")
    with pytest.raises(DataError, match=rf"(could not read {binary} as CSV|not found)"):
        read_table(binary, time_col="date", targets="y")
    if importlib.util.find_spec("pyarrow") is not None:
        fake = write(tmp_path, "date,y\n", "fake.parquet")
        with pytest.raises(DataError, match=rf"could not read {fake} as Parquet"):
            read_table(fake, time_col="date", targets="y")
    with pytest.raises(DataError, match=r"cannot tell the format of .*'\.xlsx'"):
        read_table(write(tmp_path, "x", "sheet.xlsx"), time_col="date", targets="y")
    with pytest.raises(DataError, match="not a file"):
        read_table(tmp_path, time_col="date", targets="y")
    with pytest.raises(
        DataError, match="source must be a file path or a pandas DataFrame, got list"
    ):
        read_table([1, 2], time_col="date", targets="y")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            {"time_col": "when", "targets": "y"},
            r"time column 'when' not found; the columns present are \['date', 'y', 'x'\]",
        ),
        (
            {"time_col": "date", "targets": ["y", "q"]},
            r"target column 'q' not found; the columns present are \['date', 'y', 'x'\]",
        ),
        (
            {"time_col": "date", "targets": "y", "past_covariates": ["p1", "p2"]},
            r"past covariate columns 'p1', 'p2' not found",
        ),
        (
            {"time_col": "date", "targets": "y", "future_covariates": ["f"]},
            r"future covariate column 'f' not found; the columns present",
        ),
        (
            {"time_col": "date", "targets": "y", "id_col": "store"},
            r"id column 'store' not found; the columns present",
        ),
    ],
)
def test_absent_columns_list_the_columns_present(tmp_path, kwargs, message):
    path = write(tmp_path, "date,y,x\n2020-01-01,1,2\n2020-02-01,2,3\n2020-03-01,3,4\n")
    with pytest.raises(DataError, match=message):
        read_table(path, **kwargs)


def test_non_numeric_value_names_column_row_and_value(tmp_path):
    text = "date,y,x\n2020-01-01,1,2\n2020-02-01,2,oops\n2020-03-01,3,n/a?\n"
    with pytest.raises(
        DataError,
        match=r"column 'x' must be numeric, but has 'oops' at data row 2 \(1-based, "
        r"header not counted\); 2 non-numeric value\(s\) in all",
    ):
        read_table(write(tmp_path, text), time_col="date", targets="y", past_covariates=["x"])
    text = "date;y\n2020-01-01;1,5\n2020-02-01;2,5\n2020-03-01;3,5\n"
    with pytest.raises(DataError, match=r"'1,5' at data row 1 .*decimal comma"):
        read_table(write(tmp_path, text, "eu.csv"), time_col="date", targets="y")
    frame = monthly(3)
    frame["y"] = [1.0, np.inf, 2.0]
    with pytest.raises(DataError, match=r"column 'y' has a non-finite value inf at data row 2"):
        read_table(frame, time_col="date", targets="y")


def test_empty_table(tmp_path):
    with pytest.raises(DataError, match=r"has no data rows \(columns: \['date', 'y'\]\)"):
        read_table(write(tmp_path, "date,y\n"), time_col="date", targets="y")
    with pytest.raises(DataError, match="is empty: no header and no rows"):
        read_table(write(tmp_path, "", "blank.csv"), time_col="date", targets="y")
    with pytest.raises(DataError, match="the DataFrame has no data rows"):
        read_table(pd.DataFrame({"date": [], "y": []}), time_col="date", targets="y")


def test_unparseable_timestamp_names_first_bad_value(tmp_path):
    text = "date,y\n2020-01-01,1\n2020-02-01,2\nsoon,3\nlater,4\n"
    with pytest.raises(
        DataError,
        match=r"time column 'date': cannot parse 'soon' as a timestamp \(at data "
        r"row 3 \(1-based, header not counted\)\); 2 value\(s\)",
    ):
        read_table(write(tmp_path, text), time_col="date", targets="y")
    text = "date,y\n2020-01-01,1\n,2\n2020-03-01,3\n"
    with pytest.raises(DataError, match=r"time column 'date' has an empty value at data row 2"):
        read_table(write(tmp_path, text, "blank_time.csv"), time_col="date", targets="y")


def test_unknown_missing_policy():
    with pytest.raises(
        DataError,
        match=r"unknown missing-value policy 'drop'; expected one of "
        r"\['error', 'interpolate', 'ffill'\]",
    ):
        read_table(monthly(), time_col="date", targets="y", missing="drop")


def test_role_conflicts_and_empty_targets():
    frame = monthly(x=1.0)
    with pytest.raises(
        DataError, match=r"column 'y' is given twice: in past_covariates and in targets"
    ):
        read_table(frame, time_col="date", targets="y", past_covariates=["y"])
    with pytest.raises(
        DataError, match=r"column 'date' is given twice: in targets and in time_col"
    ):
        read_table(frame, time_col="date", targets="date")
    with pytest.raises(DataError, match="targets must name at least one column"):
        read_table(frame, time_col="date", targets=[])


def test_empty_id_value():
    frame = monthly(4).assign(id=["a", None, "a", "a"])
    with pytest.raises(DataError, match=r"id column 'id' has an empty value at data row 2"):
        read_table(frame, time_col="date", targets="y", id_col="id")


def test_timezone_aware_timestamps_are_kept():
    frame = pd.DataFrame(
        {"ts": pd.date_range("2024-03-30", periods=6, freq="h", tz="Europe/Berlin"), "y": 1.0}
    )
    table = read_table(frame.iloc[::-1], time_col="ts", targets="y")
    assert table.freq == "h" and str(table.frame["ts"].dt.tz) == "Europe/Berlin"
    assert table.frame["ts"].is_monotonic_increasing


def test_repeated_column_and_mixed_id_types():
    frame = pd.DataFrame([[pd.Timestamp("2020-01-01"), 1.0, 2.0]], columns=["date", "y", "y"])
    with pytest.raises(DataError, match="column 'y' appears more than once"):
        read_table(frame, time_col="date", targets="y")
    mixed = pd.concat([monthly(3).assign(id="a"), monthly(3).assign(id=1)])
    table = read_table(mixed, time_col="date", targets="y", id_col="id")  # pandas can sort these
    assert sorted(map(str, (key for key, _ in table.series()))) == ["1", "a"]


def test_integer_dates_get_a_hint():
    frame = pd.DataFrame({"day": [20200130, 20200131, 20200201], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="if they are dates such as 20200131, convert them"):
        read_table(frame, time_col="day", targets="y")


def test_bundled_names_are_read_wherever_a_table_path_is():
    from lstmkit.data.fileio import read_file

    frame = read_file("bundled:air_passengers")
    assert list(frame.columns) == ["date", "passengers"] and len(frame) == 144
    with pytest.raises(ConfigError, match="unknown bundled dataset 'nope' in 'bundled:nope'"):
        read_file("bundled:nope")
