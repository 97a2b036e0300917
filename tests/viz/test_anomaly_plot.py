"""plot_anomalies writes a PNG and names missing columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import DataError
from lstmkit.viz.anomaly import plot_anomalies


def _frames():
    t = np.arange(100)
    data = pd.DataFrame({"t": t, "a": np.sin(t / 5), "b": np.cos(t / 7)})
    scores = pd.DataFrame({"t": t, "score": np.abs(np.sin(t / 3)), "threshold": 0.9})
    intervals = pd.DataFrame({"start": [10, 60], "end": [15, 62]})
    return data, scores, intervals


def test_plot_writes_png(tmp_path):
    data, scores, intervals = _frames()
    labels = pd.DataFrame({"start": [11], "end": [14]})
    path = plot_anomalies(
        data, scores, intervals, tmp_path / "a.png", time_col="t", columns=["a", "b"], labels=labels
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, no leftovers


def test_plot_names_missing_columns(tmp_path):
    data, scores, intervals = _frames()
    with pytest.raises(DataError, match=r"scores frame lacks column\(s\) \['score'\]"):
        plot_anomalies(
            data,
            scores.drop(columns=["score"]),
            intervals,
            tmp_path / "a.png",
            time_col="t",
            columns=["a"],
        )
