import pandas as pd
import pytest

from lstmkit.data import dataset_path, list_datasets, load_elnino, load_us_macro, read_table
from lstmkit.errors import DataError


def test_dataset_paths_exist_with_sources_noted():
    for name in ("elnino_sst_monthly", "us_macro_quarterly"):
        path = dataset_path(name)
        assert path.is_file() and path.name == f"{name}.csv"
    assert dataset_path("elnino_sst_monthly.csv") == dataset_path("elnino_sst_monthly")
    sources = (dataset_path("elnino_sst_monthly").parent / "SOURCES.md").read_text()
    assert "BSD-3" in sources and "NOAA" in sources and "Bureau of Labor Statistics" in sources
    for name in ("air_passengers", "australia_residents"):
        assert dataset_path(name).is_file()
    assert "pmdarima" in sources and "Box & Jenkins" in sources
    assert set(list_datasets()) == {
        "air_passengers",
        "australia_residents",
        "heart_rate",
        "elnino_sst_monthly",
        "us_macro_quarterly",
        "char_text",
        "sentiment",
        "tagged_train",
        "tagged_dev",
        "tagged_test",
        "italy_power_train",
        "italy_power_test",
        "gun_point_train",
        "gun_point_test",
    }


def test_unknown_dataset_lists_known_names():
    with pytest.raises(
        DataError,
        match=r"unknown dataset 'airline'; the bundled datasets are "
        r"\['air_passengers', 'australia_residents', 'char_text', 'elnino_sst_monthly', "
        r"'gun_point_test', 'gun_point_train', 'heart_rate', 'italy_power_test', "
        r"'italy_power_train', 'sentiment', 'tagged_dev', 'tagged_test', "
        r"'tagged_train', 'us_macro_quarterly'\]",
    ):
        dataset_path("airline")


def test_load_elnino():
    df = load_elnino()
    assert list(df.columns) == ["date", "sst"] and len(df) == 732
    assert pd.api.types.is_datetime64_any_dtype(df["date"]) and df["sst"].dtype == "float64"
    assert df["date"].iloc[0] == pd.Timestamp("1950-01-01")
    assert 18 < df["sst"].min() < df["sst"].max() < 30


def test_load_us_macro():
    df = load_us_macro()
    assert list(df.columns) == ["date", "realgdp", "realcons", "realinv", "cpi", "unemp", "infl"]
    assert len(df) == 203 and pd.api.types.is_datetime64_any_dtype(df["date"])


def test_bundled_data_reads_cleanly():
    elnino = read_table(dataset_path("elnino_sst_monthly"), time_col="date", targets="sst")
    assert elnino.freq == "MS" and len(elnino.frame) == 732 and elnino.fill_report == {"sst": 0}
    macro = read_table(
        load_us_macro(),
        time_col="date",
        targets=["realgdp", "realcons"],
        past_covariates=["cpi", "unemp"],
    )
    assert macro.freq.startswith("QS") and len(macro.frame) == 203
    assert list(macro.frame.columns) == ["date", "realgdp", "realcons", "cpi", "unemp"]
