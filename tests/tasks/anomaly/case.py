"""The AnomalyDetector in the shared task contract: a tiny prediction (LSTM) detector on the
bundled test series (the zscore method has no LSTM, so it cannot show the options reaching one)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.tasks.contract import TaskCase

from lstmkit.tasks import AnomalyDetector

DATA = Path(__file__).parent / "data"
FRAME = pd.read_csv(DATA / "series.csv")
LABELS = pd.read_csv(DATA / "labels.csv")
FIT = {"max_epochs": 2, "enable_progress_bar": False, "seed": 0}


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Equal score frames; row 0 (and the warm-up) score NaN, which same_predictions's
    np.allclose counts as unequal."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-6)
    except AssertionError:
        return False
    return True


def _make(**lstm_options):
    return AnomalyDetector("prediction", window=16, hidden_size=8, **lstm_options)


CASE = TaskCase(
    cls=AnomalyDetector,
    make=_make,
    fit=lambda task: task.fit(FRAME.iloc[:250], time_col="time", columns=["x0", "x1"], **FIT),
    predict=lambda task: task.score(FRAME),
    evaluate=lambda task: task.evaluate(FRAME, LABELS),
    same=_same,
)
