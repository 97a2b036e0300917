"""Smoothing, thresholds, pruning, evaluation views, labels and the synthetic generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.synthetic_anomalies import KINDS, make_anomaly_series
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.anomaly import evaluate_detection, labels_to_rows, scoring


def test_ewma_matches_pandas_recursion():
    x = np.random.default_rng(0).standard_normal((50, 3))
    x[:3] = np.nan  # leading rows without a score stay NaN
    got = scoring.ewma(x, 5)
    want = pd.DataFrame(x).ewm(span=5, adjust=False).mean().to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert np.isnan(got[:3]).all()
    np.testing.assert_array_equal(scoring.ewma(x, 1), x)


def test_runs():
    assert scoring.runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)) == [(1, 2), (4, 4), (7, 7)]
    assert scoring.runs(np.zeros(4, bool)) == []


def test_hundman_epsilon_by_hand():
    # 20 ones and one 10: mean 1.4286, std 1.9166. Every z from 2.5 up to (10 - mean) / std
    # = 4.47 flags only the 10, and its removal drops mean and std by the same amounts, so the
    # first candidate (z = 2.5) wins.
    e = np.array([1.0] * 20 + [10.0])
    eps = scoring.hundman_epsilon(e)
    assert eps == pytest.approx(e.mean() + 2.5 * e.std())
    assert 1.0 < eps < 10.0
    assert scoring.hundman_epsilon(np.ones(10)) == float("inf")  # nothing to separate


def test_hundman_prefers_fewer_sequences():
    # Two candidate levels: z small flags 2 scattered points plus the block; z large only the
    # block of big values. The denominator (points + sequences^2) favours the block alone.
    e = np.full(200, 1.0)
    e[::7] = 1.5
    e[100:105] = 20.0
    e[50] = e[150] = 4.0
    eps = scoring.hundman_epsilon(e)
    flags = e > eps
    assert flags[100:105].all() and flags.sum() == 5


def test_prune_by_hand():
    e = np.zeros(30)
    e[2], e[10], e[20] = 10.0, 9.5, 5.0
    e[25] = 4.0  # largest nominal value
    flags = np.zeros(30, bool)
    flags[[2, 10, 20]] = True
    # maxima 10, 9.5, 5, then 4: decreases 0.05, 0.47, 0.2 -> the last strong drop (0.2 >= 0.13)
    # is after the third sequence, so all three stay.
    np.testing.assert_array_equal(scoring.prune(e, flags, 0.13), flags)
    # with p = 0.3 only the drop 0.47 counts: the first two sequences stay
    kept = scoring.prune(e, flags, 0.3)
    assert kept[2] and kept[10] and not kept[20]
    # with p = 0.5 no drop is large enough: everything is pruned
    assert not scoring.prune(e, flags, 0.5).any()


def test_threshold_windows():
    assert scoring.threshold_windows(25, 10) == [(0, 10), (10, 20), (20, 25)]
    assert scoring.threshold_windows(23, 10) == [(0, 10), (10, 23)]  # short remainder absorbed
    assert scoring.threshold_windows(5, 10) == [(0, 5)]


def test_dynamic_flags_find_a_clear_outlier():
    rng = np.random.default_rng(0)
    e = np.abs(rng.standard_normal(400)) * 0.1
    e[300:310] += 3.0
    flags, thresholds = scoring.dynamic_flags(e, window=200, p=0.13)
    assert flags[300:310].all() and flags.sum() == 10
    assert np.isfinite(thresholds[200:]).all()


def test_evaluation_views_by_hand():
    n = 100
    labelled = [(10, 19), (50, 59), (80, 80)]
    predicted = [(15, 16), (30, 31), (80, 81)]
    m = evaluate_detection(predicted, labelled, n)
    # point: flagged rows 15,16,30,31,80,81; true positives 15,16,80 -> P 3/6, R 3/21
    assert m.loc["point", "precision"] == pytest.approx(0.5)
    assert m.loc["point", "recall"] == pytest.approx(3 / 21)
    # event: 2 of 3 labelled intervals hit; 2 of 3 detected intervals overlap a label
    assert m.loc["event", "recall"] == pytest.approx(2 / 3)
    assert m.loc["event", "precision"] == pytest.approx(2 / 3)
    assert m.loc["event", "f1"] == pytest.approx(2 / 3)
    # point-adjusted: rows 10..19 and 80 all count; flagged 10..19,30,31,80,81 = 14 rows, tp 11
    assert m.loc["point_adjusted", "precision"] == pytest.approx(11 / 14)
    assert m.loc["point_adjusted", "recall"] == pytest.approx(11 / 21)
    empty = evaluate_detection([], labelled, n)
    assert (empty["f1"] == 0).all()


def test_labels_to_rows_integers_and_dates():
    assert labels_to_rows(pd.DataFrame({"start": [2, 7], "end": [4, 100]}), np.arange(10)) == [
        (2, 4),
        (7, 9),
    ]
    times = pd.date_range("2024-01-01", periods=10, freq="h")
    labels = pd.DataFrame({"start": ["2024-01-01 02:30"], "end": ["2024-01-01 05:00"]})
    assert labels_to_rows(labels, times) == [(3, 5)]
    with pytest.raises(
        DataError, match=r"labels need columns 'start' and 'end'.*missing \['end'\]"
    ):
        labels_to_rows(pd.DataFrame({"start": [1]}), np.arange(5))
    with pytest.raises(DataError, match="interval end 1.0 is before its start 3.0"):
        labels_to_rows(pd.DataFrame({"start": [3], "end": [1]}), np.arange(5))


def test_synthetic_series_is_seeded_and_labelled():
    a = make_anomaly_series(4000, seed=3)
    b = make_anomaly_series(4000, seed=3)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.labels, b.labels)
    assert set(a.labels["kind"]) == set(KINDS)
    assert (a.labels["start_row"] >= a.clean_rows).all()
    assert (a.labels["end_row"] < 4000).all()
    # intervals never overlap
    assert (a.labels["start_row"].to_numpy()[1:] > a.labels["end_row"].to_numpy()[:-1]).all()
    values = a.frame[a.columns].to_numpy()
    np.testing.assert_array_equal(values[: a.clean_rows], a.clean[: a.clean_rows])
    labelled = zip(a.labels["start_row"], a.labels["end_row"], a.labels["channel"], strict=True)
    for s, e, c in labelled:
        j = a.columns.index(c)
        assert not np.allclose(values[s : e + 1, j], a.clean[s : e + 1, j])
    dated = make_anomaly_series(1200, n_anomalies=3, start="2024-01-01", freq="min", seed=0)
    assert pd.api.types.is_datetime64_any_dtype(dated.frame["time"])
    assert isinstance(dated.labels["start"].iloc[0], pd.Timestamp)


def test_synthetic_series_errors():
    with pytest.raises(ConfigError, match="kinds must be a non-empty subset"):
        make_anomaly_series(1000, kinds=("spike", "wobble"))
    with pytest.raises(ConfigError, match="10 anomalies need about 1800 rows after the clean"):
        make_anomaly_series(1000, n_anomalies=10)
