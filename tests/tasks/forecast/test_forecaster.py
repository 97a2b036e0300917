"""Forecaster on tiny synthetic data: fit, predict, evaluate, backtest, save/load, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.tasks.conftest import TINY, monthly_frame

from lstmkit.data import read_table
from lstmkit.errors import ConfigError, DataError, ModelFileError
from lstmkit.tasks import Forecaster
from lstmkit.tasks.forecast.task import detect_season, season_from_freq


@pytest.fixture(scope="module")
def fitted() -> Forecaster:
    # the lstm alone reads only its lookback; the hybrid's smoothing and the combination's ETS
    # read the whole history
    fc = Forecaster(
        horizon=3, lookback=12, hidden_size=8, quantiles=(0.1, 0.9), model="lstm", combine="none"
    )
    return fc.fit(monthly_frame(), time_col="date", targets="y", seed=0, **TINY)


def test_predict_gives_future_timestamps_and_ordered_quantiles(fitted, monthly):
    out = fitted.predict(monthly)
    assert list(out.columns) == ["date", "y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert list(out["date"]) == list(pd.date_range("2010-01-01", periods=3, freq="MS"))
    assert (out["y_q0.1"] <= out["y_q0.5"]).all() and (out["y_q0.5"] <= out["y_q0.9"]).all()
    assert np.array_equal(out["y"], out["y_q0.5"])  # the point forecast is the median
    assert fitted.quantiles == (0.1, 0.5, 0.9)  # 0.5 added


def test_predict_uses_only_the_end_of_the_history(fitted, monthly):
    assert fitted.predict(monthly).equals(fitted.predict(monthly.tail(12)))
    with pytest.raises(
        DataError, match="history has 11 rows; the model needs at least lookback=12"
    ):
        fitted.predict(monthly.tail(11))


def test_evaluate_shows_the_model_beside_both_baselines(fitted):
    table = fitted.evaluate()
    assert list(table.index) == ["model", "naive", "seasonal_naive"]
    assert list(table.columns) == ["MAE", "RMSE", "sMAPE", "MASE", "coverage"]
    assert np.isfinite(table[["MAE", "RMSE", "sMAPE", "MASE"]].to_numpy()).all()
    # the synthetic series is nearly periodic: seasonal naive is far better than naive
    assert table.loc["seasonal_naive", "MASE"] < table.loc["naive", "MASE"]


def test_backtest_forecasts_the_last_windows(fitted, monthly):
    result = fitted.backtest(monthly, windows=2)
    frame = result.forecasts
    assert len(frame) == 2 * 3
    assert sorted(set(frame["origin"])) == list(pd.to_datetime(["2009-07-01", "2009-10-01"]))
    assert frame["y_actual"].tolist() == pytest.approx(monthly["y"].iloc[-6:].tolist())
    assert list(result.metrics.index) == ["model", "naive", "seasonal_naive"]
    assert "seasonal_naive" in str(result)
    with pytest.raises(DataError, match="too short for 40 backtest windows: it needs"):
        fitted.backtest(monthly, windows=40)


def test_save_load_round_trip_gives_identical_predictions(fitted, monthly, tmp_path):
    path = fitted.save(tmp_path / "model")
    loaded = Forecaster.load(path)
    pd.testing.assert_frame_equal(fitted.predict(monthly), loaded.predict(monthly))
    assert loaded.lookback == 12 and loaded.season == 12
    assert loaded.history is not None and len(loaded.history) == len(fitted.history)
    pd.testing.assert_frame_equal(
        fitted.backtest(monthly, windows=2).metrics, loaded.backtest(monthly, windows=2).metrics
    )


def test_load_refuses_bad_directories(fitted, tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        Forecaster.load(tmp_path / "missing")
    path = fitted.save(tmp_path / "model")
    header = json.loads((path / "config.json").read_text())
    header["config"]["hidden_size"] = 16
    (path / "config.json").write_text(json.dumps(header))
    with pytest.raises(ModelFileError, match="has shape .* the model expects"):
        Forecaster.load(path)
    del header["config"]["columns"]
    (path / "config.json").write_text(json.dumps(header))
    with pytest.raises(ModelFileError, match="config.json or state.json is incomplete: no key"):
        Forecaster.load(path)


def test_default_lookback_comes_from_horizon_and_season(monthly):
    fc = Forecaster(horizon=3, hidden_size=4).fit(monthly, time_col="date", targets="y", **TINY)
    assert fc.season == 12
    assert fc.lookback == 24  # max(2 * 3, 2 * 12)
    short = Forecaster(horizon=3, hidden_size=4).fit(
        monthly.head(60), time_col="date", targets="y", **TINY
    )
    assert short.lookback < 24  # clipped so the train part still has windows


def test_multivariate_targets_with_past_and_future_covariates(monthly):
    fc = Forecaster(horizon=2, lookback=6, hidden_size=8, quantiles=(0.25, 0.75))
    fc.fit(
        monthly,
        time_col="date",
        targets=["y", "y2"],
        past_covariates=["temp"],
        future_covariates=["promo"],
        **TINY,
    )
    future = pd.DataFrame(
        {"date": pd.date_range("2010-01-01", periods=2, freq="MS"), "promo": [1.0, 0.0]}
    )
    out = fc.predict(monthly, future=future)
    assert list(out.columns) == [
        "date",
        "y",
        "y_q0.25",
        "y_q0.5",
        "y_q0.75",
        "y2",
        "y2_q0.25",
        "y2_q0.5",
        "y2_q0.75",
    ]
    assert len(out) == 2
    with pytest.raises(DataError, match="uses known-future covariates \\['promo'\\]: pass future="):
        fc.predict(monthly)
    with pytest.raises(DataError, match="future covariates lack timestamp 2010-02-01"):
        fc.predict(monthly, future=future.head(1))
    table = fc.evaluate()
    assert list(table.index) == ["model", "naive", "seasonal_naive"]


def test_many_series_share_one_model():
    a = monthly_frame(seed=1).assign(store="a")
    b = monthly_frame(seed=2).assign(store="b", y=lambda f: f["y"] * 3)
    data = pd.concat([a, b])
    fc = Forecaster(horizon=3, lookback=12, hidden_size=8, quantiles=None)
    fc.fit(data, time_col="date", targets="y", id_col="store", **TINY)
    out = fc.predict(data)
    assert list(out.columns) == ["store", "date", "y"]
    assert out["store"].tolist() == ["a"] * 3 + ["b"] * 3
    frame = fc.backtest(data, windows=1).forecasts
    assert sorted(set(frame["store"])) == ["a", "b"]


def test_autoregressive_decoder(monthly):
    fc = Forecaster(
        horizon=4, lookback=12, hidden_size=8, decoder="autoregressive", quantiles=(0.1, 0.9)
    )
    fc.fit(monthly, time_col="date", targets="y", future_covariates=["promo"], **TINY)
    future = pd.DataFrame(
        {"date": pd.date_range("2010-01-01", periods=4, freq="MS"), "promo": [1.0, 0.0, 0.0, 0.0]}
    )
    out = fc.predict(monthly, future=future)
    assert len(out) == 4 and (out["y_q0.1"] <= out["y_q0.9"]).all()


def test_lstm_options_pass_through(monthly):
    fc = Forecaster(
        horizon=2,
        lookback=6,
        hidden_size=8,
        num_layers=2,
        dropout=0.1,
        peephole=True,
        layer_norm=True,
        impl="reference",
    )
    fc.fit(monthly, time_col="date", targets="y", max_epochs=1, enable_progress_bar=False)
    assert fc.net.encoder.peephole and fc.net.encoder.num_layers == 2
    assert len(fc.predict(monthly)) == 2


def test_integer_time_column_and_detected_season():
    t = np.arange(200)
    frame = pd.DataFrame({"step": t * 5, "v": np.sin(2 * np.pi * t / 10)})
    fc = Forecaster(horizon=2, lookback=10, hidden_size=4)
    fc.fit(frame, time_col="step", targets="v", **TINY)
    assert fc.season == 10
    assert fc.predict(frame)["step"].tolist() == [1000, 1005]


def test_season_lookup():
    assert [season_from_freq(f) for f in ("MS", "ME", "QS-OCT", "D", "h", "W-SUN", "min")] == [
        12,
        12,
        4,
        7,
        24,
        52,
        60,
    ]
    assert season_from_freq(None) is None
    assert detect_season(np.sin(2 * np.pi * np.arange(100) / 7)) == 7
    assert detect_season(np.random.default_rng(0).standard_normal(100)) == 1


# --- bad input: every error names the problem --------------------------------------------------


def _fit(data, **kwargs):
    fc = Forecaster(
        horizon=kwargs.pop("horizon", 3), lookback=kwargs.pop("lookback", 6), hidden_size=4
    )
    return fc.fit(
        data,
        time_col=kwargs.pop("time_col", "date"),
        targets=kwargs.pop("targets", "y"),
        **TINY,
        **kwargs,
    )


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found: .*nope.csv"):
        _fit(tmp_path / "nope.csv")


def test_unreadable_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b'date,y\n2000-01-01,"1\n')
    with pytest.raises(DataError, match="could not read .*bad.csv as CSV"):
        _fit(path)


def test_absent_columns_list_the_columns_present(monthly):
    with pytest.raises(
        DataError, match=r"target column 'sales' not found; the columns present are \['date', 'y'"
    ):
        _fit(monthly, targets="sales")
    with pytest.raises(DataError, match=r"time column 'when' not found; the columns present are"):
        _fit(monthly, time_col="when")


def test_non_numeric_target_names_row_and_value(monthly):
    bad = monthly.astype({"y": object})
    bad.loc[4, "y"] = "n/a"
    with pytest.raises(DataError, match=r"column 'y' must be numeric, but has 'n/a' at data row 5"):
        _fit(bad)


def test_series_too_short_says_the_minimum(monthly):
    with pytest.raises(DataError, match=r"too short.*the minimum length is"):
        _fit(monthly.head(20), lookback=12)


def test_duplicated_timestamps(monthly):
    dup = pd.concat([monthly, monthly.iloc[[3]]])
    with pytest.raises(DataError, match="duplicated timestamp 2000-04-01"):
        _fit(dup)


@pytest.mark.parametrize("horizon", [0, -2])
def test_horizon_must_be_positive(horizon):
    with pytest.raises(ConfigError, match=f"horizon must be a positive int, got {horizon}"):
        Forecaster(horizon=horizon)


def test_bad_options_are_named():
    with pytest.raises(ConfigError, match="decoder must be one of 'direct', 'autoregressive'"):
        Forecaster(horizon=2, decoder="seq2seq")
    with pytest.raises(ConfigError, match=r"quantiles must be numbers in \(0, 1\)"):
        Forecaster(horizon=2, quantiles=(0.1, 1.5))
    with pytest.raises(ConfigError, match="unknown option\\(s\\) peepholes"):
        Forecaster(horizon=2, peepholes=True)
    with pytest.raises(ConfigError, match="needs a trained model"):
        Forecaster(horizon=2).predict(monthly_frame())


def test_fit_accepts_a_series_table(monthly):
    table = read_table(monthly, time_col="date", targets="y")
    fc = Forecaster(horizon=2, lookback=6, hidden_size=4).fit(table, **TINY)
    assert fc.columns["targets"] == ["y"]


def test_refit_chooses_season_and_lookback_from_the_new_data(monthly):
    fc = Forecaster(horizon=2, hidden_size=4).fit(monthly, time_col="date", targets="y", **TINY)
    assert (fc.season, fc.lookback) == (12, 24)
    quarterly = monthly.assign(date=pd.date_range("1990-01-01", periods=len(monthly), freq="QS"))
    fc.fit(quarterly, time_col="date", targets="y", **TINY)
    assert (fc.season, fc.lookback) == (4, 8)


def test_encoder_inputs_are_the_scaled_last_window_less_its_last_value(fitted, monthly):
    past = fitted.encoder_inputs(monthly)
    assert tuple(past.shape) == (1, 12, 1)
    assert fitted.log_targets == [False]  # the synthetic series' swings do not grow with it
    scaler = fitted._target_scaler
    scaled = scaler.transform(monthly[["y"]].to_numpy()[-12:])
    assert np.allclose(past[0].numpy(), scaled - scaled[-1], atol=1e-6)
