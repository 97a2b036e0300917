"""The fused engine's compiled path: the whole time loop of a direction in one numba kernel.

This module holds what the numba path of every cell shares: its switches and limits
(:func:`choose`), loading the kernels (:mod:`.kernels`), their threads, the chunked input
projection and the autograd plumbing; the Functions themselves are in :mod:`.numba_lstm`,
:mod:`.numba_gru` and :mod:`.numba_rnn`.

The torch-ops path of :mod:`lstmkit.nn.engine.fused` dispatches a dozen torch ops per step
(~7-10 µs each); at small and medium batch x hidden sizes that, not arithmetic, is its cost.
Here the forward loop of a direction is one numba kernel call and so is the backward loop; the
input projection before the loop and the weight gradients after it stay torch matrix multiplies
over all steps, as in the torch-ops path. The numbers are those of the reference engine (tested
to 1e-10 in float64).

Covered: the LSTM with or without bias, peephole, coupled gates or no forget gate, layer norm,
recurrent dropout, zoneout, lengths, initial state, reverse direction (so stacked and
bidirectional layers); the GRU and the vanilla RNN (tanh, relu) with the same options; float32
and float64; CPU tensors.
Everything else (LSTM projection, ``return_trace``, other dtypes or devices, batch x hidden sizes
above :data:`NUMBA_MAX_UNITS` for the LSTM or :data:`NUMBA_MAX_UNITS_GRU_RNN` for the GRU and RNN,
or :data:`NUMBA_MAX_UNITS_PARALLEL` with several threads) runs on the torch-ops path; so does
everything when numba cannot be imported (logged at debug level) or a forward kernel fails to
compile (a warning; see :func:`disable`).
:func:`choose` says which path a call takes; :data:`CALLS` counts the calls of each.

The kernels compute sigmoid and tanh through their own exp (vectorisable), accurate to a few ulp;
float32 inputs get float32 gate arithmetic, as in torch. The compiled code is cached on disk
(numba's cache: ``__pycache__`` beside the module, or the user cache directory when that is not
writable; without either, it compiles once per process).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections import Counter
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lstmkit.nn.engine.fused.core import (
    FusedFunction,
    Plan,
    grad_output,
    project_input,
    single_state_outputs,
)

log = logging.getLogger(__name__)

# Switches, module-level so that tests and benchmarks can force a path.
ENABLED = True
# Run the kernels' rows in parallel when torch has several threads (see kernel_for).
PARALLEL = True
# The LSTM takes the numba path while batch * hidden_size is at most this, in every mode and at
# any thread count. The kernel multiplies by W_hh itself, four rows per pass over it; the
# torch-ops path runs a tuned GEMM but pays ~100 µs of dispatch a step (12 ops; layer norm adds
# two native_layer_norm calls and their backward). Measured with the vectorised, row-blocked
# kernels (T=100, float32, numba time / torch-ops time, interleaved medians of 5, 2-core AVX2
# EPYC, 1 thread): S2 (B*H = 4096) training 0.66-0.86, inference 0.70-0.88; S3 (16384) 0.79-0.88
# and 0.81-0.94; S4 (32768) 0.84-0.93 and 0.87-0.92, for plain, peephole, layer norm and
# zoneout; B=16 H=2048 (32768) 0.74-0.88. Beyond it torch ops win where W_hh leaves the caches:
# B=64 H=1024 (65536) 1.11-1.51. At 2 threads (parallel kernels, medians of 7): S2 0.66-0.98,
# S3 0.76-0.93, S4 0.73-0.87.
NUMBA_MAX_UNITS = 32768
# The GRU's and the vanilla RNN's limit on one thread. Measured with the row-blocked kernels
# (T=100, float32, 1 thread, numba / torch-ops, interleaved medians of 5): at B*H = 4096 (S2 and
# B=16 H=256; plain, zoneout, recurrent dropout, tanh and relu) 0.76-0.95; at 8192 (B=64 H=128,
# B=128 H=64, B=32 H=256) on par, 0.88-1.05 and once 1.23 (GRU inference, B=128 H=64); at 16384
# (S3) GRU training 0.89, inference 1.05.
NUMBA_MAX_UNITS_GRU_RNN = 4096
# Every kind's limit while more than one thread is used (and the batch has rows to share): the
# GRU and RNN kernels then run rows in parallel too. At 2 threads S3 GRU 0.81-0.85, RNN
# 0.92-0.95; S4 (32768) GRU 0.86-0.87, RNN 0.95-0.96.
NUMBA_MAX_UNITS_PARALLEL = 32768

# Calls per (path, kind), e.g. CALLS["numba", "lstm"], and of the parallel kernels,
# CALLS["parallel", "lstm_forward"] or CALLS["parallel", "gru_backward"]; statistics only (not
# locked).
CALLS: Counter = Counter()

_FLOATS = (torch.float32, torch.float64)
_kernels: ModuleType | None = None
_load_failed = False


def _load() -> ModuleType | None:
    """The kernels module, or None when numba is unavailable (then never tried again)."""
    global _kernels, _load_failed
    if _kernels is None and not _load_failed:
        try:
            _kernels = importlib.import_module("lstmkit.nn.engine.fused.kernels")
        except Exception as err:  # noqa: BLE001 - an unusable numba must not break the engine
            _load_failed = True
            log.debug("numba kernels unavailable (%s: %s); fused uses torch ops", type(err), err)
    return _kernels


def is_compile_error(err: BaseException) -> bool:
    """True for numba's own errors (typing, lowering): the kernels cannot run on this machine."""
    errors = getattr(getattr(sys.modules.get("numba"), "core", None), "errors", None)
    return errors is not None and isinstance(err, errors.NumbaError)


def disable(reason: str) -> None:
    """Stop using the numba path in this process; every call then runs on torch ops."""
    global ENABLED
    ENABLED = False
    log.warning("fused engine: numba kernels unusable here (%s); using torch ops", reason)


def eligible(kind: str, plan: Any, x: Tensor, weights: Any) -> bool:
    """Whether the numba path can run this direction at all (CPU, float, no trace, no projection,
    numba importable), whatever its size."""
    if not ENABLED or plan.want_trace:
        return False
    if kind == "lstm" and plan.options.proj_size:
        return False
    if x.device.type != "cpu" or x.dtype not in _FLOATS or weights[1].device.type != "cpu":
        return False
    return _load() is not None


def choose(kind: str, plan: Any, x: Tensor, weights: Any) -> str:
    """``"numba"`` or ``"torch"`` by the fixed size limits (``LSTMKIT_FUSED_PATH=limits``; the
    default measures instead, :mod:`.path_choice`)."""
    if not eligible(kind, plan, x, weights):
        return "torch"
    return "torch" if x.shape[1] * weights[1].shape[1] > _max_units(kind, x) else "numba"


def kernel_for(name: str, batch: int) -> Any:
    """The kernel ``name`` (e.g. ``"lstm_forward"``) for this call: its twin that runs the rows of
    a step on numba's threads when torch may use more than one thread and the batch has rows to
    share (counted in CALLS["parallel", name]); otherwise the serial one."""
    threads = torch.get_num_threads()
    if PARALLEL and threads > 1 and batch > 1:
        use_numba_threads(threads)
        CALLS["parallel", name] += 1
        return _launch_safely(getattr(_kernels, f"{name}_parallel"))
    return getattr(_kernels, name)


def use_numba_threads(threads: int) -> None:
    """Let numba's parallel kernels use ``threads`` threads (at most its pool's size), leaving
    torch's own thread count as it was.

    Starting numba's OpenMP pool sets the OpenMP thread count that torch and oneDNN read to the
    pool's size (all cores): after ``torch.set_num_threads(4)`` on a 16-core machine, torch's
    LSTM would then run on 16 threads. torch's count is put back when that happens.
    """
    numba = sys.modules["numba"]
    before = torch.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)


_LAUNCH_LOCK = threading.Lock()
# Whether numba's threading layer takes parallel launches from several Python threads at once
# (omp and tbb do; the workqueue fallback, used when neither library is there, aborts the
# process). Known after the first launch; until then, and for workqueue, launches take a lock.
_THREADSAFE_LAYER: bool | None = None


def _launch_safely(kernel: Any) -> Any:
    def launch(*args: Any) -> Any:
        global _THREADSAFE_LAYER
        if _THREADSAFE_LAYER:
            return kernel(*args)
        with _LAUNCH_LOCK:
            out = kernel(*args)
            _THREADSAFE_LAYER = sys.modules["numba"].threading_layer() in ("omp", "tbb")
        return out

    return launch


def _max_units(kind: str, x: Tensor) -> int:
    """The batch * hidden limit of the numba path for this call (see NUMBA_MAX_UNITS*)."""
    limit = NUMBA_MAX_UNITS if kind == "lstm" else NUMBA_MAX_UNITS_GRU_RNN
    if PARALLEL and torch.get_num_threads() > 1 and x.shape[1] > 1:
        limit = max(limit, NUMBA_MAX_UNITS_PARALLEL)
    return limit


# --- array plumbing ----------------------------------------------------------------------------


def as_numpy(t: Tensor) -> np.ndarray:
    """A C-contiguous numpy view (one compiled specialisation per dtype)."""
    return t.detach().contiguous().numpy()


_DUMMIES: dict[torch.dtype, tuple[np.ndarray, ...]] = {}


def dummies(dtype: torch.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """1-element stand-ins for absent optional arrays: 1-D, 2-D, 3-D float and 3-D bool."""
    d = _DUMMIES.get(dtype)
    if d is None:
        nd = np.float32 if dtype == torch.float32 else np.float64
        d = (
            np.zeros(1, nd),
            np.zeros((1, 1), nd),
            np.zeros((1, 1, 1), nd),
            np.zeros((1, 1, 1), np.bool_),
        )
        _DUMMIES[dtype] = d
    return d


def saved_inputs(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None) -> dict[str, Any]:
    """What every numba Function's backward keeps of its inputs: ``x``, and copies of the weights,
    as the torch-ops path keeps: backward must not see a later in-place update of them."""
    return dict(
        x=x,
        w_ih=w_ih.detach().clone(),
        w_hh_t=w_hh.detach().t().contiguous(),
        has_bias=b_ih is not None,
    )


def keep_array(mask: Tensor | None, shape: tuple[int, ...]) -> Tensor | None:
    """A keep mask (T, B, size or 1) as a contiguous bool (T, B, size)."""
    return None if mask is None else mask.expand(shape).contiguous()


# The input projection of an inference call is made this many bytes at a time (see by_chunks):
# S2 in two chunks, S4 in thirteen; one chunk at S1.
INFERENCE_CHUNK_BYTES = 4 << 20


def _inference_chunk(steps: int, step_bytes: int) -> int:
    """Steps per chunk of an inference call's input projection."""
    return max(1, min(steps, INFERENCE_CHUNK_BYTES // max(1, step_bytes)))


def _chunks(steps: int, span: int, reverse: bool) -> list[tuple[int, int]]:
    """``[t0, t1)`` spans of at most ``span`` steps, in the order the direction runs them."""
    spans = [(t0, min(steps, t0 + span)) for t0 in range(0, steps, span)]
    return spans[::-1] if reverse else spans


def by_chunks(
    plan: Plan,
    x: Tensor,
    w_ih: Tensor,
    bias: Tensor | None,
    Hs: Tensor,
    h0: Tensor,
    save: bool,
    run_chunk: Any,
) -> Tensor:
    """Make the input projection and run ``run_chunk(A, h_in, t0, t1)`` (the kernel over steps
    ``[t0, t1)`` from state ``h_in``, both numpy views) in the direction's order: all steps at
    once when the backward pass needs them, else chunks of :data:`INFERENCE_CHUNK_BYTES` in one
    reused buffer (memory O(chunk), not O(T)), each chunk's last state entering the next through
    ``Hs``. Returns the projection buffer (every step's when ``save``).

    Chunks are sliced as numpy views (~0.2 µs each, a torch slice ~4 µs): an S1 inference call
    is ~0.9 ms in all."""
    steps, batch, _ = x.shape
    rows = w_ih.shape[0]
    span = steps if save else _inference_chunk(steps, batch * rows * x.element_size())
    A = x.new_empty(span, batch, rows)
    if span == steps:
        project_input(x, w_ih, bias, A)
        run_chunk(A.numpy(), as_numpy(h0), 0, steps)
        return A
    A_np, Hs_np = A.numpy(), Hs.numpy()
    h_in = as_numpy(h0)
    for t0, t1 in _chunks(steps, span, plan.reverse):
        project_input(x[t0:t1], w_ih, bias, A[: t1 - t0])
        run_chunk(A_np[: t1 - t0], h_in, t0, t1)
        h_in = Hs_np[t0 if plan.reverse else t1]
    return A


# --- autograd plumbing of the numba Functions -------------------------------------------------


class NumbaFunction(FusedFunction):
    """The numba Functions' autograd plumbing: a backward kernel that fails to compile here (the
    forward one compiled, so this is rare) falls back to the torch-ops Function of the same kind:
    it re-runs that direction's forward on the same inputs and differentiates it."""

    torch_function: Any = None

    @classmethod
    def forward(cls, ctx: Any, plan: Any, *tensors: Tensor | None) -> tuple[Tensor, ...]:
        ctx.inputs = tensors
        return super().forward(ctx, plan, *tensors)

    @classmethod
    def _backward(cls, ctx: Any, grads: tuple) -> tuple[Tensor | None, ...]:
        try:
            return super()._backward(ctx, grads)
        except Exception as err:
            if not is_compile_error(err):
                raise
            disable(f"backward: {type(err).__name__}: {err}")
        return (None, *_torch_ops_grads(cls.torch_function, ctx, grads))


def _torch_ops_grads(fn: Any, ctx: Any, grads: tuple) -> tuple[Tensor | None, ...]:
    needs = ctx.needs_input_grad[1:]
    inputs = [
        None if t is None else t.detach().requires_grad_(bool(need))
        for t, need in zip(ctx.inputs, needs, strict=True)
    ]
    with torch.enable_grad():
        outs = fn.apply(ctx.plan, *inputs)
    wanted = [t for t, need in zip(inputs, needs, strict=True) if t is not None and need]
    pairs = [(o, g) for o, g in zip(outs, grads, strict=False) if g is not None]
    found = torch.autograd.grad(
        [o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True
    )
    it = iter(found)
    return tuple(
        next(it) if t is not None and need else None for t, need in zip(inputs, needs, strict=True)
    )


def fresh_grad(g: Tensor | None, x: Tensor, size: int) -> Tensor:
    """A contiguous copy of a final state's gradient, which a backward kernel updates in place
    (to the initial state's); zeros ``(B, size)`` when there is none."""
    if g is None:
        return x.new_zeros(x.shape[1], size)
    return g.clone(memory_format=torch.contiguous_format)


def start_grads(plan: Plan, sv: dict, grads: tuple) -> tuple[Tensor | None, Tensor]:
    """The output's gradient (lengths applied) and a fresh gradient of the final state."""
    return grad_output(plan, grads[0], None), fresh_grad(grads[1], sv["x"], sv["hid"])


# --- what the GRU and RNN Functions share (one state h) -----------------------------------------


class StateChain:
    """A single-state cell's (GRU, RNN) arrays around its forward kernel: the chain ``Hs``
    (T+1, B, H), the dropped state ``h_rec`` that ``W_hh`` saw (recurrent dropout only) and the
    zoneout keep mask, as tensors and as the numpy views (or dummies) the kernels take."""

    def __init__(self, plan: Plan, x: Tensor, hid: int) -> None:
        steps, batch, _ = x.shape
        _, d2, d3, db3 = dummies(x.dtype)
        self.plan, self.steps = plan, steps
        self.Hs = x.new_empty(steps + 1, batch, hid)
        m = plan.h_mask
        self.h_rec = x.new_empty(steps, batch, hid) if m is not None else None
        self.keep_h = keep_array(plan.keep[0], (steps, batch, hid))
        # numpy views made once; views() slices the per-step ones.
        self._m = d2 if m is None else as_numpy(m)
        self._keep = db3 if self.keep_h is None else self.keep_h.numpy()
        self._Hs = self.Hs.numpy()
        self._h_rec = d3 if self.h_rec is None else self.h_rec.numpy()
        self.flags = (m is not None, self.keep_h is not None)

    def views(self, t0: int, t1: int) -> tuple[np.ndarray, ...]:
        """The kernel's ``h_mask, keep_h, Hs, h_rec`` arguments for steps ``[t0, t1)``."""
        keep = self._keep if self.keep_h is None else self._keep[t0:t1]
        h_rec = self._h_rec if self.h_rec is None else self._h_rec[t0:t1]
        return self._m, keep, self._Hs[t0 : t1 + 1], h_rec

    def outputs(self, save: bool, **saved: Any) -> tuple[tuple[Tensor, Tensor], dict]:
        """``(output, h_n)`` and, when ``save``, what backward needs: ``saved`` plus ``h_rec``
        (``h_{t-1}`` itself without recurrent dropout) and ``keep_h``."""
        output, h_last, h_prev = single_state_outputs(self.plan, self.Hs, self.steps)
        if not save:
            return (output, h_last), {}
        h_rec = h_prev if self.h_rec is None else self.h_rec
        return (output, h_last), dict(saved, h_rec=h_rec, keep_h=self.keep_h)


def backward_masks(
    plan: Plan, sv: dict, g_out: Tensor | None
) -> tuple[tuple[np.ndarray, ...], tuple[bool, bool, bool]]:
    """A GRU or RNN backward kernel's ``h_mask, keep_h, g_out`` arguments (dummies where absent)
    and its ``has_mask, has_keep, has_gout`` flags."""
    _, d2, d3, db3 = dummies(sv["x"].dtype)
    m, keep_h = plan.h_mask, sv["keep_h"]
    arrays = (
        d2 if m is None else as_numpy(m),
        db3 if keep_h is None else keep_h.numpy(),
        d3 if g_out is None else as_numpy(g_out),
    )
    return arrays, (m is not None, keep_h is not None, g_out is not None)
