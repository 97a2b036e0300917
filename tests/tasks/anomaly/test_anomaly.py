"""AnomalyDetector: batch vs stream scores, thresholds, save/load, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data.synthetic_anomalies import make_anomaly_series
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.anomaly import AnomalyDetector
from lstmkit.tasks.anomaly.net import NextStepNet

FAST = {"max_epochs": 2, "enable_progress_bar": False, "seed": 0}


@pytest.fixture(scope="module")
def series():
    kinds = ("spike", "level_shift", "noise_burst")
    return make_anomaly_series(800, channels=2, n_anomalies=3, kinds=kinds, gap=30, seed=1)


def _fit(series, method="prediction", **options):
    det = AnomalyDetector(method, window=16, hidden_size=8, **options)
    train = series.frame.iloc[: series.clean_rows]
    return det.fit(train, time_col="time", columns=series.columns, **FAST)


@pytest.fixture(scope="module")
def predictor(series):
    torch.set_num_threads(1)
    return _fit(series)


def _stream_all(det, values):
    stream = det.stream()
    out = [stream.update(row) for row in values]
    return np.array([s for s, _ in out]), np.array([f for _, f in out])


def test_step_equals_layer_in_float64():
    torch.manual_seed(0)
    net = NextStepNet(3, 5, 2, 0.0).double().eval()
    x = torch.randn(1, 40, 3, dtype=torch.float64)
    with torch.no_grad():
        batch, _ = net(x)
        h = [torch.zeros(1, 5, dtype=torch.float64) for _ in range(2)]
        c = [torch.zeros(1, 5, dtype=torch.float64) for _ in range(2)]
        w = net.step_weights()
        steps = [net.step(x[:, t], h, c, w, net.head.weight, net.head.bias) for t in range(40)]
    torch.testing.assert_close(torch.cat(steps), batch[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("hysteresis", [1.0, 0.7])
def test_stream_scores_flags_and_alarms_equal_batch(series, hysteresis):
    # quantile 0.99: a threshold that is not itself one of the scores (1.0 would be their maximum)
    det = _fit(series, threshold="quantile", quantile=0.99, suppress=40, hysteresis=hysteresis)
    result = det.detect(series.frame)
    values = series.frame[series.columns].to_numpy()
    stream = det.stream()
    out = [(*stream.update(row), stream.alarm) for row in values]
    scores, flags, alarms = (np.array(col) for col in zip(*out, strict=True))
    assert math.isnan(scores[0])  # row 0 has no prediction
    np.testing.assert_allclose(scores, result.scores["score"], rtol=1e-5, atol=1e-6)
    # away from float rounding at the thresholds, the flags and alarms agree too
    got = result.scores["score"].to_numpy()
    levels = (det.threshold_, hysteresis * det.threshold_)
    near = np.min([np.abs(got - level) for level in levels], axis=0) < 1e-5
    assert not near.any()
    np.testing.assert_array_equal(flags, result.scores["is_anomaly"])
    np.testing.assert_array_equal(alarms, result.scores["alarm"])
    assert alarms.sum() >= 2 and flags.sum() > alarms.sum()
    # one alarm per interval, at its first row
    batch_alarms = np.flatnonzero(result.scores["alarm"]).tolist()
    assert batch_alarms == result.intervals["start_row"].tolist()


def test_stream_with_dynamic_threshold_uses_the_fixed_one(series):
    det = _fit(series, threshold="dynamic")
    result = det.detect(series.frame)
    values = series.frame[series.columns].to_numpy()
    scores, flags = _stream_all(det, values)
    np.testing.assert_allclose(scores, result.scores["score"], rtol=1e-5, atol=1e-6)
    # stream flags: the fixed threshold fitted in training; batch: one per threshold window
    want = np.nan_to_num(scores, nan=-np.inf) > det.threshold_
    want[: det.warmup_rows] = False
    assert det.warmup_rows == 4
    np.testing.assert_array_equal(flags, want)
    assert not np.allclose(result.scores["threshold"], det.threshold_)


def test_zscore_stream_equals_batch(series):
    det = _fit(series, "zscore")
    assert det.net is None
    result = det.detect(series.frame)
    scores, _ = _stream_all(det, series.frame[series.columns].to_numpy())
    assert np.isnan(scores[:16]).all()
    np.testing.assert_allclose(scores, result.scores["score"], rtol=1e-9, atol=1e-12)


def test_zscore_matches_a_loop():
    from lstmkit.tasks.anomaly.scoring import rolling_zscore

    x = np.random.default_rng(0).standard_normal((30, 2))
    got = rolling_zscore(x, 5)
    for t in range(5, 30):
        past = x[t - 5 : t]
        np.testing.assert_allclose(got[t], np.abs(x[t] - past.mean(0)) / past.std(0))
    assert np.isnan(got[:5]).all()


def test_bad_row_leaves_the_stream_state(predictor, series):
    values = series.frame[series.columns].to_numpy()[:50]
    clean, _ = _stream_all(predictor, values)
    stream = predictor.stream()
    got = []
    for t, row in enumerate(values):
        if t == 20:
            with pytest.raises(DataError, match=r"a row must hold 2 values \(x0, x1\), got 3"):
                stream.update([1.0, 2.0, 3.0])
            with pytest.raises(DataError, match="finite numbers"):
                stream.update([float("nan"), 1.0])
        got.append(stream.update(row)[0])
    np.testing.assert_array_equal(np.array(got), clean)


def test_reconstruction_scores_and_refuses_to_stream(series):
    det = _fit(series, "reconstruction")
    result = det.detect(series.frame)
    assert result.scores["score"].notna().all()
    assert {"x0_score", "x1_score", "threshold", "is_anomaly"} <= set(result.scores.columns)
    with pytest.raises(ConfigError, match="streaming is supported for method='prediction'"):
        det.stream()


def test_too_short_training_data_names_the_minimum(series):
    det = AnomalyDetector("prediction", window=50, val_size=0.2)
    assert det.min_rows() == 64  # 51 train rows + round(0.2 * 64) = 13 val rows
    short = series.frame.iloc[:63]
    with pytest.raises(
        DataError, match=r"training data has 63 rows, too short for window=50: .* minimum is 64"
    ):
        det.fit(short, time_col="time", columns=series.columns, **FAST)
    det.fit(series.frame.iloc[:64], time_col="time", columns=series.columns, **FAST)


def test_save_load_round_trip(predictor, series, tmp_path):
    path = predictor.save(tmp_path / "det")
    loaded = AnomalyDetector.load(path)
    assert loaded.get_config() == predictor.get_config()
    assert loaded.threshold_ == predictor.threshold_
    a = predictor.score(series.frame)
    b = loaded.score(series.frame)
    pd.testing.assert_frame_equal(a, b)


def test_zscore_save_load(series, tmp_path):
    det = _fit(series, "zscore")
    loaded = AnomalyDetector.load(det.save(tmp_path / "z"))
    pd.testing.assert_frame_equal(det.score(series.frame), loaded.score(series.frame))


def test_load_wrong_task(tmp_path):
    from lstmkit.errors import ModelFileError
    from lstmkit.tasks import persistence

    persistence.save_model_dir(tmp_path / "m", task="Forecaster", config={}, tensors={})
    with pytest.raises(ModelFileError, match="holds a 'Forecaster' model, not a 'AnomalyDetector'"):
        AnomalyDetector.load(tmp_path / "m")


def test_evaluate_and_intervals(predictor, series):
    metrics = predictor.evaluate_views(series.frame, series.labels)
    assert list(metrics.index) == ["point", "event", "point_adjusted"]
    row = predictor.evaluate(series.frame, series.labels)
    assert list(row.index) == ["model"]
    assert list(row.columns) == [
        f"{view}_{metric}"
        for view in ("point", "event", "point_adjusted")
        for metric in ("precision", "recall", "f1", "n_predicted", "n_labelled")
    ] + ["ucr_top_within_100"]
    assert math.isnan(row.loc["model", "ucr_top_within_100"])  # 3 labelled: not the UCR view
    assert row.loc["model", "event_f1"] == metrics.loc["event", "f1"]
    again = predictor.evaluate_views(predictor.detect(series.frame), series.labels)
    pd.testing.assert_frame_equal(again, metrics)  # a Detection is not scored again
    assert ((metrics[["precision", "recall", "f1"]] >= 0) & (metrics[["f1"]] <= 1)).all().all()
    # point adjustment never lowers recall
    assert metrics.loc["point_adjusted", "recall"] >= metrics.loc["point", "recall"]
    intervals = predictor.detect(series.frame).intervals
    assert (intervals["end_row"] >= intervals["start_row"]).all()
    assert (intervals["length"] == intervals["end_row"] - intervals["start_row"] + 1).all()


def test_wrong_columns_and_bad_options(predictor, series):
    with pytest.raises(ConfigError, match="method must be one of"):
        AnomalyDetector("forecast")
    with pytest.raises(ConfigError, match=r"quantile must be a number in \(0, 1\], got 1.5"):
        AnomalyDetector(quantile=1.5)
    with pytest.raises(ConfigError, match="AnomalyDetector.detect needs a trained model"):
        AnomalyDetector().detect(series.frame)
    with pytest.raises(DataError, match="not found|x1"):
        predictor.detect(series.frame.drop(columns=["x1"]))


def test_a_cell_variant_streams_through_its_layer(series):
    det = _fit(series, layer_norm=True, peephole=True)
    assert det.get_config()["lstm_options"] == {"layer_norm": True, "peephole": True}
    assert not det.net.steps_with_cell
    result = det.detect(series.frame)
    scores, _ = _stream_all(det, series.frame[series.columns].to_numpy()[:200])
    np.testing.assert_allclose(scores, result.scores["score"][:200], rtol=1e-5, atol=1e-6)


def test_lstm_options_reach_the_autoencoder(series):
    det = _fit(series, "reconstruction", layer_norm=True, proj_size=4)
    assert det.net.encoder.layer_norm and det.net.decoder.layer_norm
    assert det.net.decoder.input_size == 4 and det.net.head.in_features == 4
    assert det.detect(series.frame).scores["score"].notna().all()


def test_two_layer_stream_equals_batch(series):
    det = _fit(series, num_layers=2, dropout=0.2)  # dropout between layers is off when scoring
    result = det.detect(series.frame)
    scores, _ = _stream_all(det, series.frame[series.columns].to_numpy())
    np.testing.assert_allclose(scores, result.scores["score"], rtol=1e-5, atol=1e-6)


def _one_event():
    return make_anomaly_series(
        1500, channels=1, n_anomalies=1, kinds=("level_shift",), clean_fraction=0.3, seed=2
    )


def test_default_threshold_alarm_count_on_a_series_with_one_event():
    torch.set_num_threads(1)
    syn = _one_event()
    det = AnomalyDetector("prediction", window=16, hidden_size=8)
    assert det.threshold == "spot" and det.suppress_rows == 16 and det.hysteresis == 1.0
    det.fit(syn.frame.iloc[:450], time_col="time", columns=syn.columns, **FAST)
    labels = syn.labels[["start", "end"]]
    result = det.detect(syn.frame)
    assert syn.labels["start_row"].tolist() == [1027]
    # measured: 4 alarms, one of them on the event (rows 1027-1069); on this small case the old
    # default (the validation maximum, suppress 0) raised the single alarm 1049 (docs/anomaly.md)
    assert result.intervals["start_row"].tolist() == [228, 702, 1044, 1312]
    assert np.flatnonzero(result.scores["alarm"]).tolist() == [228, 702, 1044, 1312]
    event = det.evaluate_views(result, labels).loc["event"]
    assert (event["recall"], event["precision"]) == (1.0, 0.25)
    # the UCR-archive view: the top score (row 1049 or near) lies within 100 rows of the event
    row = det.evaluate(result, labels).loc["model"]
    top = int(np.nanargmax(result.scores["score"].to_numpy()[det.warmup_rows :])) + det.warmup_rows
    assert 1027 - 100 <= top <= 1069 + 100
    assert row["ucr_top_within_100"] == 1.0 and row["event_recall"] == 1.0


def test_top_score_hit_on_hand_made_scores():
    from lstmkit.tasks.anomaly.metrics import top_score_hit

    s = np.zeros(500)
    s[350] = 5.0
    assert top_score_hit(s, [(240, 250)]) == 1.0  # 100 rows after the interval's end
    assert top_score_hit(s, [(450, 460)]) == 1.0  # 100 rows before its start
    assert top_score_hit(s, [(200, 249)]) == 0.0  # 101 rows after
    assert math.isnan(top_score_hit(s, [(1, 2), (300, 301)]))  # two labelled: not this view
    assert math.isnan(top_score_hit(s, []))
    s[0] = np.nan
    s[5] = 9.0  # the highest, but inside the skipped warm-up
    assert top_score_hit(s, [(350, 350)], skip=10) == 1.0
    assert top_score_hit(s, [(350, 350)]) == 0.0


def test_spot_falls_back_to_the_quantile_with_too_few_validation_scores(caplog, tmp_path):
    syn = _one_event()
    det = AnomalyDetector("zscore", window=16, val_size=0.1)
    det.fit(syn.frame.iloc[:100], time_col="time", columns=syn.columns)
    assert det.spot_ is None and det.threshold_method_ == "quantile"
    assert "needs at least 20 validation scores, got " in caplog.text
    # scoring uses the quantile it fell back to, and so does a saved and loaded copy
    scores = det.score(syn.frame.iloc[:300])
    assert (scores["threshold"] == det.threshold_).all()
    det.save(tmp_path / "d")
    again = AnomalyDetector.load(tmp_path / "d")
    assert again.threshold == "spot" and again.threshold_method_ == "quantile"
    pd.testing.assert_frame_equal(again.score(syn.frame.iloc[:300]), scores)


def test_spot_fallback_is_not_sticky_a_later_fit_with_enough_scores_uses_spot():
    syn = _one_event()
    det = AnomalyDetector("zscore", window=16, val_size=0.1)
    det.fit(syn.frame.iloc[:100], time_col="time", columns=syn.columns)  # too few: quantile
    det.fit(syn.frame.iloc[:450], time_col="time", columns=syn.columns)  # 45 validation rows
    assert det.threshold == "spot" and det.threshold_method_ == "spot"
    assert det.spot_ is not None and det.threshold_ == det.spot_["z"]
