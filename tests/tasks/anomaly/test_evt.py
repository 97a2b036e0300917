"""SPOT / DSPOT against known distributions' quantiles, the GPD fit, alarms with suppression and
hysteresis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import ConfigError
from lstmkit.tasks.anomaly import evt


def test_gpd_fit_recovers_known_shapes():
    rng = np.random.default_rng(0)
    gamma, sigma = evt.fit_gpd(rng.exponential(2.0, 5000))  # GPD with gamma 0, sigma 2
    assert abs(gamma) < 0.05 and sigma == pytest.approx(2.0, rel=0.06)
    # GPD(gamma=0.3, sigma=1) by inversion: Y = sigma / gamma * (U ** -gamma - 1)
    u = rng.uniform(size=5000)
    gamma, sigma = evt.fit_gpd((u**-0.3 - 1) / 0.3)
    assert gamma == pytest.approx(0.3, abs=0.06) and sigma == pytest.approx(1.0, rel=0.1)
    # a bounded tail (gamma < 0): Y = sigma / gamma * (U ** -gamma - 1) with gamma = -0.4
    gamma, _ = evt.fit_gpd((u**0.4 - 1) / -0.4)
    assert gamma == pytest.approx(-0.4, abs=0.06)


@pytest.mark.parametrize(
    ("draw", "risk", "want"),
    [
        (lambda rng, n: rng.exponential(1.0, n), 1e-3, -math.log(1e-3)),  # 6.908
        (lambda rng, n: rng.standard_normal(n), 1e-4, 3.7190),  # Phi^-1(1 - 1e-4)
    ],
)
def test_spot_threshold_is_the_distributions_quantile(draw, risk, want):
    rng = np.random.default_rng(1)
    spot = evt.Spot(risk, level=0.98).fit(draw(rng, 20_000))
    assert spot.threshold == pytest.approx(want, rel=0.06)
    # streaming more nominal data keeps it near (values above the threshold are alarms and are
    # not learned from, so the tail is censored and the threshold drifts a little low), and the
    # alarm rate stays within a few times the risk
    flags, _ = spot.run(draw(rng, 50_000))
    assert spot.threshold == pytest.approx(want, rel=0.15)
    assert flags.mean() < 4 * risk


def test_dspot_follows_a_drifting_level():
    rng = np.random.default_rng(2)
    calib = rng.standard_normal(5000)
    spot = evt.Spot(1e-3, depth=50).fit(calib)
    drift = np.linspace(0, 20, 5000) + rng.standard_normal(5000)
    flags, thresholds = spot.run(drift)
    assert flags.mean() < 0.01
    assert thresholds[-1] > 20
    assert evt.Spot(1e-3).fit(calib).run(drift)[0].mean() > 0.5  # plain SPOT: flags it all


def test_spot_state_round_trip():
    rng = np.random.default_rng(3)
    a = evt.Spot(1e-3, depth=10).fit(rng.standard_normal(2000))
    x = rng.standard_normal(3000)
    a.run(x[:1000])
    b = evt.Spot.from_state(a.state_dict())
    np.testing.assert_array_equal(a.run(x[1000:])[1], b.run(x[1000:])[1])


def test_spot_rejects_a_bad_risk():
    with pytest.raises(ConfigError, match="risk must be a false-alarm rate"):
        evt.Spot(0.0)
    with pytest.raises(ConfigError, match="risk"):
        evt.Spot("1e-4")  # type: ignore[arg-type]


def test_alarms_suppression_and_hysteresis():
    s = np.array([0, 5, 5, 0, 5, 0, 0, 0, 0, 5, 3, 5, 0], dtype=float)
    # plain: every rise above 4 is an alarm
    assert np.flatnonzero(evt.alarms(s, 4.0)).tolist() == [1, 4, 9, 11]
    # suppression: no second alarm within 5 rows of the last one
    assert np.flatnonzero(evt.alarms(s, 4.0, suppress=5)).tolist() == [1, 9]
    # hysteresis 0.5: the event opened at 9 stays open while the score is above 2 (the 3 at 10)
    assert np.flatnonzero(evt.alarms(s, 4.0, hysteresis=0.5)).tolist() == [1, 4, 9]
    with pytest.raises(ConfigError, match="hysteresis"):
        evt.alarms(s, 4.0, hysteresis=0.0)
    with pytest.raises(ConfigError, match="suppress"):
        evt.alarms(s, 4.0, suppress=-1)


def test_detector_with_spot_threshold_saves_and_loads(tmp_path):
    from lstmkit.data.synthetic_anomalies import make_anomaly_series
    from lstmkit.tasks.anomaly import AnomalyDetector

    syn = make_anomaly_series(1200, n_anomalies=3, seed=4)
    det = AnomalyDetector("zscore", window=32, threshold="spot", risk=1e-3)
    det.fit(syn.frame.iloc[: syn.clean_rows], time_col=syn.time_col, columns=syn.columns)
    assert det.threshold_ == det.spot_["z"]
    scores = det.score(syn.frame)
    assert np.isfinite(scores["threshold"]).all() and scores["is_anomaly"].any()
    det.save(tmp_path / "d")
    again = AnomalyDetector.load(tmp_path / "d")
    assert again.risk == 1e-3 and again.spot_ == det.spot_
    pd.testing.assert_frame_equal(again.score(syn.frame), scores)
    with pytest.raises(ConfigError, match="risk"):
        AnomalyDetector("zscore", threshold="spot", risk=0)


def test_group_flags_suppresses_alarms_within_the_window():
    s = np.array([0, 5, 0, 5, 0, 0, 0, 5, 5, 0, 0, 0, 0, 0, 5, 0], dtype=float)
    flags, alarm, events = evt.group_flags(s > 4, s, 4.0, suppress=6)
    # runs at 1, 3 and 7-8 start within 6 rows of the alarm at 1; the run at 14 does not
    assert np.flatnonzero(alarm).tolist() == [1, 14]
    assert events == [(1, 8), (14, 14)]
    np.testing.assert_array_equal(flags, s > 4)
    # without suppression every separate run is an alarm
    _, alarm, events = evt.group_flags(s > 4, s, 4.0, suppress=0)
    assert np.flatnonzero(alarm).tolist() == [1, 3, 7, 14]
    assert len(events) == 4
    # merge_gap joins runs by their distance from the event's end, not from its alarm
    _, alarm, _ = evt.group_flags(s > 4, s, 4.0, suppress=0, merge_gap=3)
    assert np.flatnonzero(alarm).tolist() == [1, 14]


def test_group_flags_hysteresis_keeps_an_event_open():
    s = np.array([0, 5, 3, 3, 1, 5, 0], dtype=float)
    flags, alarm, events = evt.group_flags(s > 4, s, 4.0, hysteresis=0.5)
    # 3 > 0.5 * 4 keeps rows 2-3 flagged; 1 closes the event, so row 5 is a second alarm
    assert flags.tolist() == [False, True, True, True, False, True, False]
    assert np.flatnonzero(alarm).tolist() == [1, 5]
    assert events == [(1, 3), (5, 5)]
    with pytest.raises(ConfigError, match="hysteresis must be in \\(0, 1\\], got 0"):
        evt.group_flags(s > 4, s, 4.0, hysteresis=0)
    with pytest.raises(ConfigError, match="suppress must be an int >= 0 \\(rows\\), got -1"):
        evt.group_flags(s > 4, s, 4.0, suppress=-1)
