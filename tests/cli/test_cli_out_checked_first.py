"""Every ``train`` verb refuses an unusable ``--out`` before it trains (issue 18): a long training
that could not be saved at the end is the failure this guards against.

The task's ``fit`` is replaced by one that fails the test, so a verb that trained before checking
its output would be caught here, without the cost of a real training.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli import main
from lstmkit.data.ts_format import write_ts

MESSAGE = "--out must be a directory, but it is a file"


def _never_trains(*args, **kwargs):
    raise AssertionError("trained before checking --out")


def _waves(n: int = 6):
    rng = np.random.default_rng(0)
    series = [rng.standard_normal((8, 2)) for _ in range(n)]
    return series, ["up", "down"] * (n // 2)


def _detect(root):
    data = root / "series.csv"
    pd.DataFrame({"time": range(50), "x0": np.sin(np.arange(50))}).to_csv(data, index=False)
    argv = ["detect", "train", "--data", str(data), "--time-col", "time", "--columns", "x0"]
    return ("lstmkit.tasks.anomaly.AnomalyDetector", "fit"), argv


def _classify_text(root):
    data = root / "texts.csv"
    pd.DataFrame({"text": ["good", "bad"] * 5, "label": ["pos", "neg"] * 5}).to_csv(data)
    argv = ["classify", "train", "--data", str(data), "--text-col", "text", "--label-col", "label"]
    return ("lstmkit.tasks.classify.SequenceClassifier", "fit_frame"), argv


def _classify_ts(root):
    data = write_ts(root / "X_TRAIN.ts", *_waves())
    return ("lstmkit.tasks.classify.SequenceClassifier", "fit"), [
        "classify",
        "train",
        "--data",
        str(data),
    ]


def _classify_long(root):
    series, labels = _waves()
    rows = [
        {"id": f"s{i}", "t": t, "y": label, "ax": step[0], "ay": step[1]}
        for i, (x, label) in enumerate(zip(series, labels, strict=True))
        for t, step in enumerate(x)
    ]
    data = root / "long.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    argv = ["classify", "train", "--data", str(data), "--series-col", "id", "--time-col", "t"]
    return ("lstmkit.tasks.classify.SequenceClassifier", "fit"), [*argv, "--label-col", "y"]


def _speech(root):
    argv = ["speech", "train", "--data", str(root / "utterances")]
    return ("lstmkit.tasks.speech.SpeechRecognizer", "fit"), argv


@pytest.mark.parametrize(
    "command",
    [_detect, _classify_text, _classify_ts, _classify_long, _speech],
    ids=lambda f: f.__name__[1:],
)
def test_train_refuses_an_out_that_is_a_file_before_training(
    command, tmp_path, monkeypatch, capsys
):
    (where, method), argv = command(tmp_path)
    module, name = where.rsplit(".", 1)
    task = getattr(importlib.import_module(module), name)
    monkeypatch.setattr(task, method, _never_trains)
    monkeypatch.setattr(task, "fit", _never_trains)
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a directory\n")
    code = main([*argv, "--out", str(a_file), "--threads", "1"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert captured.err.strip() == f"lstmkit: error: {MESSAGE}: {str(a_file)!r}"
    assert captured.out == ""  # nothing trained, nothing written
    assert a_file.read_text() == "not a directory\n"
