"""What a task case supplies to the shared contract test (tests/tasks/test_task_contract.py).

Each task's test folder holds a ``case.py`` with ``CASE = TaskCase(...)``: a tiny model of the
task, how to fit it (seed 0), predict and evaluate with it, and how to compare two predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TaskCase:
    cls: type
    make: Callable[..., Any]  # (**lstm_options) -> an unfitted tiny task
    fit: Callable[[Any], Any]  # fits with seed 0 on tiny data; returns what fit returned
    predict: Callable[[Any], Any]
    evaluate: Callable[[Any], Any]
    same: Callable[[Any, Any], bool]  # two predictions are equal


def same_predictions(a: Any, b: Any) -> bool:
    """Equal predictions, whether frames (numbers to 1e-6), arrays or lists."""
    if isinstance(a, pd.DataFrame):
        if a.shape != b.shape or list(a.columns) != list(b.columns):
            return False
        for c in a.columns:
            if pd.api.types.is_numeric_dtype(a[c]):
                if not np.allclose(a[c], b[c], rtol=1e-6, atol=1e-8):
                    return False
            elif not (a[c].to_numpy() == b[c].to_numpy()).all():
                return False
        return True
    return np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
