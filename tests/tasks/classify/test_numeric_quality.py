"""Fixed-seed quality guard for the numeric defaults (issue 13): on the two bundled UCR sets the
default SequenceClassifier beats the hand-written torch BiLSTM of the benchmark by a margin.

Measured at seed 0 on one CPU thread when written: GunPoint default 0.97 vs BiLSTM 0.5-0.6,
ItalyPowerDemand 0.96 vs 0.95 (see CLASSIFICATION.md for the 3-seed table on six sets)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data.datasets import dataset_path
from lstmkit.data.ts_format import read_ts
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.classify.benchmark import hand_written_bilstm


def accuracy(predicted, truth) -> float:
    return float(np.mean([str(p) == str(t) for p, t in zip(predicted, truth, strict=True)]))


@pytest.mark.slow
def test_default_beats_the_hand_written_bilstm_on_two_bundled_sets():
    scores = {}
    for name in ("gun_point", "italy_power"):
        train = read_ts(dataset_path(f"{name}_train"))
        test = read_ts(dataset_path(f"{name}_test"))
        # One network (ensemble=1): "auto" would train 5 here and make this guard 5 times
        # slower (about 5 min on one thread); the guard watches the network, and the ensemble's
        # gain is measured by the benchmark (docs/sequence-classification.md).
        clf = SequenceClassifier(None, ensemble=1).fit(
            train.series, train.labels, seed=0, enable_progress_bar=False
        )
        anchor = hand_written_bilstm(train.series, train.labels, test.series, seed=0)
        scores[name] = (accuracy(clf.predict(test.series), test.labels),
                        accuracy(anchor, test.labels))  # fmt: skip
    default = np.mean([s[0] for s in scores.values()])
    anchor = np.mean([s[1] for s in scores.values()])
    assert default >= anchor + 0.1, scores
    assert scores["gun_point"][0] >= 0.9, scores
    assert scores["italy_power"][0] >= scores["italy_power"][1] - 0.01, scores
