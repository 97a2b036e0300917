"""What the forecaster's defaults promise: refit on every row, seeded ensembles, trends and
multiplicative seasons forecast well, the hybrid and auto models, and their saved form."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.tasks.conftest import TINY, monthly_frame

from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks import Forecaster
from lstmkit.tasks.forecast import task as forecaster_module
from lstmkit.tasks.forecast.metrics import mase, seasonal_naive_scale


def _series(values: np.ndarray, start: str = "1990-01-01", freq: str = "MS") -> pd.DataFrame:
    return pd.DataFrame({"date": pd.date_range(start, periods=len(values), freq=freq), "y": values})


def test_refit_trains_on_every_row(monkeypatch):
    frame = monthly_frame(60)
    calls = []
    real_fit = forecaster_module.fit

    def spy(model, loss_fn, train, val, config):
        calls.append((train, val, config))
        return real_fit(model, loss_fn, train, val, config)

    monkeypatch.setattr(forecaster_module, "fit", spy)
    fc = Forecaster(horizon=3, lookback=6, hidden_size=4, ensemble=2, model="lstm")
    fc.fit(frame, time_col="date", targets="y", seed=0, **TINY)
    assert len(calls) == 4  # per member: holdout fit, then refit
    for member in range(2):
        (held_train, held_val, held_cfg), (refit_train, refit_val, refit_cfg) = calls[
            2 * member : 2 * member + 2
        ]
        assert held_val is not None and refit_val is None
        assert refit_cfg.max_epochs == fc.epochs[member] and refit_cfg.patience is None
        assert held_cfg.seed == refit_cfg.seed == member
        # every complete window: origins lookback .. n - horizon
        assert refit_train[2].shape[0] == 60 - 6 - 3 + 1
        assert held_train[2].shape[0] < refit_train[2].shape[0]
    # predict uses the refitted members, evaluate the ones before the refit
    assert fc.nets[0] is not fc.holdout_nets[0]


def test_the_refit_model_has_seen_the_last_rows():
    frame = monthly_frame(60)
    kwargs = {"horizon": 3, "lookback": 6, "hidden_size": 4, "ensemble": 1, "model": "lstm"}
    with_refit = Forecaster(**kwargs).fit(frame, time_col="date", targets="y", seed=0, **TINY)
    without = Forecaster(**kwargs, refit=False).fit(
        frame, time_col="date", targets="y", seed=0, **TINY
    )
    assert without.nets[0] is without.holdout_nets[0]
    # the held-out model is the same in both; the forecast differs only through the refit
    pd.testing.assert_frame_equal(with_refit.evaluate(), without.evaluate())
    assert not with_refit.predict(frame).equals(without.predict(frame))


def test_ensembles_are_seeded():
    frame = monthly_frame(60)
    kwargs = {"horizon": 3, "lookback": 6, "hidden_size": 4, "ensemble": 3, "refit": False}

    def fitted(seed: int) -> Forecaster:
        return Forecaster(**kwargs).fit(frame, time_col="date", targets="y", seed=seed, **TINY)

    a, b, c = fitted(0), fitted(0), fitted(1)
    pd.testing.assert_frame_equal(a.predict(frame), b.predict(frame))
    assert not a.predict(frame).equals(c.predict(frame))
    # members differ from each other (seeds 0, 1, 2) ...
    first = [p.detach().clone() for p in a.nets[0].parameters()]
    second = list(a.nets[1].parameters())
    assert any(not np.allclose(x, y.detach()) for x, y in zip(first, second, strict=True))
    # ... and member k of seed 1 is member k + 1 of seed 0
    for x, y in zip(a.nets[1].parameters(), c.nets[0].parameters(), strict=True):
        assert np.allclose(x.detach(), y.detach())


def _holdout_mase(fc: Forecaster, frame: pd.DataFrame, horizon: int, season: int) -> float:
    train = frame.iloc[:-horizon]
    fc.fit(train, time_col="date", targets="y", seed=0, enable_progress_bar=False)
    pred = fc.predict(train)["y"].to_numpy()
    actual = frame["y"].to_numpy()[-horizon:]
    return mase(actual, pred, seasonal_naive_scale(train["y"].to_numpy(), season))


@pytest.mark.slow
def test_a_linear_trend_is_continued():
    rng = np.random.default_rng(0)
    t = np.arange(120)
    values = 100 + 2.0 * t + rng.normal(0, 1.0, t.size)  # leaves the training range by 20 %
    frame = _series(values)
    score = _holdout_mase(Forecaster(horizon=12, ensemble=3), frame, 12, 12)
    # seasonal naive lags 12 steps of trend behind: its MASE here is about 1.0
    assert score < 0.35, score


@pytest.mark.slow
def test_multiplicative_seasonality_is_forecast_in_logs():
    rng = np.random.default_rng(1)
    t = np.arange(144)
    level = 100 * np.exp(0.012 * t)
    values = level * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.02, t.size))
    frame = _series(values)
    fc = Forecaster(horizon=12, ensemble=3)
    score = _holdout_mase(fc, frame, 12, 12)
    assert fc.log_targets == [True]
    assert score < 0.6, score  # seasonal naive misses the year's growth: about 2.0


def test_window_norm_and_transform_are_checked():
    with pytest.raises(ConfigError, match="window_norm must be one of 'last', .* got 'max'"):
        Forecaster(horizon=2, window_norm="max")
    with pytest.raises(ConfigError, match="transform must be one of 'auto', .* got 'sqrt'"):
        Forecaster(horizon=2, transform="sqrt")
    with pytest.raises(ConfigError, match="model must be one of 'lstm', .* got 'prophet'"):
        Forecaster(horizon=2, model="prophet")
    with pytest.raises(ConfigError, match="ensemble must be a positive int, got 0"):
        Forecaster(horizon=2, ensemble=0)
    with pytest.raises(ConfigError, match="refit must be True or False, got 'yes'"):
        Forecaster(horizon=2, refit="yes")


def test_logged_model_refuses_a_non_positive_history():
    frame = _series(np.exp(np.linspace(1, 3, 60)) * (1.2 + np.sin(np.arange(60))))
    fc = Forecaster(horizon=3, lookback=6, hidden_size=4, ensemble=1, transform="log")
    fc.fit(frame, time_col="date", targets="y", seed=0, **TINY)
    bad = frame.copy()
    bad.loc[50, "y"] = -1.0
    with pytest.raises(DataError, match="target 'y' is modelled in logs .* zero or a negative"):
        fc.predict(bad)


@pytest.mark.parametrize("model", ["hybrid", "lstm"])
def test_save_load_round_trip_of_an_ensemble(model, tmp_path):
    frame = monthly_frame(60)
    fc = Forecaster(horizon=3, lookback=12, hidden_size=4, ensemble=2, model=model)
    fc.fit(frame, time_col="date", targets="y", seed=0, **TINY)
    loaded = Forecaster.load(fc.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(fc.predict(frame), loaded.predict(frame))
    pd.testing.assert_frame_equal(fc.evaluate(frame), loaded.evaluate(frame))
    assert loaded.model == model and loaded.epochs == fc.epochs
    state = json.loads((tmp_path / "m" / "state.json").read_text())
    assert state["log_targets"] == [False] and len(state["epochs"]) == 2


def test_a_model_saved_before_ensembles_still_loads(tmp_path):
    frame = monthly_frame(60)
    fc = Forecaster(
        horizon=3,
        lookback=6,
        hidden_size=4,
        ensemble=1,
        refit=False,
        model="lstm",
        window_norm="none",
        transform="none",
    )
    fc.fit(frame, time_col="date", targets="y", seed=0, **TINY)
    path = fc.save(tmp_path / "m")
    # rewrite it in the 0.1 layout: no ensemble keys, one network's tensor names
    from safetensors.torch import load_file, save_file

    saved = json.loads((path / "config.json").read_text())
    for key in ("model", "window_norm", "transform", "ensemble", "refit"):
        del saved["config"][key]
    del saved["weights_sha256"]  # 0.1 recorded no digest
    (path / "config.json").write_text(json.dumps(saved))
    tensors = load_file(path / "weights.safetensors")
    save_file(
        {k.removeprefix("members.0."): v for k, v in tensors.items()}, path / "weights.safetensors"
    )
    old = Forecaster.load(path)
    assert old.ensemble == 1 and old.window_norm == "none"
    pd.testing.assert_frame_equal(old.predict(frame), fc.predict(frame))


def test_auto_keeps_the_best_on_validation_and_says_so(tmp_path):
    pytest.importorskip("statsforecast")
    frame = monthly_frame(72)
    fc = Forecaster(horizon=3, lookback=12, hidden_size=4, ensemble=1, model="auto")
    fc.fit(frame, time_col="date", targets="y", seed=0, **TINY)
    assert set(fc.selection) == {"lstm", "hybrid", "ets"}
    assert fc.model == min(fc.selection, key=fc.selection.get)
    loaded = Forecaster.load(fc.save(tmp_path / "m"))
    assert loaded.model == fc.model and loaded.selection == pytest.approx(fc.selection)
    pd.testing.assert_frame_equal(fc.predict(frame), loaded.predict(frame))
    with pytest.raises(ConfigError, match="model='auto' chooses on the val part"):
        Forecaster(horizon=3, model="auto", val_size=0).fit(
            frame, time_col="date", targets="y", **TINY
        )


def test_ets_model_forecasts_without_a_network(tmp_path):
    sf = pytest.importorskip("statsforecast.models")
    frame = monthly_frame(72)
    fc = Forecaster(horizon=3, lookback=12, model="ets", quantiles=(0.1, 0.5, 0.9))
    fc.fit(frame, time_col="date", targets="y", **TINY)
    assert fc.nets == [] and fc.history is None
    pred = fc.predict(frame)
    expected = sf.AutoETS(season_length=12).fit(frame["y"].to_numpy()).predict(3, level=[80])
    np.testing.assert_allclose(pred["y"], expected["mean"])
    np.testing.assert_allclose(pred["y_q0.1"], expected["lo-80"])
    np.testing.assert_allclose(pred["y_q0.9"], expected["hi-80"])
    loaded = Forecaster.load(fc.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(pred, loaded.predict(frame))
    with pytest.raises(ConfigError, match="it has no encoder"):
        fc.encoder_inputs(frame)
