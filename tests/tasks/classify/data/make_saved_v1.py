"""How text_v1/ and numeric_v1/ were made: run once, from the repository root, with the
classifier as it was at commit 04b95a1 (lstmkit.tasks.classifier, ``seed`` a constructor
argument), before it became the lstmkit.tasks.classify package. Kept as the record of the
fixtures; it does not run on later code, which is the point: test_classify_saved_models.py checks
that models saved by that code still load and predict the same."""

# The module it imports no longer exists, so isort cannot tell it is first-party.
# ruff: noqa: I001

import json
import pathlib

import numpy as np
import pandas as pd
import torch

from lstmkit.tasks.classifier import SequenceClassifier

torch.set_num_threads(1)

OUT = pathlib.Path("tests/tasks/classify/data")
FILLER = ["the", "a", "film", "plot", "actor", "scene", "story", "long", "short", "red"]
rng = np.random.default_rng(0)
texts, labels = [], []
for _ in range(60):
    words = list(rng.choice(FILLER, int(rng.integers(3, 9))))
    label = "pos" if rng.random() < 0.5 else "neg"
    if label == "pos":
        words.insert(int(rng.integers(0, len(words) + 1)), "great")
    texts.append(" ".join(words))
    labels.append(label)
frame = pd.DataFrame({"review": texts, "y": labels, "part": ["train"] * 50 + ["val"] * 10})
clf = SequenceClassifier(
    "word",
    hidden_size=6,
    embed_size=6,
    pooling="attention",
    class_weights={"neg": 1.5},
    seed=3,
    layer_norm=True,
)
clf.fit_frame(frame, "review", "y", "part", max_epochs=10, enable_progress_bar=False, lr=0.03)
inputs = ["the great film", "the film", "", "zebra great great", "a long red story plot"]
clf.save(OUT / "text_v1")
(OUT / "text_v1" / "expected.json").write_text(
    json.dumps(
        {
            "inputs": inputs,
            "predict": clf.predict(inputs),
            "predict_proba": clf.predict_proba(inputs).tolist(),
            "classes": clf.classes,
            "columns": clf.columns,
        },
        indent=1,
    )
    + "\n"
)

rng = np.random.default_rng(1)
xs, ys = [], []
for _ in range(40):
    t = int(rng.integers(4, 10))
    y = int(rng.random() < 0.5)
    xs.append(
        np.stack(
            [
                (1 if y else -1) * np.linspace(0, 1, t) + 0.1 * rng.standard_normal(t),
                100 + 5 * rng.standard_normal(t),
            ],
            axis=1,
        )
    )
    ys.append(y)
num = SequenceClassifier(
    None, hidden_size=5, pooling="last", bidirectional=True, num_layers=2, seed=1
)
num.fit(xs, ys, max_epochs=10, enable_progress_bar=False, lr=0.03)
inputs = [x.round(3).tolist() for x in xs[:4]] + [[[0.0, 100.0], [1.0, 101.0]]]
num.save(OUT / "numeric_v1")
(OUT / "numeric_v1" / "expected.json").write_text(
    json.dumps(
        {
            "inputs": inputs,
            "predict": num.predict([np.array(x) for x in inputs]),
            "predict_proba": num.predict_proba([np.array(x) for x in inputs]).tolist(),
            "classes": num.classes,
        },
        indent=1,
    )
    + "\n"
)
