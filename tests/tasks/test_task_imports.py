"""Loading a saved model and predicting with it imports only what that needs.

Lightning, matplotlib, the numba kernels and the text tasks' dependencies each take from tenths of
a second to seconds to import; a forecaster that is only applied must not pay for them. Checked in
a fresh interpreter, since this test session has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.tasks.conftest import TINY, monthly_frame

from lstmkit.tasks import Forecaster

# Modules that training, plotting, the fused engine or the other tasks need, and applying a
# saved forecaster does not.
NOT_FOR_PREDICT = (
    "lightning",
    "matplotlib",
    "numba",
    "tokenizers",
    "sacrebleu",
    "sklearn",
    "lstmkit.train.module",
    "lstmkit.train._callbacks",
    "lstmkit.viz",
    "lstmkit.tasks.anomaly",
    "lstmkit.tasks.classifier",
    "lstmkit.tasks.language_model",
    "lstmkit.tasks.seq2seq",
    "lstmkit.tasks.tagger",
)


def _loaded_in_fresh_interpreter(code: str) -> list[str]:
    """Runs ``code``, then returns which of :data:`NOT_FOR_PREDICT` it imported."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps([m for m in {NOT_FOR_PREDICT!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_of_the_tasks_package_loads_no_task():
    assert _loaded_in_fresh_interpreter("import lstmkit.tasks") == []


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
    assert _loaded_in_fresh_interpreter(code) == []
