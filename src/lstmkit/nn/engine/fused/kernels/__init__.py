"""numba kernels of the fused engine's compiled path: one call runs a whole direction.

The kernels live in :mod:`.lstm`, :mod:`.gru` and :mod:`.rnn`, their row helpers and the ``jit``
decorator in :mod:`.helpers`; this package gathers them. Imported only by
:mod:`lstmkit.nn.engine.fused.numba_path`, which falls back to the torch-ops path when this module
fails to import. Every array is C-contiguous and of one float dtype (float32 or float64: numba
compiles one specialisation per dtype); optional inputs are passed as 1-element dummies with a
flag, so each kernel has exactly one signature per dtype.

Kernels: ``lstm_forward``/``lstm_backward``, ``gru_forward``/``gru_backward``,
``rnn_forward``/``rnn_backward``; each runs every step of one direction for the whole batch. Gate
blocks are in torch's row order: LSTM ``i, f, g, o`` (``f, g, o`` with coupled gates, ``i, g, o``
without a forget gate), GRU ``r, z, n``. State chains ``Hs``/``Cs`` are ``(T+1, B, H)``: step
``t`` reads index ``t`` and writes ``t+1`` going forward, reads ``t+1`` and writes ``t`` in
reverse, as the torch-ops path does. Keep masks (zoneout, and steps past a sequence's length)
hold the previous state; the backward kernels pass the gradient of a kept unit straight to the
previous step.

numba's on-disk cache keys a kernel on its own source file only: after editing ``helpers.py``,
delete ``__pycache__/*.nbi`` and ``*.nbc`` here (or touch the kernel modules), or the stale
compilations keep running.
"""

from lstmkit.nn.engine.fused.kernels.gru import (
    gru_backward,
    gru_backward_parallel,
    gru_forward,
    gru_forward_parallel,
)
from lstmkit.nn.engine.fused.kernels.lstm import (
    lstm_backward,
    lstm_backward_parallel,
    lstm_forward,
    lstm_forward_parallel,
)
from lstmkit.nn.engine.fused.kernels.rnn import (
    rnn_backward,
    rnn_backward_parallel,
    rnn_forward,
    rnn_forward_parallel,
)

__all__ = [
    "gru_backward",
    "gru_backward_parallel",
    "gru_forward",
    "gru_forward_parallel",
    "lstm_backward",
    "lstm_backward_parallel",
    "lstm_forward",
    "lstm_forward_parallel",
    "rnn_backward",
    "rnn_backward_parallel",
    "rnn_forward",
    "rnn_forward_parallel",
]
