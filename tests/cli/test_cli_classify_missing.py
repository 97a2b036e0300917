"""``lstmkit classify`` on numeric sequences with gaps (empty cells) and irregular time stamps:
train, predict and evaluate from a long table; ``classify benchmark --missing-rates``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lstmkit.cli
import lstmkit.tasks.classify.benchmark as benchmark
from lstmkit.cli import main
from lstmkit.data.ts_format import write_ts

TINY = ["--hidden-size", "4", "--epochs", "2", "--threads", "1", "--seed", "0"]


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    if "classify" not in lstmkit.cli.COMMANDS:
        monkeypatch.setattr(lstmkit.cli, "COMMANDS", (*lstmkit.cli.COMMANDS, "classify"))


def gappy_table(n: int, seed: int) -> pd.DataFrame:
    """Irregular times (gaps 0.5-3), a third of the cells empty, label "up" when ax rises."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        steps = int(rng.integers(8, 14))
        t = np.cumsum(rng.uniform(0.5, 3.0, steps))
        up = i % 2 == 0
        ax = (t if up else -t) / t[-1] + 0.1 * rng.standard_normal(steps)
        ay = rng.standard_normal(steps)
        for k in range(steps):
            rows.append(
                {
                    "id": f"s{i}",
                    "t": t[k],
                    "y": "up" if up else "down",
                    "ax": ax[k] if k == 0 or rng.random() > 0.33 else None,
                    "ay": ay[k] if k == 1 or rng.random() > 0.33 else None,
                }
            )
    return pd.DataFrame(rows)


def test_long_table_with_gaps_and_irregular_times(tmp_path, capsys):
    data, test = tmp_path / "train.csv", tmp_path / "test.csv"
    gappy_table(16, 0).to_csv(data, index=False)
    gappy_table(6, 1).to_csv(test, index=False)
    out = tmp_path / "run"
    assert main(["classify", "train", "--data", str(data), "--series-col", "id",
                 "--time-col", "t", "--label-col", "y", "--test", str(test),
                 "--out", str(out), *TINY]) == 0  # fmt: skip
    assert "gaps/irregular times read as 'linear'" in capsys.readouterr().out
    pred = tmp_path / "pred.csv"
    assert main(["classify", "predict", "--model", str(out), "--data", str(test),
                 "--out", str(pred)]) == 0  # fmt: skip
    assert len(pd.read_csv(pred)) == 6
    assert main(["classify", "evaluate", "--model", str(out), "--data", str(test)]) == 0
    assert "scored 6 sequences" in capsys.readouterr().out
    assert main(["classify", "train", "--data", str(data), "--series-col", "id",
                 "--time-col", "t", "--label-col", "y", "--missing", "decay",
                 "--out", str(tmp_path / "decay"), *TINY]) == 0  # fmt: skip
    assert "read as 'decay'" in capsys.readouterr().out


def test_missing_value_benchmark(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)

    def waves(n):
        xs = [np.sin(np.linspace(0, 3, 12) * (1 + i % 2)) + 0.1 * rng.standard_normal(12)
              for i in range(n)]  # fmt: skip
        return xs, ["a" if i % 2 else "b" for i in range(n)]

    folder = tmp_path / "sets"
    folder.mkdir()
    write_ts(folder / "W_TRAIN.ts", *waves(10))
    write_ts(folder / "W_TEST.ts", *waves(6))

    def small(options, fit_options):  # the default classifier, small and short
        def run(train_x, train_y, test_x, *, seed):
            from lstmkit.tasks.classify import SequenceClassifier

            clf = SequenceClassifier(None, hidden_size=4, conv_branch=False, **options)
            clf.fit(train_x, train_y, seed=seed, max_epochs=2, enable_progress_bar=False)
            return clf.predict(test_x)

        return run

    monkeypatch.setattr(benchmark, "_default", small)
    out = tmp_path / "missing.md"
    argv = ["classify", "benchmark", str(folder), "--missing-rates", "0.5",
            "--missing-methods", "mask", "mean", "--seeds", "0", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = out.read_text()
    assert "| set | rate | complete | mask | mean |" in text
    assert "| W | 0.5 |" in text
    results = json.loads(out.with_suffix(".json").read_text())
    assert {(r["rate"], r["method"]) for r in results["runs"]} == {
        (0.0, "complete"),
        (0.5, "mask"),
        (0.5, "mean"),
    }
    capsys.readouterr()
    assert main(["classify", "benchmark", str(folder), "--missing-methods", "mask"]) != 0
    assert "--missing-methods needs --missing-rates" in capsys.readouterr().err
