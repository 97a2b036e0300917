"""The online detector: probation, bounded memory, identical scores after a save and resume; the
NAB benchmark command on two bundled NAB series."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli import main
from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.anomaly.online import OnlineDetector

NAB_MINI = Path(__file__).parent / "data" / "nab"
OPTIONS = {
    "lookback": 8,
    "hidden_size": 8,
    "probation": 120,
    "update_every": 16,
    "long": 200,
    "warm_steps": 40,
}


def _series(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(n) * 2 * np.pi / 40) + 0.1 * rng.standard_normal(n)
    x[450:455] += 4.0  # a burst
    return x


def test_probation_then_scores_and_an_alarm_at_the_burst():
    det = OnlineDetector(1, **OPTIONS)
    out = det.run(_series())
    assert (out[:120, :3] == 0).all() and np.isnan(out[:120, 3]).all()
    assert np.isfinite(out[120:, 3]).all()
    alarms = np.flatnonzero(out[:, 2])
    assert any(450 <= a <= 460 for a in alarms)
    # memory stays bounded
    assert len(det.buffer) <= det.buffer.maxlen and len(det.errors) <= 200


@pytest.mark.parametrize("horizon", [1, 3])
def test_resume_from_a_checkpoint_gives_identical_scores(horizon):
    x = _series()
    options = {**OPTIONS, "horizon": horizon}
    whole = OnlineDetector(1, **options).run(x)
    first = OnlineDetector(1, **options)
    a = first.run(x[:300])
    if horizon > 1:  # the forecasts still waiting for their rows are part of the state
        assert len(first.state_dict()["pending"]) == horizon - 1
    blob = io.BytesIO()
    torch.save(first.state_dict(), blob)  # a real round trip through bytes
    blob.seek(0)
    resumed = OnlineDetector.from_state(torch.load(blob, weights_only=False))
    b = resumed.run(x[300:])
    np.testing.assert_array_equal(np.vstack([a, b]), whole)
    # a checkpoint taken inside the probation resumes too
    early = OnlineDetector(1, **options)
    c = early.run(x[:50])
    d = OnlineDetector.from_state(early.state_dict()).run(x[50:])
    np.testing.assert_array_equal(np.vstack([c, d]), whole)


def test_multi_step_error_is_the_mean_over_the_k_origins():
    """With the net frozen after the probation (no online steps), row t's raw error must be the
    mean of |x_t - forecast| over the forecasts made for it from origins t-1 .. t-k, recomputed
    here window by window and combined in float64."""
    k, lookback, probation = 3, OPTIONS["lookback"], OPTIONS["probation"]
    x = _series(n=300)
    det = OnlineDetector(1, **{**OPTIONS, "horizon": k, "steps": 0})
    raw = det.run(x)[:, 3]
    scaled = np.clip((x - det.mean[0]) / det.std[0], -20.0, 20.0)
    windows = np.lib.stride_tricks.sliding_window_view(
        scaled, lookback
    )  # window i ends at i + L - 1
    with torch.no_grad():
        f = det.net(torch.from_numpy(windows[:, :, None].astype(np.float32)))[:, :, 0].double()
    f = f.numpy()  # f[i, j]: the forecast of row i + L + j
    for t in range(probation, x.shape[0]):
        errs = [
            abs(scaled[t] - f[t - lookback - j, j]) for j in range(k) if t - 1 - j >= probation - 1
        ]
        # float32 forecasts: batched here, one window at a time in the detector
        np.testing.assert_allclose(raw[t], np.mean(errs), rtol=0, atol=1e-6)
    assert np.isnan(raw[:probation]).all()


def test_bad_options_and_rows():
    with pytest.raises(ConfigError, match="unknown OnlineDetector option"):
        OnlineDetector(1, lookbak=3)
    with pytest.raises(ConfigError, match="risk"):
        OnlineDetector(1, risk=2.0)
    with pytest.raises(ConfigError, match="horizon must be a positive int, got 0"):
        OnlineDetector(1, horizon=0)
    with pytest.raises(DataError, match="finite"):
        OnlineDetector(1).update(float("nan"))


@pytest.mark.slow
def test_nab_benchmark_command(tmp_path, capsys):
    out = tmp_path / "nab.csv"
    report = tmp_path / "ANOMALY.md"
    code = main(
        ["detect", "benchmark", "--nab", str(NAB_MINI), "--jobs", "1", "--seeds", "0"]
        + ["--out", str(out), "--report", str(report)]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "NAB scores of the online LSTM detector on 2 series" in printed
    per = pd.read_csv(out)
    assert sorted(per["series"]) == [
        "realAdExchange/exchange-3_cpm_results.csv",
        "realTraffic/speed_7578.csv",
    ]
    assert {"alarms_per_1000", "ms_per_row", "ucr_hit"} <= set(per.columns)
    totals = pd.read_csv(tmp_path / "nab.totals.csv")
    assert set(totals["profile"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    text = report.read_text()
    assert "| Numenta HTM | 70.5 |" in text and "**Subset:** 2 of NAB's 58 series" in text
    assert f"lstmkit detect benchmark --nab {NAB_MINI}" in text
    code = main(["detect", "benchmark", "--nab", str(NAB_MINI), "--series", "nothing"])
    assert code != 0 and "no NAB series matches --series nothing" in capsys.readouterr().err


def test_nab_benchmark_command_passes_the_horizon(monkeypatch, tmp_path, capsys):
    """--horizon reaches the detector's options and the report's command (the run is stubbed)."""
    from lstmkit.tasks.anomaly import nab_benchmark

    seen = {}

    def fake_run_nab(nab_dir, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(nab_benchmark, "run_nab", fake_run_nab)
    with pytest.raises(SystemExit):
        main(["detect", "benchmark", "--nab", str(NAB_MINI), "--horizon", "3"])
    assert seen["options"] == {"horizon": 3}
    with pytest.raises(SystemExit):
        main(["detect", "benchmark", "--nab", str(NAB_MINI), "--horizon", "0"])
    assert "argument --horizon: expected a positive integer, got 0" in capsys.readouterr().err
