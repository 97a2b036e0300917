"""How numeric_v2/ was made: run once, from the repository root, with the classifier as it was
at commit 2638f30 (the numeric defaults of issue 13: conv branch, val_size "auto"), before it
trained ensembles of seeds. Its weights file holds one network's tensors at the top level and
its config.json has no "ensemble" key; test_classify_saved_models.py checks that such a model
still loads and predicts exactly as it did (as one member)."""

import json
import pathlib

import numpy as np
import torch

from lstmkit.tasks.classify import SequenceClassifier

torch.set_num_threads(1)

OUT = pathlib.Path("tests/tasks/classify/data/numeric_v2")
rng = np.random.default_rng(2)
xs, ys = [], []
for i in range(24):
    label = ("up", "down", "flat")[i % 3]
    slope = {"up": 0.3, "down": -0.3, "flat": 0.0}[label]
    steps = int(rng.integers(6, 12))
    t = np.arange(steps)
    xs.append(np.stack([slope * t + rng.normal(0, 0.2, steps), rng.normal(5, 1, steps)], 1))
    ys.append(label)
clf = SequenceClassifier(None, hidden_size=4, pooling="attention")
clf.fit(xs, ys, seed=4, max_epochs=3, enable_progress_bar=False)
inputs = [np.round(x, 3) for x in xs[:5]]
clf.save(OUT)
(OUT / "expected.json").write_text(
    json.dumps(
        {
            "inputs": [x.tolist() for x in inputs],
            "predict": clf.predict(inputs),
            "predict_proba": clf.predict_proba(inputs).tolist(),
            "attention": [a.tolist() for a in clf.attention_weights(inputs)],
            "classes": clf.classes,
            "train_inputs": [x.tolist() for x in xs],  # to refit: same data, same model
            "train_labels": ys,
        },
        indent=1,
    )
    + "\n"
)
