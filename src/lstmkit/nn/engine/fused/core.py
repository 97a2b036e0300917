"""What both paths of the fused engine share: the plan of a call, the autograd Function, the
workspace pool, and the pieces of backpropagation through time that do not depend on the cell.

The derivation these pieces implement (and the names used for its terms) is written once in
``docs/design-notes.md``, section "Backpropagation through time in the fused engine".
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Any

import torch
from torch import Tensor

DOUBLE_BACKWARD = (
    "impl='fused' does not support double backward (create_graph=True, e.g. for a gradient "
    "penalty or Hessian products): its backward through time is written by hand. "
    "Use impl='reference' for higher-order gradients."
)


class Plan:
    """Everything about one direction's call that is not a differentiable tensor.

    * ``kind`` — ``"lstm"``, ``"gru"`` or ``"rnn"``; ``options`` the cell's step options;
      ``relu`` — the vanilla RNN's nonlinearity is ReLU.
    * ``reverse`` — the direction runs from the last step to the first.
    * ``h_mask`` — ``(B, P)`` scaled recurrent-dropout keep-mask on ``h_prev``, or None.
    * ``keep`` — per state tensor, a bool ``(T, B, size or 1)`` True where the state keeps its
      previous value (zoneout, steps past a sequence's length), or None.
    * ``valid`` — ``(T, B, 1)`` True where step t is inside sequence b, or None (no lengths).
    * ``want_trace`` — also return the per-step gates and states.
    """

    __slots__ = ("kind", "options", "relu", "reverse", "h_mask", "keep", "valid", "want_trace")

    def __init__(self, **kw: Any) -> None:
        for k in self.__slots__:
            setattr(self, k, kw.get(k))


class FusedFunction(torch.autograd.Function):
    """Common autograd plumbing; subclasses define ``compute`` and ``grads``.

    ``compute(plan, *tensors, save)`` returns ``(outputs, saved)``: the outputs, and what
    ``grads(plan, saved, needs, grads)`` reads to return one gradient (or None) per input tensor.
    """

    @classmethod
    def forward(cls, ctx: Any, plan: Plan, *tensors: Tensor | None) -> tuple[Tensor, ...]:
        outs, saved = cls.compute(plan, *tensors, save=True)
        ctx.plan = plan
        ctx.saved = saved
        ctx.set_materialize_grads(False)
        constants = saved.pop("constants", ())  # outputs that depend on no input (f ≡ 1)
        ctx.mark_non_differentiable(*[o for o in outs if not o.is_floating_point()], *constants)
        return outs

    @classmethod
    def backward(cls, ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        # Grad mode is on in backward only under create_graph=True: a second derivative was asked.
        if torch.is_grad_enabled():
            raise RuntimeError(DOUBLE_BACKWARD)
        with torch.no_grad():
            return cls._backward(ctx, grads)

    @classmethod
    def _backward(cls, ctx: Any, grads: tuple) -> tuple[Tensor | None, ...]:
        return (None, *cls.grads(ctx.plan, ctx.saved, ctx.needs_input_grad[1:], grads))

    @staticmethod
    def compute(plan: Plan, *tensors: Any, save: bool) -> tuple[tuple[Tensor, ...], dict]:
        raise NotImplementedError

    @staticmethod
    def grads(plan: Plan, saved: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        raise NotImplementedError


def call(fn: Any, plan: Plan, tensors: tuple, needs_grad: bool) -> tuple[Tensor, ...]:
    """Run Function ``fn``; inference builds no graph and saves nothing."""
    return fn.apply(plan, *tensors) if needs_grad else fn.compute(plan, *tensors, save=False)[0]


# --- the workspace pool ------------------------------------------------------------------------


class Workspace:
    """Buffers of one direction's call and their per-step views (``v``), reused across calls.

    Creating a view costs about as much as a small op, and a step reads a dozen of them; keeping
    the views of a workspace from one call to the next removes that cost from the loop.
    """


class Lease:
    """Holds a workspace while a forward's autograd graph may still read it; gives it back after."""

    __slots__ = ("ws",)

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown the pool may be gone
            _release(self.ws)


_POOL: OrderedDict[Any, list[Workspace]] = OrderedDict()
_POOL_PER_KEY = 2  # idle workspaces kept per shape
# Only small workspaces are kept between calls: that is where creating views costs as much as the
# arithmetic. Large shapes spend their time in matrix multiplies and just allocate afresh.
_POOL_MAX_WS_BYTES = 64 << 20
_POOL_MAX_BYTES = 256 << 20


_POOL_LOCK = threading.Lock()  # layers may run in several threads at once


def acquire(key: Any, build: Any) -> Workspace:
    """An idle workspace built for ``key``, or a new one from ``build()``."""
    with _POOL_LOCK:
        free = _POOL.get(key)
        if free:
            ws = free.pop()
            if not free:
                del _POOL[key]
            return ws
    ws = build()
    ws.key = key
    return ws


def _nbytes(ws: Workspace) -> int:
    """Bytes held by a workspace (forward and backward buffers), computed once per state."""
    has_bwd = getattr(ws, "bwd", None) is not None
    cached = getattr(ws, "nbytes", None)
    if cached is not None and cached[0] == has_bwd:
        return cached[1]
    total = 0
    for part in (ws, getattr(ws, "bwd", None)):
        if part is not None:
            seen = {
                t.untyped_storage().data_ptr(): t
                for t in vars(part).values()
                if isinstance(t, Tensor)
            }
            total += sum(t.untyped_storage().nbytes() for t in seen.values())
    ws.nbytes = (has_bwd, total)
    return total


def _release(ws: Workspace) -> None:
    size = _nbytes(ws)
    if size > _POOL_MAX_WS_BYTES:
        return
    # Called from a finaliser, possibly by the garbage collector while this thread holds the
    # lock: never wait for it; a workspace that cannot be pooled at once is just dropped.
    if not _POOL_LOCK.acquire(blocking=False):
        return
    try:
        free = _POOL.setdefault(ws.key, [])
        _POOL.move_to_end(ws.key)
        if len(free) < _POOL_PER_KEY:
            free.append(ws)
        total = sum(_nbytes(w) for ws_list in _POOL.values() for w in ws_list)
        while total > _POOL_MAX_BYTES and _POOL:
            _, dropped = _POOL.popitem(last=False)
            total -= sum(_nbytes(w) for w in dropped)
    finally:
        _POOL_LOCK.release()


# --- small helpers -----------------------------------------------------------------------------


def store(dst: Tensor, src: Tensor | None, factor: Tensor | None = None) -> None:
    """``dst = src * factor`` (``factor`` None: a copy; ``src`` None: zeros), in place."""
    if src is None:
        dst.zero_()
    elif factor is None:
        dst.copy_(src)
    else:
        torch.mul(src, factor, out=dst)


def unbind(t: Tensor | None) -> tuple[Tensor, ...] | None:
    """Per-step views of a time-major tensor (None stays None)."""
    return None if t is None else t.unbind(0)


def step_views(part: Any, names: str) -> dict[str, tuple[Tensor, ...] | None]:
    """The per-step views of a workspace's time-major buffers, by name; ``names`` are separated
    by spaces. An absent buffer (None) stays None."""
    return {name: unbind(getattr(part, name)) for name in names.split()}


def keep_masks(
    zoneout: tuple[Tensor, ...] | None, valid: Tensor | None, n: int
) -> tuple[Tensor | None, ...]:
    """Per state tensor, a bool (T, B, size or 1) True where the state keeps its previous value."""
    if zoneout is None and valid is None:
        return (None,) * n
    if zoneout is None:
        return (~valid,) * n
    if valid is None:
        return tuple(zoneout)
    return tuple(z | ~valid for z in zoneout)


def time_order(steps: int, reverse: bool) -> range:
    """The steps in the order the direction runs them."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


def state_views(buf: Tensor, reverse: bool) -> tuple[Tensor, Tensor]:
    """(prev, new) views (T, B, S) by time of a (T+1, B, S) state-chain buffer."""
    if reverse:
        return buf[1:], buf[:-1]
    return buf[:-1], buf[1:]


def as_float(mask: Tensor | None, like: Tensor) -> Tensor | None:
    return None if mask is None else mask.to(like.dtype)


def masked_output(h_new: Tensor, valid: Tensor | None) -> Tensor:
    """The layer output from the new hidden states, zero past each sequence's length."""
    # A fresh tensor, never a view of the state buffer saved for backward: the caller may change
    # the output in place, as with torch.nn.LSTM.
    return h_new.clone() if valid is None else h_new * valid


def project_input(x: Tensor, w_ih: Tensor, bias: Tensor | None, out: Tensor) -> None:
    """``out = x W_ih^T + bias`` for every step of ``x`` at once, into ``out`` (steps, B, G*H):
    the input part of every pre-activation, one matrix multiply before the time loop."""
    x2 = x.reshape(-1, x.shape[-1])
    out2 = out.view(-1, out.shape[-1])
    if bias is None:
        torch.mm(x2, w_ih.detach().t(), out=out2)
    else:
        torch.addmm(bias, x2, w_ih.detach().t(), out=out2)


def single_state_outputs(plan: Plan, Hs: Tensor, steps: int) -> tuple[Tensor, Tensor, Tensor]:
    """The output, the final state and the h_prev views of a single-state cell's chain ``Hs``."""
    h_prev, h_new = state_views(Hs, plan.reverse)
    last = 0 if plan.reverse else steps
    return masked_output(h_new, plan.valid), Hs[last].clone(), h_prev


def saved_for_backward(
    x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, hid: int, **more: Any
) -> dict[str, Any]:
    """What every torch-ops Function's backward reads of a direction's inputs (``x``, ``w_ih``,
    ``w_hh``, ``hid``, ``has_bias``), plus the cell's own ``more``."""
    return dict(x=x, w_ih=w_ih, w_hh=w_hh, hid=hid, has_bias=b_ih is not None, **more)


# --- backward pieces shared by every cell ------------------------------------------------------


def grad_output(plan: Plan, gy: Tensor | None, gh_trace: Tensor | None) -> Tensor | None:
    """``g_out``: the gradient reaching each new hidden state from the output (and the trace's
    h), zero past each sequence's length, (T, B, P)."""
    g = gy
    if gh_trace is not None:
        g = gh_trace if g is None else g + gh_trace
    if g is not None and plan.valid is not None:
        g = g * plan.valid
    return g


def seed_grad(dst: Tensor, g_final: Tensor | None, g_steps: Tensor | None, last: int) -> None:
    """Into ``dst``, the gradient of a state after the direction's last step ``last``: that of
    the final state (``g_final``, None: zero) plus, when given, the per-step ``g_steps[last]``
    (the output's, the trace's)."""
    store(dst, g_final)
    if g_steps is not None:
        dst.add_(g_steps[last])


def backward_steps(order: range, g_out: tuple[Tensor, ...] | None) -> zip:
    """The steps in backward order, as ``(s, t, t_prev, g_out_prev)``: the position ``s`` in that
    order, the time step ``t``, the step ``t_prev`` that produced ``h_prev`` (processed next; None
    after the direction's first step) and the output's gradient there (None without one)."""
    bwd = list(reversed(order))
    t_prevs = [*bwd[1:], None]
    g_out_prevs = [None] * len(bwd) if g_out is None else [*(g_out[t] for t in bwd[1:]), None]
    return zip(range(len(bwd)), bwd, t_prevs, g_out_prevs, strict=True)


def recurrent_grad(
    da: Tensor,
    w_hh: Tensor,
    h_mask: Tensor | None,
    g_out_prev: Tensor | None,
    out: Tensor | None = None,
) -> Tensor:
    """One step of the recurrent backward: ``dh_prev = (da W_hh) ⊙ m + g_out_prev``.

    ``da`` is the gradient of the pre-activations that ``W_hh`` multiplies (rows in ``w_hh``'s
    order), ``m`` the recurrent-dropout mask (None: none), ``g_out_prev`` the output's gradient
    at the step that produced ``h_prev`` (None: none, or the first step). Written into ``out``
    when given. The gradient a kept unit passes straight to ``h_prev`` is added by the caller.
    """
    if h_mask is None:
        if g_out_prev is None:
            return torch.mm(da, w_hh, out=out)
        return torch.addmm(g_out_prev, da, w_hh, out=out)
    dh_prev = torch.mm(da, w_hh, out=out)
    if g_out_prev is None:
        return dh_prev.mul_(h_mask)
    return torch.addcmul(g_out_prev, dh_prev, h_mask, out=dh_prev)


def input_grads(
    da: Tensor, x: Tensor, w_ih: Tensor, need_x: bool, need_w: bool, need_b: bool
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """``dx = da W_ih``, ``dW_ih = da^T x`` and ``db = Σ da`` over all steps at once."""
    steps, batch, width = da.shape
    da2 = da.reshape(steps * batch, width)
    dx = dW = db = None
    if need_x:
        dx = torch.mm(da2, w_ih).view(steps, batch, -1)
    if need_w:
        dW = torch.mm(da2.t(), x.reshape(steps * batch, -1))
    if need_b:
        db = da2.sum(0)
    return dx, dW, db


def shared_da_grads(
    da: Tensor, x: Tensor, w_ih: Tensor, h_rec: Tensor, has_bias: bool, needs: tuple[bool, ...]
) -> tuple[Tensor | None, ...]:
    """``(dx, dW_ih, dW_hh, db_ih, db_hh)`` for a cell whose input and recurrent terms share the
    pre-activations' gradient ``da`` (LSTM, RNN); ``needs`` says which, in that order."""
    need_x, need_wih, need_whh, need_bih, need_bhh = needs
    dx, dW_ih, db = input_grads(da, x, w_ih, need_x, need_wih, has_bias and (need_bih or need_bhh))
    dW_hh = recurrent_weight_grad(da, h_rec) if need_whh else None
    return dx, dW_ih, dW_hh, db if need_bih else None, db if need_bhh else None


def recurrent_weight_grad(da: Tensor, h_rec: Tensor) -> Tensor:
    """``dW_hh = da^T h_rec`` over all steps at once (``h_rec``: h_prev after recurrent dropout)."""
    rows = da.shape[0] * da.shape[1]
    return torch.mm(da.reshape(rows, da.shape[-1]).t(), h_rec.reshape(rows, h_rec.shape[-1]))


def block_rows(perm: list[int], size: int, device: Any) -> Tensor:
    """Row indices taking the ``size``-row blocks of a matrix in the order ``perm``."""
    return torch.cat([torch.arange(b * size, (b + 1) * size) for b in perm]).to(device)
