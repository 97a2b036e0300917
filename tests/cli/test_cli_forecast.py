"""End to end: ``lstmkit forecast train|predict|backtest`` and ``lstmkit quickstart``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli import main
from lstmkit.data import dataset_path

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = ["--hidden-size", "8", "--epochs", "2", "--threads", "1"]


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained once by the CLI on the bundled El Nino series."""
    out = tmp_path_factory.mktemp("train") / "out"
    code = main(
        [
            "forecast",
            "train",
            "--data",
            str(dataset_path("elnino_sst_monthly")),
            "--time-col",
            "date",
            "--target",
            "sst",
            "--horizon",
            "6",
            "--lookback",
            "12",
            "--quantiles",
            "0.1,0.5,0.9",
            "--seed",
            "0",
            *SMALL,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_train_writes_model_metrics_and_plots(trained):
    assert sorted(p.name for p in (trained / "model").iterdir()) == [
        "config.json",
        "state.json",
        "weights.safetensors",
    ]
    metrics = pd.read_csv(trained / "metrics.csv")
    # statsforecast is in the test extra, so the statistical baselines are there too
    assert metrics["forecast"].tolist() == [
        "model",
        "naive",
        "seasonal_naive",
        "ets",
        "arima",
        "theta",
    ]
    assert {"MAE", "RMSE", "sMAPE", "MASE"} <= set(metrics.columns)
    for name in ("forecast.png", "loss.png"):
        assert (trained / name).read_bytes()[:8] == PNG
    assert (trained / "run" / "checkpoints" / "last.ckpt").is_file()
    assert json.loads((trained / "model" / "config.json").read_text())["task"] == "Forecaster"


def test_train_prints_the_table_and_every_path(tmp_path, capsys):
    out = tmp_path / "o"
    code = main(
        [
            "forecast",
            "train",
            "--data",
            str(dataset_path("us_macro_quarterly")),
            "--time-col",
            "date",
            "--target",
            "realgdp",
            "--target",
            "realcons",
            "--covariates",
            "unemp",
            "--future-covariates",
            "infl",
            "--horizon",
            "4",
            *SMALL,
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "seasonal_naive" in printed and "MASE" in printed and "naive" in printed
    for path in ("model", "metrics.csv", "loss.png", "run"):
        assert str(out / path) in printed
    assert str(out / "forecast_realgdp.png") in printed


def test_predict_writes_the_next_horizon(trained, tmp_path, capsys):
    csv = tmp_path / "pred.csv"
    code = main(
        [
            "forecast",
            "predict",
            "--model",
            str(trained / "model"),
            "--data",
            str(dataset_path("elnino_sst_monthly")),
            "--out",
            str(csv),
            "--plot",
            str(tmp_path / "pred.png"),
            "--threads",
            "1",
        ]
    )
    assert code == 0
    frame = pd.read_csv(csv)
    assert list(frame.columns) == ["date", "sst", "sst_q0.1", "sst_q0.5", "sst_q0.9"]
    assert frame["date"].tolist()[:2] == ["2011-01-01", "2011-02-01"] and len(frame) == 6
    assert (tmp_path / "pred.png").read_bytes()[:8] == PNG
    assert str(csv) in capsys.readouterr().out


def test_backtest_prints_the_table(trained, tmp_path, capsys):
    code = main(
        [
            "forecast",
            "backtest",
            "--model",
            str(trained / "model"),
            "--data",
            str(dataset_path("elnino_sst_monthly")),
            "--windows",
            "3",
            "--out",
            str(tmp_path / "bt.csv"),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "3 window(s) of 6 steps" in printed
    for row in ("model", "naive", "seasonal_naive"):
        assert row in printed
    assert len(pd.read_csv(tmp_path / "bt.csv")) == 18


@pytest.mark.slow
def test_quickstart_runs_end_to_end(tmp_path, capsys):
    code = main(["quickstart", "--out", str(tmp_path / "qs"), "--epochs", "2"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "seasonal_naive" in printed and "backtest" in printed
    for name in ("forecast.png", "loss.png", "forecast.csv", "backtest.csv", "metrics.csv"):
        assert str(tmp_path / "qs" / name) in printed
        assert (tmp_path / "qs" / name).is_file()
    assert len(pd.read_csv(tmp_path / "qs" / "forecast.csv")) == 12


# --- bad input: exit code 2, a message that names the problem, no output left behind ----------


def _train_error(tmp_path, capsys, data, *extra, target="y", time_col="date", horizon="3", code=1):
    """Run a failing ``forecast train``: exit ``code`` (1 a data error, 2 a usage error), one
    ``lstmkit: error:`` line, no traceback, no output directory."""
    expected = code
    out = tmp_path / "out"
    code = main(
        [
            "forecast",
            "train",
            "--data",
            str(data),
            "--time-col",
            time_col,
            "--target",
            target,
            "--horizon",
            horizon,
            *SMALL,
            *extra,
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == expected
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("lstmkit: error:")
    assert not out.exists()
    return err


def _csv(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _series(n=60):
    return pd.DataFrame(
        {
            "date": pd.date_range("2000-01-01", periods=n, freq="MS").strftime("%Y-%m-%d"),
            "y": np.sin(np.arange(n) / 2.0),
        }
    )


def test_missing_file(tmp_path, capsys):
    err = _train_error(tmp_path, capsys, tmp_path / "nope.csv")
    assert "lstmkit: error: file not found:" in err and "nope.csv" in err


def test_unreadable_csv(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(b'date,y\n2000-01-01,"1\n')
    assert "could not read" in _train_error(tmp_path, capsys, path)


def test_absent_target_lists_the_columns(tmp_path, capsys):
    err = _train_error(tmp_path, capsys, _csv(tmp_path, _series()), target="sales")
    assert "target column 'sales' not found; the columns present are ['date', 'y']" in err


def test_absent_time_column(tmp_path, capsys):
    err = _train_error(tmp_path, capsys, _csv(tmp_path, _series()), time_col="when")
    assert "time column 'when' not found; the columns present are ['date', 'y']" in err


def test_non_numeric_target(tmp_path, capsys):
    frame = _series().astype({"y": object})
    frame.loc[6, "y"] = "oops"
    err = _train_error(tmp_path, capsys, _csv(tmp_path, frame))
    assert "column 'y' must be numeric, but has 'oops' at data row 7" in err


def test_series_too_short(tmp_path, capsys):
    err = _train_error(tmp_path, capsys, _csv(tmp_path, _series(20)), "--lookback", "12")
    assert "series of 20 rows is too short" in err and "the minimum length is 21" in err
    # without --lookback the default is clipped to what the series allows; a series that cannot
    # hold even lookback 1 is still an error
    err = _train_error(tmp_path, capsys, _csv(tmp_path, _series(9)))
    assert "series of 9 rows is too short" in err


def test_duplicated_timestamps(tmp_path, capsys):
    frame = _series()
    frame = pd.concat([frame, frame.iloc[[5]]])
    err = _train_error(tmp_path, capsys, _csv(tmp_path, frame))
    assert "duplicated timestamp 2000-06-01" in err


@pytest.mark.parametrize("horizon", ["0", "-1"])
def test_horizon_must_be_positive(tmp_path, capsys, horizon):
    err = _train_error(tmp_path, capsys, _csv(tmp_path, _series()), horizon=horizon, code=2)
    assert f"--horizon must be a positive number of steps, got {horizon}" in err


def test_model_directory_missing_or_corrupt(trained, tmp_path, capsys):
    data = str(dataset_path("elnino_sst_monthly"))
    out = tmp_path / "p.csv"
    assert (
        main(
            [
                "forecast",
                "predict",
                "--model",
                str(tmp_path / "none"),
                "--data",
                data,
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "no model at" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in (trained / "model").iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "config.json").write_text("{")
    assert main(["forecast", "backtest", "--model", str(broken), "--data", data]) == 1
    assert "config.json is corrupt" in capsys.readouterr().err
    header = json.loads((trained / "model" / "config.json").read_text())
    header["format_version"] = 0
    (broken / "config.json").write_text(json.dumps(header))
    assert (
        main(["forecast", "predict", "--model", str(broken), "--data", data, "--out", str(out)])
        == 1
    )
    assert "format version 0" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_benchmark_writes_the_report_and_json(tmp_path, capsys, monkeypatch):
    import functools

    from lstmkit.tasks.forecast import benchmark as fb

    # the CLI's own method table and runner, with networks small enough for a test
    monkeypatch.setattr(fb, "LSTM_METHODS", {"default": {"hidden_size": 4, "ensemble": 1}})
    monkeypatch.setattr(
        fb, "run_benchmark", functools.partial(fb.run_benchmark, train_options={"max_epochs": 2})
    )
    data = _csv(tmp_path, _series(48))
    out = tmp_path / "bench.md"
    args = ["forecast", "benchmark", str(data), "--seeds", "1", "--methods", "default"]
    code = main([*args, "--horizon", "3", "--out", str(out), "-q"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "mean MASE default" in printed and "mean MASE seasonal_naive" in printed
    report = out.read_text()
    assert "lstmkit forecast benchmark" in report and "| default |" in report
    saved = json.loads(out.with_suffix(".json").read_text())
    assert set(saved["results"]["data"]) >= {"default", "naive", "seasonal_naive"}
