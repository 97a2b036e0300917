"""``score_csv_lines``: CSV text scored one row at a time, as ``lstmkit detect stream`` reads stdin
(issue 18: the parsing used to live in the CLI). The reference is the detector's own stream fed
the same rows as numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.anomaly import AnomalyDetector
from lstmkit.tasks.anomaly.csv_stream import BadRow, ScoredRow, score_csv_lines


@pytest.fixture(scope="module")
def detector() -> AnomalyDetector:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"time": range(120), "x0": rng.standard_normal(120), "x1": rng.standard_normal(120)}
    )
    return AnomalyDetector("zscore", window=8).fit(frame, time_col="time", columns=["x0", "x1"])


def _rows(n: int = 30) -> list[tuple[int, float, float]]:
    rng = np.random.default_rng(1)
    return [(100 + t, float(a), float(b)) for t, (a, b) in enumerate(rng.standard_normal((n, 2)))]


def _reference(detector, rows):
    stream = detector.stream()
    return [stream.update([a, b]) for _, a, b in rows]


def test_scores_equal_the_stream_fed_numbers(detector):
    rows = _rows()
    lines = ["x1,time,x0\n"] + [f"{b!r},{t},{a!r}\n" for t, a, b in rows]  # any column order
    scored = score_csv_lines(detector, lines)
    assert scored.time_col == "time"
    records = list(scored)
    assert all(isinstance(r, ScoredRow) for r in records)
    assert [r.row for r in records] == list(range(1, len(rows) + 1))
    assert [r.time for r in records] == [str(t) for t, _, _ in rows]
    want = _reference(detector, rows)
    np.testing.assert_array_equal([r.score for r in records], [s for s, _ in want])
    assert [r.is_anomaly for r in records] == [f for _, f in want]


def test_bad_rows_are_reported_and_leave_the_state_alone(detector):
    rows = _rows()
    good = [f"{t},{a!r},{b!r}".encode() for t, a, b in rows]
    garbage = [
        b"7,1.0",
        b"8,\xff\xfe1.0,2.0",
        b"9,1_000,2.0",
        b"10,nan,1.0",
        b",1.0,2.0",
        b"",
        b"11,1e999,1.0",
    ]
    lines = [b"\xef\xbb\xbftime,x0,x1", *good[:10], *garbage, *good[10:]]  # a BOM, then rows
    records = list(score_csv_lines(detector, [line + b"\n" for line in lines]))
    bad = [(r.row, r.problem) for r in records if isinstance(r, BadRow)]
    assert bad == [
        (11, "expected 3 fields, got 2"),
        (12, "not UTF-8 text (byte 0xff at byte 3)"),
        (13, "non-numeric value '1_000'"),
        (14, "non-numeric value 'nan'"),
        (15, "empty 'time' field"),
        (17, "missing or infinite value"),  # row 16 is blank: skipped, still counted
    ]
    scores = [r.score for r in records if isinstance(r, ScoredRow)]
    np.testing.assert_array_equal(scores, [s for s, _ in _reference(detector, rows)])


def test_without_a_time_column_rows_have_no_time(detector):
    records = list(score_csv_lines(detector, ["x0,x1", "1.0,2.0", "0.5,0.1"]))
    assert [(r.row, r.time) for r in records] == [(1, None), (2, None)]


def test_header_errors_name_the_problem(detector):
    with pytest.raises(DataError, match="^stdin is empty: expected a CSV header line naming"):
        score_csv_lines(detector, [], source="stdin")
    with pytest.raises(DataError, match="^the input is empty"):
        score_csv_lines(detector, iter(()))
    with pytest.raises(DataError, match="^the header line is not UTF-8 text"):
        score_csv_lines(detector, [b"time,\xff\n"])
    with pytest.raises(
        DataError, match=r"the header line lacks the model's column\(s\) \['x1'\]; it has"
    ):
        score_csv_lines(detector, ["time,x0\n", "1,2\n"])


def test_a_detector_that_cannot_stream_is_refused_first():
    frame = pd.DataFrame({"time": range(80), "x0": np.sin(np.arange(80) / 5)})
    recon = AnomalyDetector("reconstruction", window=8, hidden_size=4)
    recon.fit(frame, time_col="time", columns=["x0"], max_epochs=1, enable_progress_bar=False)
    with pytest.raises(ConfigError, match="streaming is supported for method='prediction'"):
        score_csv_lines(recon, [])  # before the (empty) input is read
