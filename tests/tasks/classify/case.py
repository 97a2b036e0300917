"""The SequenceClassifier in the shared task contract: a tiny word-level BiLSTM on a keyword
task (label "pos" when "great" occurs)."""

from __future__ import annotations

import numpy as np
from tests.tasks.contract import TaskCase, same_predictions

from lstmkit.tasks import SequenceClassifier

FILLER = ["the", "a", "film", "plot", "actor", "scene", "story", "long", "short", "red"]
FIT = {"max_epochs": 2, "enable_progress_bar": False, "batch_size": 16, "seed": 0}


def _data(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(FILLER, int(rng.integers(3, 8))))
        label = "pos" if rng.random() < 0.5 else "neg"
        if label == "pos":
            words.insert(int(rng.integers(0, len(words) + 1)), "great")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


TRAIN, TEST = _data(40, 0), _data(12, 1)


def _make(**lstm_options):
    return SequenceClassifier(hidden_size=6, embed_size=6, pooling="mean", **lstm_options)


CASE = TaskCase(
    cls=SequenceClassifier,
    make=_make,
    fit=lambda task: task.fit(*TRAIN, **FIT),
    predict=lambda task: task.predict_proba(TEST[0]),
    evaluate=lambda task: task.evaluate(*TEST),
    same=lambda a, b: (
        bool(np.allclose(a, b, rtol=1e-6, atol=1e-9)) and same_predictions(a.argmax(1), b.argmax(1))
    ),
)
