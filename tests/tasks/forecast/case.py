"""The Forecaster in the shared task contract: a tiny hybrid ensemble on a synthetic series."""

from __future__ import annotations

from tests.tasks.conftest import monthly_frame
from tests.tasks.contract import TaskCase, same_predictions

from lstmkit.tasks import Forecaster

FRAME = monthly_frame(72)
FIT = {"max_epochs": 2, "enable_progress_bar": False, "batch_size": 32, "seed": 0}


def _make(**lstm_options):
    return Forecaster(horizon=3, hidden_size=8, ensemble=2, **lstm_options)


CASE = TaskCase(
    cls=Forecaster,
    make=_make,
    fit=lambda task: task.fit(FRAME, time_col="date", targets="y", **FIT),
    predict=lambda task: task.predict(FRAME[["date", "y"]]),
    evaluate=lambda task: task.evaluate(),
    same=same_predictions,
)
