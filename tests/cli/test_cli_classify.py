"""``lstmkit classify train|predict|evaluate`` end to end on a small table, and its errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lstmkit.cli
from lstmkit.cli import main

FILLER = ["the", "a", "film", "plot", "actor", "scene", "story", "long", "short", "red"]


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    if "classify" not in lstmkit.cli.COMMANDS:  # until the command list names it
        monkeypatch.setattr(lstmkit.cli, "COMMANDS", (*lstmkit.cli.COMMANDS, "classify"))


def write_table(path, n: int = 240, seed: int = 0):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(FILLER, int(rng.integers(3, 10))))
        label = "pos" if rng.random() < 0.5 else "neg"
        words.insert(int(rng.integers(0, len(words) + 1)), "great" if label == "pos" else "awful")
        texts.append(" ".join(words))
        labels.append(label)
    split = ["train"] * (n - 80) + ["val"] * 40 + ["test"] * 40
    pd.DataFrame({"review": texts, "stars": labels, "part": split}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_train_predict_evaluate(tmp_path, capsys):
    data = write_table(tmp_path / "reviews.csv")
    out = tmp_path / "run"
    code = main(
        [
            "classify", "train", "--data", str(data), "--text-col", "review",
            "--label-col", "stars", "--split-col", "part", "--out", str(out),
            "--hidden-size", "8", "--embed-size", "8", "--epochs", "6", "--lr", "0.02",
            "--pooling", "max", "--seed", "1", "--threads", "1",
        ]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "test rows:" in text and "macro-F1" in text
    for name in ("model/config.json", "metrics.json", "confusion.png", "loss.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["part"] == "test" and metrics["n"] == 40
    assert metrics["accuracy"] >= 0.9

    predictions = tmp_path / "pred.csv"
    assert main(["classify", "predict", "--model", str(out / "model"), "--data", str(data),
                 "--out", str(predictions)]) == 0  # fmt: skip
    frame = pd.read_csv(predictions)
    assert list(frame.columns) == ["review", "stars", "part", "prediction", "p_neg", "p_pos"]
    assert len(frame) == 240
    assert "predicted 240 rows" in capsys.readouterr().out

    report = tmp_path / "eval.json"
    plot = tmp_path / "cm.png"
    code = main(
        [
            "classify", "evaluate", "--model", str(out / "model"), "--data", str(data),
            "--split", "test", "--plot", str(plot), "--json", str(report), "--baseline",
        ]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "scored 40 rows (split 'test'" in text
    assert "bow-logreg" in text and "trained on split 'train'" in text
    assert plot.is_file()
    result = json.loads(report.read_text())
    assert result["model"]["accuracy"] == pytest.approx(metrics["accuracy"])
    assert result["baseline"]["n"] == 40
    assert result["baseline"]["labels"] == ["neg", "pos"]


def test_missing_label_column(tmp_path, capsys):
    data = write_table(tmp_path / "reviews.csv", n=90)
    code = main(["classify", "train", "--data", str(data), "--text-col", "review",
                 "--label-col", "label", "--out", str(tmp_path / "o")])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "label column 'label' not found in" in err
    assert "the columns are ['review', 'stars', 'part']" in err
    assert not (tmp_path / "o" / "model").exists()


def test_unknown_bundled_dataset(tmp_path, capsys):
    code = main(["classify", "train", "--data", "bundled:nope", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "unknown bundled dataset 'nope'" in capsys.readouterr().err


def test_baseline_needs_training_rows(tmp_path, capsys):
    from lstmkit.tasks import classify

    data = write_table(tmp_path / "reviews.csv", n=90)
    clf = classify.SequenceClassifier(hidden_size=4, embed_size=4)
    clf.fit_frame(data, "review", "stars", "part", max_epochs=1, enable_progress_bar=False)
    model = clf.save(tmp_path / "model")
    code = main(["classify", "evaluate", "--model", str(model), "--data", str(data),
                 "--baseline"])  # fmt: skip
    assert code == 2
    assert "--baseline trains on the 'train' rows of --data, so score other rows" in (
        capsys.readouterr().err
    )
    code = main(["classify", "evaluate", "--model", str(model), "--data", str(data),
                 "--split", "nosuch"])  # fmt: skip
    assert code == 1
    assert "no rows with 'part' in ['nosuch']; the splits present are ['test', 'train', 'val']" in (
        capsys.readouterr().err
    )


def test_missing_option_is_refused_for_texts(tmp_path, capsys):
    # --missing is a numeric-sequence option; for texts it would silently do nothing.
    data = write_table(tmp_path / "reviews.csv", n=90)
    out = str(tmp_path / "o")
    code = main(["classify", "train", "--data", str(data), "--text-col", "review",
                 "--label-col", "stars", "--missing", "mask", "--out", out])  # fmt: skip
    assert code != 0
    err = capsys.readouterr().err
    assert "--missing mask applies to numeric sequences" in err
    assert "not to texts" in err
    assert not (tmp_path / "o" / "model").exists()
