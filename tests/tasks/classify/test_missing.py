"""Gaps (NaN) and irregular time stamps in numeric sequences: the features the network sees,
worked out by hand; the GRU-D input decay against a float64 reference; the classifier fitting,
predicting and round-tripping with gaps; complete data unchanged; bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError, DataError
from lstmkit.nn import HiddenDecay, InputDecay, backward_deltas
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.classify.missing import (
    features,
    gap_scale,
    interpolated,
    observed_features,
    remove_at_random,
)
from lstmkit.tasks.classify.net import ClassifierNet

NAN = float("nan")
# channel 0 observed at steps 0 and 3, channel 1 at steps 1 and 3; times 0, 1, 3, 4
X = np.array([[1.0, NAN], [NAN, 2.0], [NAN, NAN], [4.0, 5.0]])
S = np.array([0.0, 1.0, 3.0, 4.0])


def test_carried_value_mask_and_time_since_the_last_observation():
    carried, m, delta = observed_features(X, S)
    np.testing.assert_array_equal(carried, [[1, 0], [1, 2], [1, 2], [4, 5]])
    np.testing.assert_array_equal(m, [[1, 0], [0, 1], [0, 0], [1, 1]])
    # GRU-D: delta_t = s_t - s_{t-1} (+ delta_{t-1} when step t-1 was missing), delta_0 = 0
    np.testing.assert_array_equal(delta, [[0, 0], [1, 1], [3, 2], [4, 3]])
    _, _, steps = observed_features(X)  # no times: step t at time t
    np.testing.assert_array_equal(steps, [[0, 0], [1, 1], [2, 1], [3, 2]])


def test_each_method_s_inputs():
    np.testing.assert_array_equal(features(X, S, "mean", 1.0), [[1, 0], [0, 2], [0, 0], [4, 5]])
    np.testing.assert_array_equal(features(X, S, "ffill", 1.0), [[1, 0], [1, 2], [1, 2], [4, 5]])
    mask = features(X, S, "mask", 2.0)
    assert mask.shape == (4, 6)
    np.testing.assert_array_equal(mask[:, 2:4], [[1, 0], [0, 1], [0, 0], [1, 1]])
    np.testing.assert_array_equal(mask[:, 4:], [[0, 0], [0.5, 0.5], [1.5, 1], [2, 1.5]])
    np.testing.assert_array_equal(features(X, S, "decay", 2.0), mask)
    np.testing.assert_array_equal(features(X, S, "grud", 2.0), mask)
    # linear in time between observations, held before the first and after the last
    np.testing.assert_allclose(
        interpolated(X, S), [[1, 2], [1.75, 2], [3.25, 4], [4, 5]], rtol=0, atol=1e-15
    )
    np.testing.assert_array_equal(features(X, S, "interpolate", 2.0)[:, :2], interpolated(X, S))
    np.testing.assert_array_equal(features(X, S, "linear", 2.0), interpolated(X, S))
    assert features(X, S, None, 1.0) is X


def test_gap_scale_is_the_median_time_between_observations():
    assert gap_scale([X], [S]) == 3.5  # gaps 4 (channel 0) and 3 (channel 1)
    assert gap_scale([np.ones((5, 2))], None) == 1.0


def test_values_removed_at_random_keep_one_per_channel():
    series = [np.arange(200.0).reshape(100, 2), np.ones((2, 1))]
    a = remove_at_random(series, 0.5, seed=3)
    b = remove_at_random(series, 0.5, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert 0.4 < np.isnan(a[0]).mean() < 0.6
    assert not np.isnan(series[0]).any()  # copies
    for x in remove_at_random([np.ones((3, 2))] * 50, 0.9, seed=0):
        assert (~np.isnan(x)).any(axis=0).all()
    with pytest.raises(ConfigError, match=r"missing rate must be in \[0, 1\), got 1.5"):
        remove_at_random(series, 1.5, seed=0)


def test_input_decay_matches_a_float64_reference_by_hand():
    decay = InputDecay(2, mean=torch.tensor([0.3, -0.2], dtype=torch.float64)).double()
    with torch.no_grad():
        decay.weight.copy_(torch.tensor([0.5, 2.0]))
        decay.bias.copy_(torch.tensor([-1.0, 0.5]))
    x_last = torch.tensor([[1.0, 2.0], [1.0, -1.0], [4.0, -1.0]], dtype=torch.float64)
    m = torch.tensor([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    delta = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]], dtype=torch.float64)
    # step 1: channel 0: 0.5*1 - 1 < 0 -> gamma 1 (no decay); channel 1: 2*2 + 0.5 = 4.5
    # step 2: channel 0: 0.5*3 - 1 = 0.5; channel 1 observed (its own value)
    g1 = math.exp(-4.5)
    g0 = math.exp(-0.5)
    expected = [
        [1.0, 2.0],
        [1.0, g1 * -1.0 + (1 - g1) * -0.2],
        [g0 * 4.0 + (1 - g0) * 0.3, -1.0],
    ]
    torch.testing.assert_close(
        decay(x_last, m, delta), torch.tensor(expected, dtype=torch.float64), rtol=0, atol=1e-15
    )
    inputs = (x_last.requires_grad_(), m, delta.clone().requires_grad_())
    assert torch.autograd.gradcheck(decay, inputs)


def test_input_decay_bad_sizes():
    with pytest.raises(ConfigError, match=r"n_features must be a positive int, got 0"):
        InputDecay(0)
    with pytest.raises(ConfigError, match=r"mean has 3 values, expected n_features=2"):
        InputDecay(2, mean=torch.zeros(3))
    with pytest.raises(ConfigError, match=r"n_features must be a multiple of 3, got 4"):
        ClassifierNet(n_classes=2, n_features=4, input_decay=True)


def test_the_net_decays_the_carried_values_before_reading_them():
    torch.manual_seed(0)
    net = ClassifierNet(n_classes=2, n_features=6, hidden_size=4, input_decay=True).double()
    x = torch.tensor(features(X, S, "decay", 1.0), dtype=torch.float64)[None]
    carried, m, delta = x.chunk(3, dim=-1)
    torch.testing.assert_close(
        net.decayed(x), torch.cat([net.decay(carried, m, delta), m, delta], -1), rtol=0, atol=0
    )
    assert net.decayed(x)[0, 1, 0] < 1.0  # the missing value decays from 1 toward the mean 0


def test_grud_net_decays_the_hidden_state_and_padding_changes_nothing():
    torch.manual_seed(0)
    net = ClassifierNet(
        n_classes=2, n_features=6, hidden_size=4, input_decay=True, hidden_decay=True
    ).double()
    net.eval()
    assert isinstance(net.lstm, HiddenDecay) and net.lstm.output_size == 4
    x = torch.tensor(features(X, S, "grud", 1.0), dtype=torch.float64)[None]
    lengths = torch.tensor([4])
    xd = net.decayed(x)
    _, m, delta = xd.chunk(3, dim=-1)
    out, _, _ = net.encode(xd, lengths)
    want, _ = net.lstm(xd, delta, lengths, backward_deltas(m, delta, lengths))
    torch.testing.assert_close(out, want, rtol=0, atol=0)
    padded = torch.cat([x, torch.zeros(1, 3, 6, dtype=torch.float64)], dim=1)
    batch = torch.cat([padded, torch.randn(1, 7, 6, dtype=torch.float64)])
    logits = net(batch, torch.tensor([4, 7]))
    torch.testing.assert_close(logits[:1], net(x, lengths), rtol=0, atol=1e-12)
    with pytest.raises(ConfigError, match=r"hidden_decay .* needs input_decay=True"):
        ClassifierNet(n_classes=2, n_features=6, hidden_decay=True)


def _data(n: int = 24, seed: int = 0) -> tuple[list[np.ndarray], list[int]]:
    """Class 1 sequences sit 1.5 above class 0; two channels; lengths 8-14."""
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(int(rng.integers(8, 15)), 2)) + 1.5 * (i % 2) for i in range(n)]
    return xs, [i % 2 for i in range(n)]


TINY = {"max_epochs": 15, "seed": 1, "enable_progress_bar": False, "lr": 0.01}


@pytest.mark.parametrize("method", ["auto", "decay", "grud", "interpolate", "mean", "ffill"])
def test_fit_and_predict_with_gaps_and_round_trip(method, tmp_path):
    xs, ys = _data()
    gappy = remove_at_random(xs, 0.5, seed=0)
    clf = SequenceClassifier(None, hidden_size=8, conv_branch=False, missing=method)
    clf.fit(gappy, ys, **TINY)
    assert clf.missing_method == ("linear" if method == "auto" else method)
    assert clf.n_features == 2
    test = remove_at_random(_data(20, seed=1)[0], 0.5, seed=1)
    assert np.mean(np.array(clf.predict(test)) == np.array(_data(20, seed=1)[1])) >= 0.75
    again = SequenceClassifier.load(clf.save(tmp_path / "m"))
    assert again.missing_method == clf.missing_method and again.gap_scale == clf.gap_scale
    np.testing.assert_array_equal(again.predict_proba(test), clf.predict_proba(test))


def test_irregular_times_turn_the_missing_inputs_on():
    xs, ys = _data()
    rng = np.random.default_rng(2)
    times = [np.cumsum(rng.uniform(0.5, 3.0, size=len(x))) for x in xs]
    auto = SequenceClassifier(None, hidden_size=4, conv_branch=False)
    assert auto.fit(xs, ys, times=times, max_epochs=1, enable_progress_bar=False).missing_method
    assert auto.missing_method == "linear"


def test_the_time_since_the_last_observation_is_scaled_by_the_typical_gap():
    xs, ys = _data()
    rng = np.random.default_rng(2)
    times = [np.cumsum(rng.uniform(0.5, 3.0, size=len(x))) for x in xs]
    clf = SequenceClassifier(None, hidden_size=8, conv_branch=False, missing="mask")
    clf.fit(xs, ys, times=times, max_epochs=2, seed=1, enable_progress_bar=False)
    assert clf.missing_method == "mask"
    assert clf.gap_scale == pytest.approx(float(np.median(np.concatenate(
        [np.diff(s) for s in times for _ in range(2)]))))  # fmt: skip
    assert len(clf.predict(xs[:3], times=times[:3])) == 3
    clf.fit(xs, ys, (xs[:4], ys[:4], times[:4]), times=times, max_epochs=1, seed=1,
            enable_progress_bar=False)  # fmt: skip
    assert clf.missing_method == "mask"


def test_complete_data_trains_as_before():
    xs, ys = _data()
    quiet = {"max_epochs": 2, "seed": 1, "enable_progress_bar": False}
    plain = SequenceClassifier(None, hidden_size=8).fit(xs, ys, **quiet)
    assert plain.missing_method is None
    assert plain.net.lstm.input_size == 2
    evenly = [np.arange(len(x)) * 2.5 for x in xs]  # evenly spaced times say nothing more
    timed = SequenceClassifier(None, hidden_size=8).fit(xs, ys, times=evenly, **quiet)
    assert timed.missing_method is None
    np.testing.assert_array_equal(timed.predict_proba(xs), plain.predict_proba(xs))


def test_bad_inputs_get_clear_errors():
    xs, ys = _data()
    clf = SequenceClassifier(None, hidden_size=4, conv_branch=False)
    empty_channel = [*xs[:3], np.column_stack([np.full(5, NAN), np.ones(5)])]
    with pytest.raises(
        DataError,
        match=r"training data: sequence 3 has no observed value in channel 0 \(every value is "
        r"NaN\); expected at least one per channel",
    ):
        clf.fit(empty_channel, ys[:4])
    infinite = [*xs[:2], np.array([[1.0, 2.0], [np.inf, 0.0]])]
    with pytest.raises(
        DataError,
        match=r"training data: sequence 2 holds an infinite value \(step 1, channel 0\)",
    ):
        clf.fit(infinite, ys[:3])
    times = [np.arange(len(x), dtype=float) for x in xs]
    times[1] = times[1].copy()
    times[1][3] = times[1][2]
    with pytest.raises(
        DataError,
        match=r"training data: the times of sequence 1 are not increasing at step 3 \(2 then 2\); "
        r"expected strictly increasing time stamps",
    ):
        clf.fit(xs, ys, times=times)
    with pytest.raises(
        DataError, match=r"training data: sequence 0 has \d+ steps but its times have shape \(2,\)"
    ):
        clf.fit(xs, ys, times=[[0.0, 1.0]] * len(xs))
    with pytest.raises(ConfigError, match=r"missing must be 'auto' or one of .*got 'zero'"):
        SequenceClassifier(None, missing="zero")
    with pytest.raises(ConfigError, match=r"missing='mask' is for numeric sequences"):
        SequenceClassifier("word", missing="mask")
    clf.fit(xs, ys, max_epochs=1, seed=0, enable_progress_bar=False)
    with pytest.raises(
        DataError,
        match=r"predict: sequence 0 holds NaN, but this model was trained on complete, evenly "
        r"spaced data; refit with missing='mask'",
    ):
        clf.predict(remove_at_random(xs[:2], 0.5, seed=0))


def test_a_grud_classifier_refuses_onnx_export_and_leaves_no_file(tmp_path):
    from lstmkit.errors import ConfigError
    from lstmkit.export import export_model

    xs, ys = _data()
    clf = SequenceClassifier(None, hidden_size=4, conv_branch=False, missing="grud", ensemble=1)
    clf.fit(remove_at_random(xs, 0.5, seed=0), ys, max_epochs=1, enable_progress_bar=False)
    out = tmp_path / "m.onnx"
    with pytest.raises(ConfigError, match="missing='grud' cannot be exported to ONNX"):
        export_model(clf, out)
    assert not out.exists()
