"""The LSTM-FCN convolutional branch: padding changes nothing in eval mode, it trains and
round-trips, and it refuses token inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.classify.net import ClassifierNet


def test_padding_changes_nothing_in_eval_mode():
    torch.manual_seed(0)
    net = ClassifierNet(n_classes=3, n_features=2, hidden_size=4, pooling="mean", conv_branch=True)
    net = net.double()
    net.train()
    net(torch.randn(4, 12, 2, dtype=torch.float64), torch.tensor([12, 9, 5, 3]))  # BN statistics
    net.eval()
    seqs = [torch.randn(t, 2, dtype=torch.float64) for t in (7, 3, 10)]
    lengths = torch.tensor([7, 3, 10])

    def batch(width: int, fill: float) -> torch.Tensor:
        out = torch.full((3, width, 2), fill, dtype=torch.float64)
        for i, s in enumerate(seqs):
            out[i, : len(s)] = s
        return out

    with torch.no_grad():
        tight = net(batch(10, 0.0), lengths)
        loose = net(batch(16, 5.0), lengths)  # padding with values that would show if read
        alone = torch.cat([net(s[None], torch.tensor([len(s)])) for s in seqs])
    torch.testing.assert_close(loose, tight, rtol=0, atol=1e-10)
    torch.testing.assert_close(alone, tight, rtol=0, atol=1e-10)


def shapes(n: int, seed: int):
    """Label 1 for a bump in the middle, 0 for a dip; lengths 20-40."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        t = np.linspace(-1, 1, int(rng.integers(20, 41)))
        label = int(rng.random() < 0.5)
        bump = np.exp(-(t**2) * 20) * (1 if label else -1)
        xs.append((bump + 0.2 * rng.standard_normal(len(t)))[:, None])
        ys.append(label)
    return xs, ys


def test_trains_and_round_trips(tmp_path):
    clf = SequenceClassifier(None, hidden_size=8, conv_branch=True, val_size=0)
    clf.fit(*shapes(60, 0), max_epochs=15, lr=1e-2, enable_progress_bar=False)
    test = shapes(40, 1)
    assert clf.evaluate(*test).loc["model", "accuracy"] >= 0.9
    loaded = SequenceClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.conv_branch
    np.testing.assert_allclose(loaded.predict_proba(test[0]), clf.predict_proba(test[0]))


def test_texts_have_no_conv_branch():
    with pytest.raises(ConfigError, match="conv_branch reads numeric sequences"):
        SequenceClassifier("word", conv_branch=True)
