import csv
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from lstmkit.data import (
    dataset_path,
    list_datasets,
    load_char_text,
    load_sentiment,
    resolve_data_path,
)
from lstmkit.data.datasets import FILES_DIR
from lstmkit.errors import ConfigError, DataError

KNOWN = (
    "['air_passengers', 'australia_residents', 'char_text', 'elnino_sst_monthly', "
    "'gun_point_test', 'gun_point_train', 'heart_rate', 'italy_power_test', "
    "'italy_power_train', 'sentiment', 'tagged_dev', 'tagged_test', 'tagged_train', "
    "'us_macro_quarterly']"
)


def test_text_corpora_are_registered_with_files():
    names = list_datasets()
    assert {"char_text", "sentiment"} <= set(names)
    assert dataset_path("char_text") == FILES_DIR / "pride_and_prejudice.txt"
    assert dataset_path("sentiment") == FILES_DIR / "sentiment_movie_snippets.csv"
    assert dataset_path("sentiment.csv") == dataset_path("sentiment")
    # only CSV files take the .csv suffix
    with pytest.raises(DataError, match=r"unknown dataset 'char_text\.csv'"):
        dataset_path("char_text.csv")


def test_sources_record_origin_licence_and_transformation():
    sources = (FILES_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for needle in (
        "pride_and_prejudice.txt",
        "r-cran-janeaustenr",
        "public domain",
        "sentiment_movie_snippets.csv",
        "vaderSentiment` 3.3.2",
        "MIT",
        "Pang & Lee",
        "default_rng(0)",
    ):
        assert needle in sources, needle


def test_bundled_files_are_utf8_and_small():
    total = 0
    for name in ("char_text", "sentiment"):
        data = dataset_path(name).read_bytes()
        data.decode("utf-8")  # raises if not UTF-8
        assert b"\r" not in data and data.endswith(b"\n")
        total += len(data)
    assert total < 2_500_000


def test_char_text_is_the_whole_novel():
    text = load_char_text()
    assert len(text) == 684_768 and text.count("\n") == 13_030
    assert text.startswith("PRIDE AND PREJUDICE\n\nBy Jane Austen\n")
    assert "It is a truth universally acknowledged, that a single man in possession\n" in text
    assert text.rstrip().endswith("had been the means of uniting them.")
    assert len(re.findall(r"^Chapter \d+$", text, flags=re.M)) == 61
    # a fixed file: a change must come with an updated SOURCES.md
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert digest == "dfc684d4f857fa938268f9ab9c5567b64bd0691251eca959644adeabe6287a4d"


def test_sentiment_table_columns_labels_and_splits():
    frame = load_sentiment()
    assert list(frame.columns) == ["text", "label", "split"] and len(frame) == 10_070
    assert all(isinstance(v, str) for v in frame["text"])
    assert (frame["text"].str.strip() == frame["text"]).all() and frame["text"].str.len().min() > 0
    assert frame["text"].is_unique
    counts = frame.groupby(["split", "label"]).size().to_dict()
    assert counts == {
        ("train", "negative"): 4060,
        ("train", "positive"): 3996,
        ("val", "negative"): 508,
        ("val", "positive"): 500,
        ("test", "negative"): 507,
        ("test", "positive"): 499,
    }
    # splits are disjoint by text
    by_split = {s: set(g["text"]) for s, g in frame.groupby("split")}
    assert not (by_split["train"] & by_split["val"]) and not (by_split["train"] & by_split["test"])


def test_sentiment_file_is_plain_csv():
    with open(dataset_path("sentiment"), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["text", "label", "split"]
    assert all(len(r) == 3 for r in rows) and len(rows) == 10_071
    assert rows[1][1:] == ["positive", "train"] and rows[1][0].startswith("The Rock is destined")
    # the same through pandas' default reader: no text read as a missing value
    assert pd.read_csv(dataset_path("sentiment")).notna().all().all()


def test_resolve_data_path_bundled_and_plain():
    assert resolve_data_path("bundled:char_text") == dataset_path("char_text")
    assert resolve_data_path("bundled:sentiment") == dataset_path("sentiment")
    assert resolve_data_path("bundled:elnino_sst_monthly") == dataset_path("elnino_sst_monthly")
    # anything else is a path, not checked for existence
    assert resolve_data_path("no/such/file.csv") == Path("no/such/file.csv")
    assert resolve_data_path(Path("x.tsv")) == Path("x.tsv")
    assert resolve_data_path("bundledfoo") == Path("bundledfoo")


@pytest.mark.parametrize("arg", ["bundled:tagged", "bundled:", "bundled:Sentiment"])
def test_resolve_data_path_unknown_name_lists_known(arg):
    name = arg[len("bundled:") :]
    message = (
        f"unknown bundled dataset {name!r} in {arg!r}; expected bundled:NAME with NAME one of "
        f"{KNOWN}"
    )
    with pytest.raises(ConfigError) as info:
        resolve_data_path(arg)
    assert str(info.value) == message
