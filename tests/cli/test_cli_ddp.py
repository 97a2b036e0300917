"""End to end on 2 CPU processes: ``lstmkit forecast train --devices 2 --strategy ddp``.

Lightning's "ddp" starts the command again for the second process, so the command runs as a
subprocess (the console script; pytest cannot be started again). The library's DDP training,
compared with one process, is tested in ``tests/train/test_ddp.py``; here the command's side: the
flags reach the trainer, two fits (hold-out, then the refit on every row) run in the same
processes, the report is printed once and one loadable model is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.train.ddp_run import run_ddp

from lstmkit.tasks import Forecaster

LSTMKIT = Path(sys.executable).with_name("lstmkit")


@pytest.mark.slow
@pytest.mark.skipif(not LSTMKIT.is_file(), reason="needs the lstmkit console script")
def test_forecast_train_on_two_processes(tmp_path):
    t = np.arange(72)
    rng = np.random.default_rng(0)
    y = 20 + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, t.size)
    dates = pd.date_range("2000-01-01", periods=72, freq="MS")
    pd.DataFrame({"date": dates, "y": y}).to_csv(tmp_path / "series.csv", index=False)
    out = tmp_path / "out"
    argv = [
        str(LSTMKIT),
        "forecast",
        "train",
        "--data",
        str(tmp_path / "series.csv"),
        "--time-col",
        "date",
        "--target",
        "y",
        "--horizon",
        "3",
        "--model",
        "lstm",
        "--ensemble",
        "1",
        "--hidden-size",
        "8",
        "--epochs",
        "2",
        "--batch-size",
        "9",
        "--out",
        str(out),
        "--devices",
        "2",
        "--strategy",
        "ddp",
        "--precision",
        "32",
        "--num-nodes",
        "1",
    ]
    stdout, _ = run_ddp(argv, cwd=tmp_path)
    assert stdout.count("wrote:") == 1, stdout  # rank 0's report only
    assert stdout.count("MAE") == 1, stdout
    model_dir = out / "model"
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "config.json",
        "state.json",
        "weights.safetensors",
    ]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no half-written leftovers
    forecast = Forecaster.load(model_dir).predict(pd.read_csv(tmp_path / "series.csv"))
    assert len(forecast) == 3 and np.isfinite(forecast["y"]).all()
