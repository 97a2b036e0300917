"""``lstmkit forecast predict`` loads no training, plotting or text-task dependencies.

Most of a prediction's wall time used to be imports (Lightning alone took seconds); the command
must import what loading a model and forecasting need, and no more. Checked in a fresh interpreter,
since this test session has imported everything already.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.import_probe import loaded_by

from lstmkit.cli import main
from lstmkit.data import dataset_path


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
    code = f"from lstmkit.cli import main\nassert main({argv!r}) == 0"
    assert loaded_by(code) == []
    assert len(pd.read_csv(out)) == 3
