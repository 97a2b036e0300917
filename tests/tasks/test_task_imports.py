"""Loading a saved model and predicting with it imports only what that needs.

Lightning, matplotlib, the numba kernels and the text tasks' dependencies each take from tenths of
a second to seconds to import; a forecaster that is only applied must not pay for them. Checked in
a fresh interpreter, since this test session has imported everything already.
"""

from __future__ import annotations

from tests.import_probe import loaded_by
from tests.tasks.conftest import TINY, monthly_frame

from lstmkit.tasks import Forecaster


def test_import_of_the_tasks_package_loads_no_task():
    assert loaded_by("import lstmkit.tasks") == []


def test_load_and_predict_a_saved_forecaster_without_training_dependencies(tmp_path):
    frame = monthly_frame(60)
    csv = tmp_path / "history.csv"
    frame[["date", "y"]].to_csv(csv, index=False)
    model = Forecaster(horizon=3, hidden_size=8)
    model.fit(frame, time_col="date", targets="y", **TINY)
    model.save(tmp_path / "model")

    code = (
        "from lstmkit.tasks import Forecaster\n"
        f"model = Forecaster.load({str(tmp_path / 'model')!r})\n"
        f"assert len(model.predict({str(csv)!r})) == 3"
    )
    assert loaded_by(code) == []
