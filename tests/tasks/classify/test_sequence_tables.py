"""``SequenceClassifier.fit_sequences``: a long table's column names are kept and saved by the
API itself (issue 18: the command line used to set them on the fitted model from outside)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.long_sequences import read_sequences
from lstmkit.data.ts_format import write_ts
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.classify import SequenceClassifier

FIT = {"max_epochs": 1, "enable_progress_bar": False, "batch_size": 8, "seed": 0}
NAMES = {"series_col": "id", "time_col": "t", "label_col": "y", "columns": ["ax", "ay"]}


def _waves(n: int = 12, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    series, labels = [], []
    for k in range(n):
        up = k % 2 == 0
        t = np.linspace(0, 1, int(rng.integers(6, 10)))
        series.append(np.column_stack([t if up else -t, rng.standard_normal(len(t))]))
        labels.append("up" if up else "down")
    return series, labels


def _table(series, labels) -> pd.DataFrame:
    rows = [
        {"id": f"s{i}", "t": t, "y": label, "ax": step[0], "ay": step[1], "note": "x"}
        for i, (x, label) in enumerate(zip(series, labels, strict=True))
        for t, step in enumerate(x)
    ]
    return pd.DataFrame(rows)


def _model() -> SequenceClassifier:
    return SequenceClassifier(None, hidden_size=4, ensemble=1, conv_branch=False)


def test_a_long_table_keeps_its_column_names_through_save_and_load(tmp_path):
    table = _table(*_waves())
    clf = _model().fit_sequences(table, **NAMES, **FIT)
    assert clf.columns == NAMES
    clf.save(tmp_path / "m")
    state = json.loads((tmp_path / "m" / "state.json").read_text())
    assert state["columns"] == NAMES  # what `classify train --series-col ...` saved before
    assert SequenceClassifier.load(tmp_path / "m").columns == NAMES


def test_trains_the_same_network_as_fit_on_the_arrays():
    table = _table(*_waves())
    seqs = read_sequences(table, **NAMES)
    reference = _model().fit(seqs.series, seqs.labels, times=seqs.times, **FIT)
    assert reference.columns is None  # fit on arrays knows no column names
    clf = _model().fit_sequences(seqs, **FIT)  # already read: the names come with them
    assert clf.columns == NAMES
    np.testing.assert_array_equal(
        clf.predict_proba(seqs.series, times=seqs.times),
        reference.predict_proba(seqs.series, times=seqs.times),
    )


def test_a_ts_file_has_no_column_names(tmp_path):
    path = write_ts(tmp_path / "X_TRAIN.ts", *_waves())
    clf = _model()
    clf.columns = {"stale": "names"}  # a refit forgets what an earlier fit kept
    assert clf.fit_sequences(path, **FIT).columns is None


def test_bad_inputs_name_what_is_wrong(tmp_path):
    table = _table(*_waves())
    with pytest.raises(ConfigError, match="fit_sequences reads numeric sequences; texts go to"):
        SequenceClassifier("word").fit_sequences(table, **NAMES)
    seqs = read_sequences(table, **NAMES)
    with pytest.raises(ConfigError, match="series_col, columns name the columns of a table to"):
        _model().fit_sequences(seqs, series_col="id", columns=["ax"])
    unlabelled = {**NAMES, "label_col": None}
    with pytest.raises(DataError, match="the table: training needs labels, and it has none"):
        _model().fit_sequences(table, **unlabelled)
