"""Trains a small task for ``test_ddp.py``; run as ``python ddp_script.py TASK OUT DEVICES``.

With DEVICES > 1 it trains with ``strategy="ddp"`` on CPU processes (gloo): Lightning starts this
script again for every other rank, so everything below runs on every rank, as in a user's script.
Every rank writes what it holds after ``fit`` to ``OUT/rank<r>.*`` (the test's own files, to
compare the ranks); the model itself is saved by ``save`` (rank 0 writes, the others wait).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit.tasks import Forecaster, SequenceClassifier
from lstmkit.train.distributed import global_rank, is_main_process

# batch_size is the global batch: 9 rows per step, 4 on rank 0 and 5 on rank 1. The forecaster's
# 28 training windows end in a batch of 1 row, so rank 0 steps on a placeholder row that weighs
# nothing; the classifier trains on 27 sequences (9 are held out for validation).
TRAIN = {
    "max_epochs": 3,
    "batch_size": 9,
    "seed": 0,
    "lr": 0.05,
    "patience": 2,
    "enable_progress_bar": False,
    "accelerator": "cpu",
    # SGD: Adam divides by the root of the squared gradients, so a gradient that is zero up to
    # rounding (the head bias of a window-normalised forecaster) takes full lr-sized steps whose
    # sign is the rounding noise, and the sum order of 2 ranks vs 1 shows as 5e-4 in that bias.
    "optimizer": "sgd",
}


def frame() -> pd.DataFrame:
    t = np.arange(72)
    rng = np.random.default_rng(0)
    y = 20 + 3 * np.sin(2 * np.pi * t / 12) + 0.05 * t + rng.normal(0, 0.3, t.size)
    return pd.DataFrame({"date": pd.date_range("2000-01-01", periods=72, freq="MS"), "y": y})


def sequences() -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(1)
    xs, labels = [], []
    for i in range(36):
        length = int(rng.integers(6, 14))
        label = "up" if i % 2 else "down"
        slope = 0.3 if label == "up" else -0.3
        x = slope * np.arange(length)[:, None] + rng.normal(0, 0.5, (length, 2))
        xs.append(x.astype(np.float32))
        labels.append(label)
    return xs, labels


def train(task: str, devices: int, **extra: Any) -> Any:
    options = {**TRAIN, **extra}
    if devices > 1:
        options.update(devices=devices, strategy="ddp")
    else:
        options.update(devices=1)
    if task == "forecast":
        model = Forecaster(
            horizon=3, lookback=12, hidden_size=8, model="lstm", ensemble=1, refit=False
        )
        return model.fit(frame(), time_col="date", targets="y", **options)
    xs, labels = sequences()
    # no convolution branch: its BatchNorm normalises by each rank's own batch statistics (as
    # under any DDP; torch syncs them on GPUs only), so it cannot match one process on CPU
    model = SequenceClassifier(None, hidden_size=8, val_size=0.25, conv_branch=False)
    return model.fit(xs, labels, **options)


def outputs(model: Any, task: str) -> dict[str, Any]:
    """What the model predicts and how its training went, as plain JSON."""
    if task == "forecast":
        predictions = model.predict(frame()).filter(like="y").to_numpy().ravel().tolist()
        net = model.nets[0]
    else:
        xs, _ = sequences()
        predictions = np.asarray(model.predict_proba(xs[:8])).ravel().tolist()
        net = model.net
    return {
        "predictions": predictions,
        "train_loss": list(model.history.train_loss),
        "val_loss": list(model.history.val_loss),
        "weights": {k: v.detach().double().ravel().tolist() for k, v in net.state_dict().items()},
    }


def main() -> None:
    task, out, devices = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(1)
    model = train(task, devices)
    rank = global_rank()
    result = outputs(model, task)
    model.save(out / "model")
    # save returned: the model on disk is complete, whichever rank this is
    loaded = type(model).load(out / "model")
    result["loaded_predictions"] = outputs(loaded, task)["predictions"]
    if is_main_process():
        print(f"evaluated on rank {rank}")
    (out / f"rank{rank}.json").write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
