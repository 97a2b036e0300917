"""``lstmkit forecast predict`` loads no training, plotting or text-task dependencies.

Most of a prediction's wall time used to be imports (Lightning alone took seconds); the command
must import what loading a model and forecasting need, and no more. Checked in a fresh interpreter,
since this test session has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from lstmkit.cli import main
from lstmkit.data import dataset_path

NOT_FOR_PREDICT = (
    "lightning",
    "matplotlib",
    "numba",
    "tokenizers",
    "sacrebleu",
    "sklearn",
    "lstmkit.train.module",
    "lstmkit.viz",
    "lstmkit.tasks.classifier",
    "lstmkit.tasks.tagger",
    "lstmkit.tasks.seq2seq",
    "lstmkit.tasks.language_model",
    "lstmkit.tasks.anomaly",
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "out"
    data = str(dataset_path("elnino_sst_monthly"))
    code = main(
        ["forecast", "train", "--data", data, "--time-col", "date", "--target", "sst"]
        + ["--horizon", "3", "--hidden-size", "8", "--epochs", "1", "--threads", "1"]
        + ["--out", str(out)]
    )
    assert code == 0
    return out / "model", data


def test_forecast_predict_imports_no_training_or_plotting_modules(model_dir, tmp_path):
    model, data = model_dir
    out = tmp_path / "forecast.csv"
    argv = ["forecast", "predict", "--model", str(model), "--data", data, "--out", str(out)]
    code = (
        "import json, sys\n"
        "from lstmkit.cli import main\n"
        f"code = main({argv!r})\n"
        f"print(json.dumps([code, [m for m in {NOT_FOR_PREDICT!r} if m in sys.modules]]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    exit_code, loaded = json.loads(run.stdout.strip().splitlines()[-1])
    assert exit_code == 0
    assert loaded == []
    assert len(pd.read_csv(out)) == 3
