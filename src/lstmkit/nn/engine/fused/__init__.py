"""The fused engine: one ``torch.autograd.Function`` per layer direction, backward written by hand.

For each direction of each layer:

* the input projection of every time step is one matrix multiply before the loop
  (``x (T*B, D) @ W_ih^T + b``);
* the loop runs the recurrence, on one of two paths (below);
* backpropagation through time is written out per cell and variant (peephole terms, coupled
  gates, no forget gate, the per-gate and the cell layer norm, projection, zoneout, recurrent
  dropout, lengths, reverse direction), once for both paths: ``docs/design-notes.md``,
  "Backpropagation through time in the fused engine". Every derivative factor that does not
  depend on the incoming gradient is computed for all steps at once before the backward loop;
* the weight gradients are one matrix multiply over all steps after the loop
  (``dW_hh = da^T h_rec``, ``dW_ih = da^T x``).

The two paths, one module per cell kind on each:

* torch ops (:mod:`.torch_lstm`, :mod:`.torch_gru`, :mod:`.torch_rnn`): a handful of in-place /
  ``out=`` torch ops per step into buffers allocated once per call (no autograd graph). The
  buffers and their per-step views form a workspace that small shapes keep between calls (a view
  costs about as much as a small op); a workspace is handed back only when the autograd graph
  that reads it is freed (:mod:`.core`). Plain torch ops, so it runs on any device; there is no
  GPU-specific (Triton) path yet. At large shapes the time goes to the matrix multiplies (as in
  torch's fused op); at small ones (B=1, H=64) to dispatching ~12 torch ops per step, which only a
  loop compiled as a whole could remove. With layer norm, torch's CPU ``native_layer_norm`` and its
  backward cost about 8 same-size multiplies per step each.
* numba (:mod:`.numba_lstm`, :mod:`.numba_gru`, :mod:`.numba_rnn`, kernels in :mod:`.kernels`):
  that compiled loop, for small shapes on CPU, for the LSTM (without projection), the GRU and the
  RNN, without trace, up to a batch x hidden size threshold (:func:`.numba_path.choose` says
  which path a call takes). Without numba, or outside what it covers, the torch-ops path runs.

The engine reproduces :mod:`lstmkit.nn.engine.reference` exactly (tested in float64), including
the trace, whose tensors are differentiable too. Double backward is not supported.

The dispatch key is the cell's ``kind`` (``"lstm"``, ``"gru"``, ``"rnn"``).
"""

from __future__ import annotations

import logging
from functools import partial
from types import ModuleType
from typing import Any

import torch
from torch import Tensor

from lstmkit.nn.engine.base import Direction, DirectionResult, run_stack
from lstmkit.nn.engine.fused import path_choice, torch_gru, torch_lstm, torch_rnn
from lstmkit.nn.engine.fused.core import Plan, call, keep_masks

NAME = "fused"

log = logging.getLogger(__name__)

# kind -> (torch-ops Function, names of the trace's tensors, number of state tensors)
_TORCH = {
    "lstm": (torch_lstm.LSTMFunction, torch_lstm.TRACE_NAMES, 2),
    "gru": (torch_gru.GRUFunction, torch_gru.TRACE_NAMES, 1),
    "rnn": (torch_rnn.RNNFunction, torch_rnn.TRACE_NAMES, 1),
}


def unsupported(layer: Any, want_trace: bool) -> str | None:
    """Why this engine cannot run ``layer``, or None when it can (LSTM, GRU, RNN, every option)."""
    kind = getattr(layer.cell, "kind", None)
    if kind not in _TORCH:
        return f"cell {getattr(layer.cell, '__name__', layer.cell)!r}"
    return None


def run_direction(x: Tensor, state: tuple[Tensor, ...], d: Direction) -> DirectionResult:
    """One autograd Function call, on the numba or the torch-ops path (``base.RunDirection``)."""
    kind = d.cell.kind
    torch_fn, names, n_state = _TORCH[kind]
    valid = d.valid(x)
    tensors = (x, *state, *d.weights)
    plan = Plan(
        kind=kind,
        options=d.options,
        relu=(d.options == "relu"),
        reverse=d.reverse,
        h_mask=d.h_mask,
        keep=keep_masks(d.zoneout, valid, n_state),
        valid=valid,
        want_trace=d.want_trace,
    )
    needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)
    nb = _numba()
    path = "torch" if nb is None else _path(nb, plan, d, tensors, torch_fn, needs_grad)
    outs = None
    if path == "numba":
        try:
            outs = call(_NUMBA_FUNCTIONS[kind], plan, tensors, needs_grad)
        except Exception as err:
            if not nb.is_compile_error(err):
                raise
            nb.disable(f"{type(err).__name__}: {err}")  # and run this call on torch ops
            path = "torch"
    if nb is not None:
        nb.CALLS[path, kind] += 1
    if outs is None:
        outs = call(torch_fn, plan, tensors, needs_grad)
    output, final = outs[0], tuple(outs[1 : 1 + n_state])
    trace = dict(zip(names, outs[1 + n_state :], strict=True)) if d.want_trace else None
    return output, final, trace


# The engine's run(layer, x, state, lengths, masks, want_trace) (base.Engine).
run = partial(run_stack, run_direction=run_direction)


def _path(
    nb: ModuleType, plan: Plan, d: Direction, tensors: tuple, torch_fn: Any, needs_grad: bool
) -> str:
    """The path this call takes: the one the layer's impl forces ("fused:numba" -> "numba"),
    else as ``LSTMKIT_FUSED_PATH`` says (:mod:`.path_choice`)."""
    kind, x, weights = plan.kind, tensors[0], d.weights
    if not nb.eligible(kind, plan, x, weights):
        return "torch"
    mode = d.impl.partition(":")[2] or path_choice.mode()
    if mode == "limits":
        return nb.choose(kind, plan, x, weights)
    if mode != "measure":
        return mode
    key = path_choice.key(kind, plan, x, weights[1].shape[1], needs_grad)
    try:
        return path_choice.choose(
            key,
            lambda: call(_NUMBA_FUNCTIONS[kind], plan, tensors, False),
            lambda: call(torch_fn, plan, tensors, False),
        )
    except Exception as err:
        if not nb.is_compile_error(err):
            raise
        nb.disable(f"{type(err).__name__}: {err}")
        return "torch"


_NUMBA_FUNCTIONS: dict[str, Any] = {}  # kind -> numba Function, once the path is imported
_numba_path: ModuleType | None = None


def _numba() -> ModuleType | None:
    """The compiled small-shape path (:mod:`.numba_path`), or None when it cannot be imported."""
    global _numba_path
    if _numba_path is None:
        try:  # numpy is optional: without it, torch ops
            from lstmkit.nn.engine.fused import numba_gru, numba_lstm, numba_path, numba_rnn
        except ImportError as err:
            log.debug("the fused engine's numba path is unavailable: %s", err)
            return None
        _NUMBA_FUNCTIONS.update(
            lstm=numba_lstm.NumbaLSTMFunction,
            gru=numba_gru.NumbaGRUFunction,
            rnn=numba_rnn.NumbaRNNFunction,
        )
        _numba_path = numba_path
    return _numba_path
