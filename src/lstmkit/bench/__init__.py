"""``lstmkit bench``: contenders timed side by side in one process.

Shapes S1-S4 (:data:`SHAPES`), modes ``inference`` (eval, no_grad) and ``train`` (forward and
backward of a scalar loss, float32), contenders ``torch.nn.LSTM`` (the baseline), lstmkit's engines
(``native``, ``reference``, ``fused``) for each variant, and ``torch.nn.GRU``. :func:`run_bench`
returns one dict per shape, mode and contender; :mod:`lstmkit.bench.report` prints and saves them.
"""

from lstmkit.bench.core import (
    BASELINE,
    IMPLS,
    MODES,
    QUICK_SHAPES,
    SHAPES,
    VARIANTS,
    Contender,
    Shape,
    all_contenders,
    run_bench,
    select_contenders,
    select_shapes,
)
from lstmkit.bench.report import environment, render, write_json

__all__ = [
    "BASELINE",
    "IMPLS",
    "MODES",
    "QUICK_SHAPES",
    "SHAPES",
    "VARIANTS",
    "Contender",
    "Shape",
    "all_contenders",
    "environment",
    "render",
    "run_bench",
    "select_contenders",
    "select_shapes",
    "write_json",
]
