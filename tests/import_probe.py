"""Which heavy modules a piece of code imports, checked in a fresh interpreter (a test session
has imported everything already)."""

from __future__ import annotations

import json
import subprocess
import sys

# Modules that training, plotting, the fused engine or the other tasks need, and loading and
# applying a saved forecaster does not.
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
    "lstmkit.tasks.classify",
    "lstmkit.tasks.language_model",
    "lstmkit.tasks.seq2seq",
    "lstmkit.tasks.tagging",
)


def loaded_by(code: str, modules: tuple[str, ...] = NOT_FOR_PREDICT) -> list[str]:
    """Runs ``code`` in a fresh interpreter (it fails the test if ``code`` raises), then returns
    which of ``modules`` it imported."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
