"""The NAB scorer: hand-made windows worked out by hand, and the reproduction of the published
windowed-Gaussian scores from its raw outputs (when the NAB data folder is present)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from lstmkit.tasks.anomaly import nab

NAB_DIR = Path(os.environ.get("LSTMKIT_NAB_DIR", Path(__file__).parents[4] / "shared/data/nab"))


def sig(y: float) -> float:  # the paper's scaled sigmoid, written out again
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def test_scaled_sigmoid_and_probation():
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661429815)
    assert nab.scaled_sigmoid(3.5) == -1.0
    assert nab.probationary_length(20) == 3  # floor(0.15 * 20)
    assert nab.probationary_length(10_000) == 750  # capped at 0.15 * 5000


def _series(detect_rows, n=20, windows=((10, 14),)):
    scores = np.zeros(n)
    scores[list(detect_rows)] = 1.0
    return nab.Series("hand", scores, list(windows))


def test_hand_made_window_standard_profile():
    # 20 rows: probation 3 rows, one window of rows 10..14 (width 5).
    # row 1: inside the probation, ignored; row 5: FP before any window, -0.11;
    # rows 12 and 13: the first detection in the window counts, y = -(14 - 12 + 1) / 5 = -0.6,
    # worth sig(-0.6) / sig(-1); row 16: FP after the window, y = |14 - 16| / (5 - 1) = 0.5,
    # costs 0.11 * sig(0.5) (negative).
    s = _series([1, 5, 12, 13, 16])
    raw = sig(-0.6) / sig(-1.0) - 0.11 + 0.11 * sig(0.5)
    assert raw == pytest.approx(0.9174 - 0.11 - 0.0933, abs=1e-4)
    got = nab.score_corpus([s], threshold=0.5)
    t = got.totals.loc["standard"]
    assert t["raw"] == pytest.approx(raw)
    assert (t["null"], t["perfect"]) == (-1.0, 1.0)
    assert t["score"] == pytest.approx(100 * (raw + 1) / 2)
    # reward_low_FP_rate doubles the FP cost; reward_low_FN_rate only changes the miss cost
    fp = got.totals.loc["reward_low_FP_rate"]
    assert fp["raw"] == pytest.approx(sig(-0.6) / sig(-1.0) - 0.22 + 0.22 * sig(0.5))
    fn = got.totals.loc["reward_low_FN_rate"]
    assert fn["raw"] == pytest.approx(raw)
    assert fn["score"] == pytest.approx(100 * (raw + 2) / 3)


def test_missed_window_and_perfect_detection():
    assert nab.score_corpus([_series([])], threshold=0.5).score() == 0.0  # the null detector
    assert nab.score_corpus([_series([10])], threshold=0.5).score() == pytest.approx(100.0)
    # two windows, only the second found at its last row (worth 0 = sig(0)) and nothing else:
    s = _series([14], n=40, windows=((10, 14), (20, 24)))
    s2 = _series([24], n=40, windows=((10, 14), (20, 24)))
    assert nab.score_corpus([s2], threshold=0.5).totals.loc["standard", "raw"] == pytest.approx(
        -1.0 + sig(-1 / 5) / sig(-1.0)
    )
    assert nab.score_corpus([s], threshold=0.5).totals.loc["standard", "raw"] == pytest.approx(
        sig(-1 / 5) / sig(-1.0) - 1.0
    )


def test_sweep_picks_the_best_corpus_threshold():
    # 0.9 at the window start (a TP worth 1); 0.8 on four rows before it (FPs); 0.7 nowhere.
    scores = np.zeros(30)
    scores[10] = 0.9
    scores[[5, 6, 7, 8]] = 0.8
    s = nab.Series("a", scores, [(10, 14)])
    got = nab.score_corpus([s])
    assert got.totals.loc["standard", "threshold"] == 0.9
    assert got.totals.loc["standard", "raw"] == pytest.approx(1.0)
    # sweeping is the maximum over the fixed thresholds
    fixed = [nab.score_corpus([s], threshold=t).totals["raw"] for t in (0.0, 0.8, 0.9, 1.0)]
    assert got.totals["raw"].tolist() == pytest.approx(np.max(fixed, axis=0).tolist())


def test_window_rows_from_timestamps():
    ts = [f"2014-01-01 00:{m:02d}:00" for m in range(0, 50, 5)]
    assert nab.window_rows(ts, [["2014-01-01 00:07:00", "2014-01-01 00:20:00.000000"]]) == [(2, 4)]


@pytest.mark.slow
@pytest.mark.skipif(not (NAB_DIR / "results").is_dir(), reason="the NAB data folder is absent")
def test_reproduces_the_published_windowed_gaussian_scores():
    corpus = nab.read_results(NAB_DIR, "windowedGaussian")
    assert len(corpus) == 58
    got = nab.score_corpus(corpus, nab.load_profiles(NAB_DIR / "config/profiles.json"))
    published = {"standard": 39.65, "reward_low_FP_rate": 20.87, "reward_low_FN_rate": 47.41}
    for profile, want in published.items():
        assert got.score(profile) == pytest.approx(want, abs=0.01)
    assert (got.totals["threshold"] == 1.0).all()  # config/thresholds.json


def test_a_rerun_report_keeps_the_hand_written_sections():
    from lstmkit.tasks.anomaly.nab_benchmark import merge_report

    generated = "# NAB\n\n| detector | standard |\n|---|---|\n| ours | 66.0 |\n"
    previous = "# NAB\n\n| ours | 64.7 |\n\n## Honest notes\n\nwritten by hand\n\n## More\n\nx\n"
    merged = merge_report(generated, previous)
    assert merged.startswith(generated.rstrip("\n"))
    assert "64.7" not in merged and "66.0" in merged
    assert merged.endswith("## Honest notes\n\nwritten by hand\n\n## More\n\nx\n")
    assert merge_report(generated, None) == generated
    assert merge_report(generated, "# old, nothing hand-written\n") == generated
