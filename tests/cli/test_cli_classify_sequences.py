"""``lstmkit classify train|predict|evaluate`` on numeric sequences: a .ts pair, a long CSV, the
bundled ItalyPowerDemand, and the bad inputs the issue names (a clear message, a non-zero exit)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lstmkit.cli
from lstmkit.cli import main
from lstmkit.data.ts_format import write_ts

TINY = ["--hidden-size", "4", "--epochs", "2", "--threads", "1", "--seed", "0"]


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    if "classify" not in lstmkit.cli.COMMANDS:
        monkeypatch.setattr(lstmkit.cli, "COMMANDS", (*lstmkit.cli.COMMANDS, "classify"))


def waves(n: int, seed: int, channels: int = 2):
    """Label "up" when the first channel rises, "down" when it falls; lengths 8-15."""
    rng = np.random.default_rng(seed)
    series, labels = [], []
    for _ in range(n):
        t = np.linspace(0, 1, int(rng.integers(8, 16)))
        up = rng.random() < 0.5
        first = (t if up else -t) + 0.1 * rng.standard_normal(len(t))
        rest = [rng.standard_normal(len(t)) for _ in range(channels - 1)]
        series.append(np.column_stack([first, *rest]))
        labels.append("up" if up else "down")
    return series, labels


def long_table(series, labels) -> pd.DataFrame:
    rows = []
    for i, (x, label) in enumerate(zip(series, labels, strict=True)):
        for t, step in enumerate(x):
            rows.append({"id": f"s{i}", "t": t, "y": label, "ax": step[0], "ay": step[1]})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # rows in any order


def test_ts_train_predict_evaluate(tmp_path, capsys):
    train = write_ts(tmp_path / "X_TRAIN.ts", *waves(24, 0))
    test = write_ts(tmp_path / "X_TEST.ts", *waves(10, 1))
    out = tmp_path / "run"
    assert main(["classify", "train", "--data", str(train), "--test", str(test),
                 "--out", str(out), *TINY]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "trained on 24 sequences (2 feature(s), 2 classes)" in text and "test (" in text
    assert "(member 1 of an ensemble of 5)" in text  # "auto" on a small numeric set
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 10 and metrics["part"] == "test"

    pred = tmp_path / "pred.csv"
    assert main(["classify", "predict", "--model", str(out), "--data", str(test),
                 "--out", str(pred)]) == 0  # fmt: skip
    frame = pd.read_csv(pred)
    assert list(frame.columns) == ["series", "prediction", "p_down", "p_up"]
    assert frame["series"].tolist() == list(range(10))
    np.testing.assert_allclose(frame[["p_down", "p_up"]].sum(axis=1), 1.0, rtol=1e-6)

    capsys.readouterr()
    assert main(["classify", "evaluate", "--model", str(out), "--data", str(test),
                 "--json", str(tmp_path / "e.json")]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "scored 10 sequences" in text and "accuracy" in text and "macro_f1" in text
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["model"]["accuracy"] == pytest.approx(metrics["accuracy"])


def test_ensemble_option(tmp_path, capsys):
    train = write_ts(tmp_path / "X_TRAIN.ts", *waves(12, 0))
    out = tmp_path / "run"
    assert main(["classify", "train", "--data", str(train), "--out", str(out), *TINY,
                 "--ensemble", "2"]) == 0  # fmt: skip
    assert "(member 1 of an ensemble of 2)" in capsys.readouterr().out
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["config"]["ensemble"] == 2
    for bad in ("0", "many", "2.5"):  # argparse exits 2 with the message
        with pytest.raises(SystemExit) as exit_info:
            main(["classify", "train", "--data", str(train), "--out", str(out), "--ensemble", bad])
        assert exit_info.value.code == 2
        assert f"expected 'auto' or an int >= 1, got {bad!r}" in capsys.readouterr().err


def test_long_csv_keeps_its_columns_for_predict(tmp_path, capsys):
    data = tmp_path / "long.csv"
    long_table(*waves(24, 0)).to_csv(data, index=False)
    test = tmp_path / "test.parquet"
    long_table(*waves(8, 1)).to_parquet(test)
    out = tmp_path / "run"
    assert main(["classify", "train", "--data", str(data), "--series-col", "id",
                 "--time-col", "t", "--label-col", "y", "--columns", "ax", "ay",
                 "--test", str(test), "--out", str(out), *TINY]) == 0  # fmt: skip
    state = json.loads((out / "model" / "state.json").read_text())
    assert state["columns"] == {
        "series_col": "id", "time_col": "t", "label_col": "y", "columns": ["ax", "ay"]
    }  # fmt: skip
    pred = tmp_path / "pred.csv"
    # predict and evaluate take the model's column names by default
    assert main(["classify", "predict", "--model", str(out), "--data", str(test),
                 "--out", str(pred), "--no-proba"]) == 0  # fmt: skip
    frame = pd.read_csv(pred)
    assert list(frame.columns) == ["series", "prediction"] and len(frame) == 8
    assert main(["classify", "evaluate", "--model", str(out), "--data", str(test)]) == 0
    assert "scored 8 sequences" in capsys.readouterr().out


def test_bundled_ts(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["classify", "train", "--data", "bundled:italy_power_train",
                 "--out", str(out), *TINY]) == 0  # fmt: skip
    assert "trained on 67 sequences (1 feature(s), 2 classes)" in capsys.readouterr().out


def expect_error(capsys, argv, message, code=None):
    result = main(argv)
    assert result != 0 if code is None else result == code  # bad options: 2
    assert message in capsys.readouterr().err


def test_bad_inputs(tmp_path, capsys):
    series, labels = waves(12, 0)
    mixed = tmp_path / "mixed.ts"
    write_ts(mixed, series, labels)
    text = mixed.read_text().splitlines()
    text[-1] = "1,2,3:up"  # one channel where the others have two
    mixed.write_text("\n".join(text) + "\n")
    expect_error(capsys, ["classify", "train", "--data", str(mixed), "--out", str(tmp_path / "o")],
                 "1 channel(s), but the series on line")  # fmt: skip

    frame = long_table(series, labels)
    frame.loc[frame["id"] == "s3", "y"] = ["up", "down"] * (
        int((frame["id"] == "s3").sum()) // 2
    ) + (["up"] if (frame["id"] == "s3").sum() % 2 else [])
    changing = tmp_path / "changing.csv"
    frame.to_csv(changing, index=False)
    expect_error(capsys, ["classify", "train", "--data", str(changing), "--series-col", "id",
                          "--time-col", "t", "--label-col", "y", "--out", str(tmp_path / "o")],
                 "series 's3' changes label midway")  # fmt: skip

    empty = tmp_path / "empty.csv"
    frame = long_table(series, labels)
    frame.loc[frame["id"] == "s5", ["ax", "ay"]] = np.nan
    frame.to_csv(empty, index=False)
    expect_error(capsys, ["classify", "train", "--data", str(empty), "--series-col", "id",
                          "--time-col", "t", "--label-col", "y", "--out", str(tmp_path / "o")],
                 "series 's5' is empty")  # fmt: skip

    train = write_ts(tmp_path / "T_TRAIN.ts", series, labels)
    out = tmp_path / "run"
    assert main(["classify", "train", "--data", str(train), "--out", str(out), *TINY]) == 0
    other, other_labels = waves(4, 2)
    unseen = write_ts(tmp_path / "unseen.ts", other, ["sideways", *other_labels[1:]])
    expect_error(capsys, ["classify", "evaluate", "--model", str(out), "--data", str(unseen)],
                 "label(s) ['sideways'] do not occur in the training labels")  # fmt: skip
    unlabelled = write_ts(tmp_path / "unlabelled.ts", other)
    expect_error(capsys, ["classify", "evaluate", "--model", str(out), "--data", str(unlabelled)],
                 "evaluate needs labels, and it has none")  # fmt: skip
    expect_error(capsys, ["classify", "train", "--data", str(train), "--vectors", "v.txt",
                          "--out", str(tmp_path / "o")],
                 "--vectors apply to texts, not to numeric sequences", code=2)  # fmt: skip


def test_the_missing_choices_are_the_classifier_methods():
    from lstmkit.cli.classify_sequences import MISSING_CHOICES
    from lstmkit.tasks.classify.missing import METHODS

    assert ("auto", *METHODS) == MISSING_CHOICES
