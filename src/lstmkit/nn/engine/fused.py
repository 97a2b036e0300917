"""The fused engine: one ``torch.autograd.Function`` per layer direction, backward written by hand.

For each direction of each layer:

* the input projection of every time step is one matrix multiply before the loop
  (``x (T*B, D) @ W_ih^T + b``);
* the loop runs the recurrence with a handful of in-place / ``out=`` torch ops per step into
  buffers allocated once per call (no autograd graph). The buffers and their per-step views form
  a workspace that small shapes keep between calls (a view costs about as much as a small op);
  a workspace is handed back only when the autograd graph that reads it is freed;
* backpropagation through time is written out per variant (peephole terms, coupled gates, no
  forget gate, the per-gate and the cell layer norm, projection, zoneout, recurrent dropout,
  lengths, reverse direction). Every derivative factor that does not depend on the incoming
  gradient is computed for all steps at once before the backward loop, so that a backward step is
  a few multiplies and one matrix multiply;
* the weight gradients are one matrix multiply over all steps after the loop
  (``dW_hh = dA^T H_prev``, ``dW_ih = dA^T X``).

The engine reproduces :mod:`lstmkit.nn.engine.reference` exactly (tested in float64), including
the trace, whose tensors are differentiable too. Double backward is not supported. The code is
plain torch ops, so it runs on any device; there is no GPU-specific (Triton) path yet.

Cost, measured on the 2-core CPU machine: at large shapes the time goes to the matrix multiplies
(as in torch's fused op); at small ones (B=1, H=64) to dispatching ~12 torch ops per step
(~7 forward, ~5 backward), which only a loop compiled as a whole could remove. With layer norm,
torch's CPU ``native_layer_norm`` and its backward cost about 8 same-size multiplies per step each.

That compiled loop exists for small shapes: :mod:`lstmkit.nn.engine.fused_numba` runs a
direction's forward and backward loops as one numba kernel call each, on CPU, for the LSTM
(without layer norm or projection), the GRU and the RNN, without trace, up to a batch x hidden
size threshold (``fused_numba.choose`` says which path a call takes). Without numba, or outside
what it covers, the torch-ops path below runs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from typing import Any

import torch
from torch import Tensor

from lstmkit.nn.cells import LN_EPS
from lstmkit.nn.engine.base import DirectionResult, Masks, run_stack

NAME = "fused"

log = logging.getLogger(__name__)

_DOUBLE_BACKWARD = (
    "impl='fused' does not support double backward (create_graph=True, e.g. for a gradient "
    "penalty or Hessian products): its backward through time is written by hand. "
    "Use impl='reference' for higher-order gradients."
)


def unsupported(layer: Any, want_trace: bool) -> str | None:
    """Why this engine cannot run ``layer``, or None when it can (LSTM, GRU, RNN, every option)."""
    if layer.mode not in ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"):
        return f"mode {layer.mode!r}"
    return None


def run(
    layer: Any,
    x: Tensor,
    state: tuple[Tensor, ...],
    lengths: Tensor | None,
    masks: Masks,
    want_trace: bool,
) -> tuple[Tensor, tuple[Tensor, ...], dict[str, Tensor] | None]:
    return run_stack(layer, x, state, lengths, masks, want_trace, run_direction)


# --- shared plumbing ---------------------------------------------------------------------------


class _Plan:
    """Everything about one direction's call that is not a differentiable tensor."""

    __slots__ = (
        "kind",
        "options",
        "relu",
        "reverse",
        "h_mask",
        "keep",
        "valid",
        "want_trace",
        "names",
        "sizes",
    )

    def __init__(self, **kw: Any) -> None:
        for k in self.__slots__:
            setattr(self, k, kw.get(k))


class _Workspace:
    """Buffers of one direction's call and their per-step views (``v``), reused across calls.

    Creating a view costs about as much as a small op, and a step reads a dozen of them; keeping
    the views of a workspace from one call to the next removes that cost from the loop.
    """


class _Lease:
    """Holds a workspace while a forward's autograd graph may still read it; gives it back after."""

    __slots__ = ("ws",)

    def __init__(self, ws: _Workspace) -> None:
        self.ws = ws

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown the pool may be gone
            _release(self.ws)


_POOL: OrderedDict[Any, list[_Workspace]] = OrderedDict()
_POOL_PER_KEY = 2  # idle workspaces kept per shape
# Only small workspaces are kept between calls: that is where creating views costs as much as the
# arithmetic. Large shapes spend their time in matrix multiplies and just allocate afresh.
_POOL_MAX_WS_BYTES = 64 << 20
_POOL_MAX_BYTES = 256 << 20


_POOL_LOCK = threading.Lock()  # layers may run in several threads at once


def _acquire(key: Any, build: Any) -> _Workspace:
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


def _nbytes(ws: _Workspace) -> int:
    """Bytes held by a workspace (forward and backward buffers), computed once per state."""
    has_bwd = getattr(ws, "bwd", None) is not None
    cached = getattr(ws, "nbytes", None)
    if cached is not None and cached[0] == has_bwd:
        return cached[1]
    total = 0
    for part in (ws, getattr(ws, "bwd", None)):
        if part is not None:
            seen = {t.untyped_storage().data_ptr(): t for t in vars(part).values() if _is_t(t)}
            total += sum(t.untyped_storage().nbytes() for t in seen.values())
    ws.nbytes = (has_bwd, total)
    return total


def _is_t(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def _release(ws: _Workspace) -> None:
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


def _store(dst: Tensor, src: Tensor | None, factor: Tensor | None = None) -> None:
    """``dst = src * factor`` (``factor`` None: a copy; ``src`` None: zeros), in place."""
    if src is None:
        dst.zero_()
    elif factor is None:
        dst.copy_(src)
    else:
        torch.mul(src, factor, out=dst)


def _unbind(t: Tensor | None) -> tuple[Tensor, ...] | None:
    return None if t is None else t.unbind(0)


def _keep_masks(
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


def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _state_views(buf: Tensor, reverse: bool) -> tuple[Tensor, Tensor]:
    """(prev, new) views (T, B, S) by time of a (T+1, B, S) state-chain buffer."""
    if reverse:
        return buf[1:], buf[:-1]
    return buf[:-1], buf[1:]


def _as_float(mask: Tensor | None, like: Tensor) -> Tensor | None:
    return None if mask is None else mask.to(like.dtype)


def _masked_output(new_h: Tensor, valid: Tensor | None) -> Tensor:
    # A fresh tensor, never a view of the state buffer saved for backward: the caller may change
    # the output in place, as with torch.nn.LSTM.
    return new_h.clone() if valid is None else new_h * valid


def run_direction(
    cell: Any,
    x: Tensor,  # (T, B, D)
    state: tuple[Tensor, ...],  # each (B, size)
    weights: Any,
    options: Any,
    lengths: Tensor | None,
    reverse: bool,
    h_mask: Tensor | None,  # (B, P)
    zoneout: tuple[Tensor, ...] | None,  # each (T, B, size), True = keep previous
    want_trace: bool,
) -> DirectionResult:
    from lstmkit.nn.cells import GRUCell, LSTMCell

    steps = x.shape[0]
    valid = None
    if lengths is not None:
        valid = (torch.arange(steps)[:, None] < lengths[None, :]).to(x.device)[..., None]
    if cell is LSTMCell:
        kind, fn, names = "lstm", _LSTMFunction, ("i", "f", "g", "o", "c", "h")
        tensors = (x, state[0], state[1], *weights)
    elif cell is GRUCell:
        kind, fn, names = "gru", _GRUFunction, ("r", "z", "n", "h")
        tensors = (x, state[0], *weights)
    else:
        kind, fn, names = "rnn", _RNNFunction, ("h",)
        tensors = (x, state[0], *weights)
    plan = _Plan(
        kind=kind,
        options=options,
        relu=(options == "relu"),
        reverse=reverse,
        h_mask=h_mask,
        keep=_keep_masks(zoneout, valid, 2 if kind == "lstm" else 1),
        valid=valid,
        want_trace=want_trace,
        names=names,
    )
    needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)
    nb = _numba()
    path = "torch" if nb is None else nb.choose(kind, plan, x, weights)
    outs = None
    if path == "numba":
        try:
            outs = _call(nb.FUNCTIONS[kind], plan, tensors, needs_grad)
        except Exception as err:
            if not nb.is_compile_error(err):
                raise
            nb.disable(f"{type(err).__name__}: {err}")  # and run this call on torch ops
            path = "torch"
    if nb is not None:
        nb.CALLS[path, kind] += 1
    if outs is None:
        outs = _call(fn, plan, tensors, needs_grad)
    nstate = 2 if kind == "lstm" else 1
    output, final = outs[0], tuple(outs[1 : 1 + nstate])
    trace = dict(zip(names, outs[1 + nstate :], strict=True)) if want_trace else None
    return output, final, trace


def _call(fn: Any, plan: _Plan, tensors: tuple, needs_grad: bool) -> tuple[Tensor, ...]:
    # Inference builds no graph and saves nothing.
    return fn.apply(plan, *tensors) if needs_grad else fn.compute(plan, *tensors, save=False)[0]


def _numba() -> Any:
    """The compiled small-shape path (:mod:`.fused_numba`), or None when it cannot be imported."""
    try:
        from lstmkit.nn.engine import fused_numba
    except ImportError as err:  # numpy missing: fall back to torch ops
        log.debug("fused_numba unavailable: %s", err)
        return None
    return fused_numba


class _FusedFunction(torch.autograd.Function):
    """Common autograd plumbing; subclasses define ``compute`` and ``grads``."""

    @classmethod
    def forward(cls, ctx: Any, plan: _Plan, *tensors: Tensor | None) -> tuple[Tensor, ...]:
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
            raise RuntimeError(_DOUBLE_BACKWARD)
        with torch.no_grad():
            return cls._backward(ctx, grads)

    @classmethod
    def _backward(cls, ctx: Any, grads: tuple) -> tuple[Tensor | None, ...]:
        return (None, *cls.grads(ctx.plan, ctx.saved, ctx.needs_input_grad[1:], grads))

    @staticmethod
    def compute(plan: _Plan, *tensors: Any, save: bool) -> tuple[tuple[Tensor, ...], dict]:
        raise NotImplementedError

    @staticmethod
    def grads(plan: _Plan, saved: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        raise NotImplementedError


def _grad_output(plan: _Plan, gy: Tensor | None, gh_trace: Tensor | None) -> Tensor | None:
    """Gradient reaching the new hidden state from the output (and the trace's h), (T, B, P)."""
    g = gy
    if gh_trace is not None:
        g = gh_trace if g is None else g + gh_trace
    if g is not None and plan.valid is not None:
        g = g * plan.valid
    return g


def _input_grads(
    dA: Tensor, x: Tensor, w_ih: Tensor, need_x: bool, need_w: bool, need_b: bool
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    steps, batch, width = dA.shape
    dA2 = dA.reshape(steps * batch, width)
    dx = dW = db = None
    if need_x:
        dx = torch.mm(dA2, w_ih).view(steps, batch, -1)
    if need_w:
        dW = torch.mm(dA2.t(), x.reshape(steps * batch, -1))
    if need_b:
        db = dA2.sum(0)
    return dx, dW, db


def _rows(perm: list[int], size: int, device: Any) -> Tensor:
    return torch.cat([torch.arange(b * size, (b + 1) * size) for b in perm]).to(device)


def _recurrent_backward(
    plan: _Plan,
    order: range,
    dA_steps: list[Tensor],
    w_hh: Tensor,
    gy: list[Tensor] | None,
    dh: Tensor,
    kh: list[Tensor] | None,
    step_fn: Any,
) -> Tensor:
    """The shared backward loop skeleton of the single-state cells (GRU, RNN).

    ``step_fn(t, dh_new)`` fills ``dA_steps[t]`` (the rows multiplied by ``w_hh``) and returns the
    extra direct gradient to h_{t-1} (or None). Returns the gradient of the initial state.
    """
    m = plan.h_mask
    order = list(reversed(order))
    last = len(order) - 1
    for s, t in enumerate(order):
        extra = step_fn(t, dh)
        da = dA_steps[t]
        nxt = order[s + 1] if s < last else None
        bias = gy[nxt] if (gy is not None and nxt is not None) else None
        if m is None:
            dh_next = torch.mm(da, w_hh) if bias is None else torch.addmm(bias, da, w_hh)
        else:
            dh_next = torch.mm(da, w_hh)
            dh_next = dh_next * m if bias is None else torch.addcmul(bias, dh_next, m)
        if extra is not None:
            dh_next.addcmul_(dh, extra[t])
        dh = dh_next
    return dh


# --- LSTM --------------------------------------------------------------------------------------

# Gate blocks are reordered inside the engine to [o, i, f, g] (the gates present of these: [o, f, g]
# with coupled gates, [o, i, g] without a forget gate): the sigmoid gates are contiguous, and so
# are the blocks that c_{t-1} feeds back into (the peepholes' i and f, and g through c_t).
_ENGINE_ORDER = ("o", "i", "f", "g")


def _lstm_perm(opt: Any) -> list[int]:
    """Torch-order block index of each engine-order block, e.g. [3, 0, 1, 2] for i, f, g, o."""
    names = opt.gate_names
    return [names.index(gate) for gate in _ENGINE_ORDER if gate in names]


def _lstm_workspace(
    plan: _Plan, x: Tensor, hid: int, p: int, keep_shapes: tuple, has_m: bool
) -> _Workspace:
    opt = plan.options
    ln, proj = opt.layer_norm, opt.proj_size
    steps, batch, _ = x.shape
    ng = opt.num_gates
    gh = ng * hid
    new = lambda *shape: x.new_empty(shape)  # noqa: E731
    ws = _Workspace()
    ws.A = new(steps, batch, gh)
    ws.Z = new(steps, batch, gh) if ln else ws.A
    ws.Hs = new(steps + 1, batch, p)
    ws.Cs = new(steps + 1, batch, hid)
    h_prev, h_new = _state_views(ws.Hs, plan.reverse)
    c_prev, c_new = _state_views(ws.Cs, plan.reverse)
    ws.h_prev, ws.h_new, ws.c_prev, ws.c_new = h_prev, h_new, c_prev, c_new
    keep = keep_shapes[0] is not None
    ws.Cc = new(steps, batch, hid) if keep else c_new
    ws.Hc = new(steps, batch, p) if keep else h_new
    ws.U = new(steps, batch, hid) if proj else None
    ws.TC = new(steps, batch, hid)
    ws.Hr = new(steps, batch, p) if has_m else h_prev
    ws.tmp = new(batch, hid)
    if keep:
        ws.kh = torch.empty(keep_shapes[0], dtype=torch.bool, device=x.device)
        ws.kc = torch.empty(keep_shapes[1], dtype=torch.bool, device=x.device)
    Z = ws.Z
    # Engine order: o, then the sigmoid gates that c_{t-1} feeds (i and f, those present), then g.
    n_pre = ng - 2
    o_sl, pre_sl = slice(0, hid), slice(hid, (ng - 1) * hid)
    sig_sl, g_sl = slice(0, (ng - 1) * hid), slice((ng - 1) * hid, gh)
    i_sl = None if opt.coupled_gates else slice(hid, 2 * hid)
    f_sl = None
    if opt.forget_gate:
        f_sl = slice(hid, 2 * hid) if opt.coupled_gates else slice(2 * hid, 3 * hid)
    u = _unbind
    ws.v = dict(
        hp=u(h_prev),
        hn=u(h_new),
        cp=u(c_prev),
        cn=u(c_new),
        A=u(ws.A),
        Z=u(Z),
        TC=u(ws.TC),
        Cc=u(ws.Cc),
        Hc=u(ws.Hc),
        Hr=u(ws.Hr),
        U=u(ws.U),
        zpre=u(Z[..., pre_sl].view(steps, batch, n_pre, hid)),
        zpre2=u(Z[..., pre_sl]),
        zsig=u(Z[..., sig_sl]),
        g=u(Z[..., g_sl]),
        o=u(Z[..., o_sl]),
        f=None if f_sl is None else u(Z[..., f_sl]),
        i=None if i_sl is None else u(Z[..., i_sl]),
        cpu=u(c_prev.unsqueeze(2)),
        kh=u(ws.kh) if keep else None,
        kc=u(ws.kc) if keep else None,
        Av=u(ws.A.view(steps, batch, ng, hid)) if ln else None,
    )
    ws.slices = (o_sl, pre_sl, sig_sl, g_sl, i_sl, f_sl)
    ws.bwd = None
    return ws


def _lstm_backward_workspace(ws: _Workspace, plan: _Plan, x: Tensor, hid: int, p: int) -> None:
    opt = plan.options
    ln, proj = opt.layer_norm, opt.proj_size
    steps, batch, _ = x.shape
    ng = opt.num_gates
    gh = ng * hid
    new = lambda *shape: x.new_empty(shape)  # noqa: E731
    u = _unbind
    b = _Workspace()
    b.dZ = new(steps, batch, gh)
    b.G = new(steps, batch, ng, hid) if ln else None  # dz * ln_gates_weight
    b.dY = new(steps, batch, hid) if ln else None
    b.dHc = new(steps, batch, p) if proj else None
    b.DU = new(steps, batch, hid) if proj else None
    b.DCC = new(steps, batch, hid)
    b.DCT = new(steps, batch, hid)
    b.DH = new(steps + 1, batch, p)
    b.DC = new(steps + 1, batch, hid)
    b.GO = new(steps, batch, p)
    b.Ko = new(steps, batch, hid)
    b.Kc = new(steps, batch, hid)  # Kc, or Ky with layer norm
    b.Kco = new(steps, batch, hid)
    b.K = new(steps, batch, ng - 1, hid)
    b.Kcp = new(steps, batch, hid)
    b.v = dict(
        dZ=u(b.dZ),
        dZv=u(b.dZ.view(steps, batch, ng, hid)),
        G=u(b.G),
        dY=u(b.dY),
        dHc=u(b.dHc),
        DU=u(b.DU),
        DCC=u(b.DCC),
        DCT=u(b.DCT),
        DCTu=u(b.DCT.unsqueeze(2)),
        DH=u(b.DH),
        DC=u(b.DC),
        GO=u(b.GO),
        Ko=u(b.Ko),
        Kc=u(b.Kc),
        Kco=u(b.Kco),
        K=u(b.K),
        Kcp=u(b.Kcp),
        dzo=u(b.dZ[..., 0:hid]),
        dzr=u(b.dZ[..., hid:].view(steps, batch, ng - 1, hid)),
    )
    ws.bwd = b


class _LSTMFunction(_FusedFunction):
    @staticmethod
    def compute(
        plan: _Plan,
        x: Tensor,
        h0: Tensor,
        c0: Tensor,
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor | None,
        b_hh: Tensor | None,
        w_hr: Tensor | None,
        w_ci: Tensor | None,
        w_cf: Tensor | None,
        w_co: Tensor | None,
        ln_w: Tensor | None,
        ln_b: Tensor | None,
        lnc_w: Tensor | None,
        lnc_b: Tensor | None,
        *,
        save: bool,
    ) -> tuple[tuple[Tensor, ...], dict]:
        opt = plan.options
        coupled, peep, ln, proj = opt.coupled_gates, opt.peephole, opt.layer_norm, opt.proj_size
        steps, batch, dim = x.shape
        hid = c0.shape[-1]
        p = h0.shape[-1]
        gh = opt.num_gates * hid
        keep_h, keep_c = plan.keep
        m = plan.h_mask
        keep_shapes = (None, None) if keep_h is None else (keep_h.shape, keep_c.shape)
        key = (
            "lstm",
            opt,
            plan.reverse,
            tuple(x.shape),
            hid,
            p,
            keep_shapes,
            m is not None,
            x.dtype,
            x.device,
        )
        ws = _acquire(key, lambda: _lstm_workspace(plan, x, hid, p, keep_shapes, m is not None))
        lease = _Lease(ws)
        v = ws.v
        rows = _rows(_lstm_perm(opt), hid, x.device)
        wih = w_ih.index_select(0, rows)
        whh_t = w_hh.index_select(0, rows).t()
        x2 = x.reshape(steps * batch, dim)
        A2 = ws.A.view(steps * batch, gh)
        if b_ih is None:
            torch.mm(x2, wih.t(), out=A2)
        else:
            torch.addmm((b_ih + b_hh).index_select(0, rows), x2, wih.t(), out=A2)
        if ln:
            lnw = ln_w.index_select(0, rows)
            lnb = ln_b.index_select(0, rows)
        if keep_h is not None:
            ws.kh.copy_(keep_h)
            ws.kc.copy_(keep_c)
        order = _order(steps, plan.reverse)
        ws.h_prev[order[0]].copy_(h0)
        ws.c_prev[order[0]].copy_(c0)
        hp_l, hn_l, cp_l, cn_l = v["hp"], v["hn"], v["cp"], v["cn"]
        A_l, Z_l, TC_l, Cc_l, Hc_l, Hr_l, U_l = (
            v["A"],
            v["Z"],
            v["TC"],
            v["Cc"],
            v["Hc"],
            v["Hr"],
            v["U"],
        )
        zpre_l, zpre2_l, zsig_l, g_l, o_l, f_l, i_l, cpu_l = (
            v["zpre"],
            v["zpre2"],
            v["zsig"],
            v["g"],
            v["o"],
            v["f"],
            v["i"],
            v["cpu"],
        )
        kh_l, kc_l, Av_l = v["kh"], v["kc"], v["Av"]
        whr_t = w_hr.t() if proj else None
        wc_pre = None
        if peep:
            # The peepholes from c_{t-1} of the pre blocks, in engine order: w_ci, w_cf if present.
            wc_pre = torch.stack([w for w in (w_ci, w_cf) if w is not None])
        ln_stats: list[Any] = [None] * steps  # by time step t, not by order of processing
        lnc_stats: list[Any] = [None] * steps
        tmp = ws.tmp
        for t in order:
            hp = hp_l[t]
            cp = cp_l[t]
            hr = hp if m is None else torch.mul(hp, m, out=Hr_l[t])
            A_l[t].addmm_(hr, whh_t)
            if ln:
                an, mean, rstd = torch.native_layer_norm(Av_l[t], (hid,), None, None, LN_EPS)
                torch.addcmul(lnb, an.view(batch, gh), lnw, out=Z_l[t])
                ln_stats[t] = (mean, rstd)
            if peep:
                zpre_l[t].addcmul_(cpu_l[t], wc_pre)
                zpre2_l[t].sigmoid_()
            else:
                zsig_l[t].sigmoid_()
            g = g_l[t].tanh_()
            c = Cc_l[t]
            if coupled:  # c = f * c_prev + (1 - f) * g
                torch.sub(cp, g, out=tmp)
                torch.addcmul(g, f_l[t], tmp, out=c)
            elif f_l is None:  # no forget gate, f ≡ 1: c = c_prev + i * g
                torch.addcmul(cp, i_l[t], g, out=c)
            else:  # c = f * c_prev + i * g
                torch.mul(f_l[t], cp, out=c)
                c.addcmul_(i_l[t], g)
            o = o_l[t]
            if peep:
                o.addcmul_(c, w_co).sigmoid_()
            tc = TC_l[t]
            if ln:
                y, mean_c, rstd_c = torch.native_layer_norm(c, (hid,), lnc_w, lnc_b, LN_EPS)
                torch.tanh(y, out=tc)
                lnc_stats[t] = (mean_c, rstd_c)
            else:
                torch.tanh(c, out=tc)
            if proj:
                torch.mm(torch.mul(o, tc, out=U_l[t]), whr_t, out=Hc_l[t])
            else:
                torch.mul(o, tc, out=Hc_l[t])
            if kh_l is not None:
                torch.where(kh_l[t], hp, Hc_l[t], out=hn_l[t])
                torch.where(kc_l[t], cp, c, out=cn_l[t])

        last = order[-1]
        Z = ws.Z
        output = _masked_output(ws.h_new, plan.valid)
        outs = [output, hn_l[last].clone(), cn_l[last].clone()]
        constants: tuple[Tensor, ...] = ()
        if plan.want_trace:
            o_sl, _, _, g_sl, i_sl, f_sl = ws.slices
            vd = plan.valid
            # Without a forget gate f ≡ 1, reported as ones as the reference does.
            f_all = torch.ones_like(ws.TC) if f_sl is None else Z[..., f_sl]
            i_all = 1.0 - f_all if coupled else Z[..., i_sl]
            for tr in (i_all, f_all, Z[..., g_sl], Z[..., o_sl], ws.c_new, ws.h_new):
                outs.append(tr.clone() if vd is None else tr * vd)
            if f_sl is None:
                constants = (outs[-5],)  # nothing to differentiate: marked so in forward
        saved: dict[str, Any] = {}
        if save:
            saved = dict(
                constants=constants,
                lease=lease,
                ws=ws,
                x=x,
                w_ih=wih,
                w_hh=whh_t.t(),
                w_hr=w_hr,
                rows=rows,
                w_ci=w_ci,
                w_cf=w_cf,
                w_co=w_co,
                lnw=lnw if ln else None,
                lnc_w=lnc_w,
                lnc_b=lnc_b,
                hid=hid,
                p=p,
                has_bias=b_ih is not None,
            )
            if ln:
                saved["ln_mean"] = torch.stack([st[0] for st in ln_stats])
                saved["ln_rstd"] = torch.stack([st[1] for st in ln_stats])
                saved["lnc_mean"] = torch.stack([st[0] for st in lnc_stats])
                saved["lnc_rstd"] = torch.stack([st[1] for st in lnc_stats])
        return tuple(outs), saved

    @staticmethod
    def grads(plan: _Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        opt = plan.options
        coupled, peep, ln, proj = opt.coupled_gates, opt.peephole, opt.layer_norm, opt.proj_size
        gy, g_hn, g_cn = grads[0], grads[1], grads[2]
        g_tr = grads[3:] if plan.want_trace else (None,) * 6
        ws = sv["ws"]
        x = sv["x"]
        Z, TC, Cc, cp_all = ws.Z, ws.TC, ws.Cc, ws.c_prev
        steps, batch, _ = x.shape
        hid, p = sv["hid"], sv["p"]
        ng = opt.num_gates
        gh = ng * hid
        valid = plan.valid
        keep_h, keep_c = plan.keep
        m = plan.h_mask
        w_hh = sv["w_hh"]
        order = _order(steps, plan.reverse)
        if ws.bwd is None:
            _lstm_backward_workspace(ws, plan, x, hid, p)
        b = ws.bwd
        v = b.v
        o_sl, _, _, g_sl, i_sl, f_sl = ws.slices

        # Derivative factors for all steps at once, written into the workspace.
        o, g = Z[..., o_sl], Z[..., g_sl]
        f = None if f_sl is None else Z[..., f_sl]
        i = None if i_sl is None else Z[..., i_sl]
        do_ = o - o * o  # σ'
        dtc = 1.0 - TC * TC
        kc_f = _as_float(keep_c, x)
        kh_f = _as_float(keep_h, x)
        nkh = None if kh_f is None else 1.0 - kh_f
        nkc = None if kc_f is None else 1.0 - kc_f
        # No projection: dh_cell = dh_new * (1 - keep_h) folds into the factors of du.
        fold = nkh if (nkh is not None and not proj) else None
        Ko_raw = TC * do_  # dz_o / du
        _store(b.Ko, Ko_raw, fold)
        Kc = o * dtc  # Ky (layer norm: d y_cell / du), else dc / du
        if peep and not ln:
            Kc = Kc + Ko_raw * sv["w_co"]
        _store(b.Kc, Kc, fold)
        if ln and peep:
            Kco = Ko_raw * sv["w_co"]  # du -> dc through the o peephole
            _store(b.Kco, Kco, fold)
        gd = 1.0 - g * g
        K = b.K  # dz / dc_t of the pre blocks and g, in engine order
        if coupled:
            df_ = f - f * f
            torch.mul((cp_all - g), df_, out=K[:, :, 0])  # f
            torch.mul(1.0 - f, gd, out=K[:, :, 1])  # g
            if peep:
                torch.addcmul(f, K[:, :, 0], sv["w_cf"], out=b.Kcp)
            else:
                b.Kcp.copy_(f)
        elif f is None:
            # No forget gate, f ≡ 1: dc_{t-1} = dc_t, plus the input gate's peephole term.
            di_ = i - i * i
            torch.mul(g, di_, out=K[:, :, 0])  # i
            torch.mul(i, gd, out=K[:, :, 1])  # g
            if peep:
                torch.mul(K[:, :, 0], sv["w_ci"], out=b.Kcp).add_(1.0)
            else:
                b.Kcp.fill_(1.0)
        else:
            di_ = i - i * i
            df_ = f - f * f
            torch.mul(g, di_, out=K[:, :, 0])  # i
            torch.mul(cp_all, df_, out=K[:, :, 1])  # f
            torch.mul(i, gd, out=K[:, :, 2])  # g
            if peep:
                torch.addcmul(f + K[:, :, 0] * sv["w_ci"], K[:, :, 1], sv["w_cf"], out=b.Kcp)
            else:
                b.Kcp.copy_(f)
        # Trace gradients of the gates enter as constant additions to dz.
        Bz = None
        gi, gf, gg, go = g_tr[0], g_tr[1], g_tr[2], g_tr[3]
        if any(t is not None for t in (gi, gf, gg, go)):
            Bz = torch.zeros(steps, batch, gh, dtype=x.dtype, device=x.device)
            if go is not None:
                Bz[..., o_sl] += go * do_
            if coupled:
                if gf is not None:
                    Bz[..., f_sl] += gf * df_
                if gi is not None:
                    Bz[..., f_sl] -= gi * df_
            else:
                if gi is not None:
                    Bz[..., i_sl] += gi * di_
                if gf is not None and f is not None:  # without a forget gate its trace is constant
                    Bz[..., f_sl] += gf * df_
            if gg is not None:
                Bz[..., g_sl] += gg * gd
            if valid is not None:
                Bz = Bz * valid
        Bc = Bcp = None
        if Bz is not None and peep:
            # Through the peepholes the constant gate gradients also reach c_t and c_{t-1}.
            Bc = Bz[..., o_sl] * sv["w_co"]
            # w_ci exists without coupled gates, w_cf with a forget gate (at least one of them).
            pre = ((i_sl, sv["w_ci"]), (f_sl, sv["w_cf"]))
            terms = [Bz[..., sl] * w for sl, w in pre if sl is not None]
            Bcp = terms[0] if len(terms) == 1 else terms[0] + terms[1]
        g_out = _grad_output(plan, gy, g_tr[5])
        gout_l = None
        if g_out is not None:
            b.GO.copy_(g_out)
            gout_l = v["GO"]
        g_c = g_tr[4]
        if g_c is not None and valid is not None:
            g_c = g_c * valid

        bwd = list(reversed(order))
        dh = v["DH"][0]
        dc = v["DC"][0]
        _store(dh, g_hn)
        _store(dc, g_cn)
        if g_out is not None:
            dh.add_(g_out[bwd[0]])
        if g_c is not None:
            dc.add_(g_c[bwd[0]])

        L = _unbind
        DH_l, DC_l, dZ_l, K_l, Kcp_l, Ko_l, Kc_l = (
            v["DH"],
            v["DC"],
            v["dZ"],
            v["K"],
            v["Kcp"],
            v["Ko"],
            v["Kc"],
        )
        Kco_l = v["Kco"] if (ln and peep) else None
        if ln:
            da_steps: list[Any] = [None] * steps
            dzv_l, G_l = v["dZv"], v["G"]
            lnw_v = sv["lnw"].view(ng, hid)
        dY_l, dHc_l, DU_l, DCC_l, DCT_l, DCTu_l = (
            v["dY"],
            v["dHc"],
            v["DU"],
            v["DCC"],
            v["DCT"],
            v["DCTu"],
        )
        dzo_l, dzr_l = v["dzo"], v["dzr"]
        Cc_l = ws.v["Cc"]
        Av_l = ws.v["Av"]
        kh_l, kc_l, nkh_l, nkc_l = L(kh_f), L(kc_f), L(nkh), L(nkc)
        Bz_l, gc_l, Bc_l, Bcp_l = L(Bz), L(g_c), L(Bc), L(Bcp)
        if ln:
            ln_mean_l, ln_rstd_l = L(sv["ln_mean"]), L(sv["ln_rstd"])
            lnc_mean_l, lnc_rstd_l = L(sv["lnc_mean"]), L(sv["lnc_rstd"])
            lnc_w, lnc_b = sv["lnc_w"], sv["lnc_b"]
        w_hr = sv["w_hr"]
        mask3 = [True, False, False]
        last = len(bwd) - 1
        for s, t in enumerate(bwd):
            # dh, dc: gradients w.r.t. the state after step t (zoneout and lengths applied).
            dh, dc = DH_l[s], DC_l[s]
            dhn, dcn = DH_l[s + 1], DC_l[s + 1]
            if proj:
                if nkh_l is None:
                    dh_cell = dHc_l[t].copy_(dh)
                else:
                    dh_cell = torch.mul(dh, nkh_l[t], out=dHc_l[t])
                du = torch.mm(dh_cell, w_hr, out=DU_l[t])
            else:
                du = dh
            dc_cell = dc if nkc_l is None else torch.mul(dc, nkc_l[t], out=DCC_l[t])
            dz = dZ_l[t]
            torch.mul(du, Ko_l[t], out=dzo_l[t])
            dct = DCT_l[t]
            if ln:
                dy = torch.mul(du, Kc_l[t], out=dY_l[t])
                dcl = torch.ops.aten.native_layer_norm_backward(
                    dy, Cc_l[t], (hid,), lnc_mean_l[t], lnc_rstd_l[t], lnc_w, lnc_b, mask3
                )[0]
                torch.add(dcl, dc_cell, out=dct)
                if Kco_l is not None:
                    dct.addcmul_(du, Kco_l[t])
            else:
                torch.addcmul(dc_cell, du, Kc_l[t], out=dct)
            if Bc_l is not None:
                dct.add_(Bc_l[t])
            torch.mul(DCTu_l[t], K_l[t], out=dzr_l[t])
            if Bz_l is not None:
                dz.add_(Bz_l[t])
            torch.mul(dct, Kcp_l[t], out=dcn)
            if Bcp_l is not None:
                dcn.add_(Bcp_l[t])
            if kc_l is not None:
                dcn.addcmul_(dc, kc_l[t])
            if ln:
                da = torch.ops.aten.native_layer_norm_backward(
                    torch.mul(dzv_l[t], lnw_v, out=G_l[t]),
                    Av_l[t],
                    (hid,),
                    ln_mean_l[t],
                    ln_rstd_l[t],
                    None,
                    None,
                    mask3,
                )[0]
                da = da.view(batch, gh)
                da_steps[t] = da  # stacked after the loop, no copy per step
            else:
                da = dz
            nxt = bwd[s + 1] if s < last else None
            bias = gout_l[nxt] if (gout_l is not None and nxt is not None) else None
            if m is None:
                if bias is None:
                    torch.mm(da, w_hh, out=dhn)
                else:
                    torch.addmm(bias, da, w_hh, out=dhn)
            else:
                torch.mm(da, w_hh, out=dhn)
                if bias is None:
                    dhn.mul_(m)
                else:
                    torch.addcmul(bias, dhn, m, out=dhn)
            if kh_l is not None:
                dhn.addcmul_(dh, kh_l[t])
            if gc_l is not None and nxt is not None:
                dcn.add_(gc_l[nxt])
        dh, dc = DH_l[last + 1], DC_l[last + 1]

        # Weight gradients: one matrix multiply (or reduction) over all steps.
        (n_x, n_h0, n_c0, n_wih, n_whh, n_bih, n_bhh, n_whr, n_ci, n_cf, n_co) = needs[:11]
        n_lnw, n_lnb, n_lncw, n_lncb = needs[11:15]
        dZ, dY, dHc = b.dZ, b.dY, b.dHc
        dA = torch.stack(da_steps) if ln else dZ
        inv = torch.argsort(sv["rows"])
        rows2 = steps * batch
        dx, dW_ih, db = _input_grads(
            dA, x, sv["w_ih"], n_x, n_wih, sv["has_bias"] and (n_bih or n_bhh)
        )
        if dW_ih is not None:
            dW_ih = dW_ih.index_select(0, inv)
        if db is not None:
            db = db.index_select(0, inv)
        dW_hh = None
        if n_whh:
            dW_hh = torch.mm(dA.reshape(rows2, gh).t(), ws.Hr.reshape(rows2, p))
            dW_hh = dW_hh.index_select(0, inv)
        dW_hr = None
        if proj and n_whr:
            dW_hr = torch.mm(dHc.reshape(rows2, p).t(), ws.U.reshape(rows2, hid))
        d_ci = d_cf = d_co = None
        if peep:
            if n_co:
                d_co = (dZ[..., o_sl] * Cc).sum((0, 1))
            if f_sl is not None and n_cf:
                d_cf = (dZ[..., f_sl] * cp_all).sum((0, 1))
            if i_sl is not None and n_ci:
                d_ci = (dZ[..., i_sl] * cp_all).sum((0, 1))
        d_lnw = d_lnb = d_lncw = d_lncb = None
        if ln:
            if n_lnw:
                A4 = ws.A.view(steps, batch, ng, hid)
                ahat = (A4 - sv["ln_mean"]) * sv["ln_rstd"]
                d_lnw = (dZ * ahat.view(steps, batch, gh)).sum((0, 1)).index_select(0, inv)
            if n_lnb:
                d_lnb = dZ.sum((0, 1)).index_select(0, inv)
            if n_lncw:
                chat = (Cc - sv["lnc_mean"]) * sv["lnc_rstd"]
                d_lncw = (dY * chat).sum((0, 1))
            if n_lncb:
                d_lncb = dY.sum((0, 1))
        return (
            dx,
            dh.clone() if n_h0 else None,
            dc.clone() if n_c0 else None,
            dW_ih,
            dW_hh,
            db if n_bih else None,
            db if n_bhh else None,
            dW_hr,
            d_ci,
            d_cf,
            d_co,
            d_lnw,
            d_lnb,
            d_lncw,
            d_lncb,
        )


# --- GRU ---------------------------------------------------------------------------------------


def _gru_workspace(plan: _Plan, x: Tensor, hid: int, keep_shape: Any, has_m: bool) -> _Workspace:
    steps, batch, _ = x.shape
    h2 = 2 * hid
    new = lambda *shape: x.new_empty(shape)  # noqa: E731
    u = _unbind
    ws = _Workspace()
    ws.X = new(steps, batch, 3 * hid)  # input part, then the gates r, z, n in place
    ws.HH = new(steps, batch, 3 * hid)  # W_hh h_rec (+ b_hn on the n block)
    ws.Hs = new(steps + 1, batch, hid)
    h_prev, h_new = _state_views(ws.Hs, plan.reverse)
    ws.h_prev, ws.h_new = h_prev, h_new
    keep = keep_shape is not None
    ws.Hc = new(steps, batch, hid) if keep else h_new
    ws.Hr = new(steps, batch, hid) if has_m else h_prev
    ws.kh = torch.empty(keep_shape, dtype=torch.bool, device=x.device) if keep else None
    ws.tmp = new(batch, hid)
    X, HH = ws.X, ws.HH
    ws.v = dict(
        hp=u(h_prev),
        hn=u(h_new),
        Hc=u(ws.Hc),
        Hr=u(ws.Hr),
        HH=u(HH),
        xrz=u(X[..., :h2]),
        hrz=u(HH[..., :h2]),
        xr=u(X[..., :hid]),
        xz=u(X[..., hid:h2]),
        xn=u(X[..., h2:]),
        hhn=u(HH[..., h2:]),
        kh=u(ws.kh),
    )
    ws.bwd = None
    return ws


def _gru_backward_workspace(ws: _Workspace, x: Tensor, hid: int) -> None:
    steps, batch, _ = x.shape
    h2 = 2 * hid
    new = lambda *shape: x.new_empty(shape)  # noqa: E731
    u = _unbind
    b = _Workspace()
    # D per step: [dar, dhn, daz, dan]; D[..., :3H] multiplies W_hh rows (r, n, z).
    b.D = new(steps, batch, 4 * hid)
    b.DH = new(steps + 1, batch, hid)
    b.GO = new(steps, batch, hid)
    b.Kzn = new(steps, batch, 2, hid)
    b.Krr = new(steps, batch, 2, hid)
    b.Kp = new(steps, batch, hid)
    D = b.D
    b.v = dict(
        dHH=u(D[..., : 3 * hid]),
        dzn=u(D[..., h2:].view(steps, batch, 2, hid)),
        dnu=u(D[..., 3 * hid :].unsqueeze(2)),
        drr=u(D[..., :h2].view(steps, batch, 2, hid)),
        dr=u(D[..., :hid]),
        DH=u(b.DH),
        DHu=u(b.DH.unsqueeze(2)),
        GO=u(b.GO),
        Kzn=u(b.Kzn),
        Krr=u(b.Krr),
        Kp=u(b.Kp),
    )
    ws.bwd = b


class _GRUFunction(_FusedFunction):
    @staticmethod
    def compute(
        plan: _Plan,
        x: Tensor,
        h0: Tensor,
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor | None,
        b_hh: Tensor | None,
        *,
        save: bool,
    ) -> tuple[tuple[Tensor, ...], dict]:
        steps, batch, dim = x.shape
        hid = h0.shape[-1]
        h2 = 2 * hid
        (keep_h,) = plan.keep
        m = plan.h_mask
        keep_shape = None if keep_h is None else keep_h.shape
        key = ("gru", plan.reverse, tuple(x.shape), hid, keep_shape, m is not None, x.dtype)
        key = (*key, x.device)
        ws = _acquire(key, lambda: _gru_workspace(plan, x, hid, keep_shape, m is not None))
        lease = _Lease(ws)
        v = ws.v
        x2 = x.reshape(steps * batch, dim)
        X2 = ws.X.view(steps * batch, 3 * hid)
        bhn = None
        if b_ih is None:
            torch.mm(x2, w_ih.t(), out=X2)
        else:
            bias = torch.cat([b_ih[:h2] + b_hh[:h2], b_ih[h2:]])
            bhn = torch.cat([b_hh.new_zeros(h2), b_hh[h2:]])
            torch.addmm(bias, x2, w_ih.t(), out=X2)
        if keep_h is not None:
            ws.kh.copy_(keep_h)
        order = _order(steps, plan.reverse)
        ws.h_prev[order[0]].copy_(h0)
        whh_t = w_hh.t()
        hp_l, hn_l, Hc_l, Hr_l, HH_l = v["hp"], v["hn"], v["Hc"], v["Hr"], v["HH"]
        xrz_l, hrz_l, xr_l, xz_l, xn_l, hhn_l = (
            v["xrz"],
            v["hrz"],
            v["xr"],
            v["xz"],
            v["xn"],
            v["hhn"],
        )
        kh_l = v["kh"]
        tmp = ws.tmp
        for t in order:
            hp = hp_l[t]
            hr = hp if m is None else torch.mul(hp, m, out=Hr_l[t])
            if bhn is None:
                torch.mm(hr, whh_t, out=HH_l[t])
            else:
                torch.addmm(bhn, hr, whh_t, out=HH_l[t])
            xrz_l[t].add_(hrz_l[t]).sigmoid_()
            n = xn_l[t].addcmul_(xr_l[t], hhn_l[t]).tanh_()
            torch.sub(hp, n, out=tmp)
            torch.addcmul(n, xz_l[t], tmp, out=Hc_l[t])
            if kh_l is not None:
                torch.where(kh_l[t], hp, Hc_l[t], out=hn_l[t])
        last = order[-1]
        X = ws.X
        output = _masked_output(ws.h_new, plan.valid)
        outs = [output, hn_l[last].clone()]
        if plan.want_trace:
            vd = plan.valid
            for tr in (X[..., :hid], X[..., hid:h2], X[..., h2:], ws.h_new):
                outs.append(tr.clone() if vd is None else tr * vd)
        saved: dict[str, Any] = {}
        if save:
            saved = dict(
                lease=lease,
                ws=ws,
                x=x,
                w_ih=w_ih,
                w_hh=w_hh,
                hid=hid,
                has_bias=b_ih is not None,
            )
        return tuple(outs), saved

    @staticmethod
    def grads(plan: _Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        gy, g_hn = grads[0], grads[1]
        g_tr = grads[2:] if plan.want_trace else (None,) * 4
        ws = sv["ws"]
        x = sv["x"]
        X, HH, hp_all = ws.X, ws.HH, ws.h_prev
        steps, batch, _ = x.shape
        hid = sv["hid"]
        h2 = 2 * hid
        (keep_h,) = plan.keep
        m = plan.h_mask
        if ws.bwd is None:
            _gru_backward_workspace(ws, x, hid)
        b = ws.bwd
        v = b.v
        r, z, n = X[..., :hid], X[..., hid:h2], X[..., h2:]
        hn = HH[..., h2:]
        dr_, dz_, dn_ = r - r * r, z - z * z, 1.0 - n * n
        kh = _as_float(keep_h, x)
        nkh = None if kh is None else 1.0 - kh
        _store(b.Kzn[:, :, 0], (hp_all - n) * dz_, nkh)
        _store(b.Kzn[:, :, 1], (1.0 - z) * dn_, nkh)
        if kh is not None:
            torch.addcmul(kh, z, nkh, out=b.Kp)  # z (1 - keep) + keep
        else:
            b.Kp.copy_(z)
        torch.mul(hn, dr_, out=b.Krr[:, :, 0])
        b.Krr[:, :, 1].copy_(r)
        Bzn = Br = None
        gr, gz, gn = g_tr[0], g_tr[1], g_tr[2]
        if gz is not None or gn is not None:
            Bzn = torch.zeros_like(b.Kzn)
            if gz is not None:
                Bzn[:, :, 0] += gz * dz_
            if gn is not None:
                Bzn[:, :, 1] += gn * dn_
            if plan.valid is not None:
                Bzn *= plan.valid.unsqueeze(2)
        if gr is not None:
            Br = gr * dr_
            if plan.valid is not None:
                Br = Br * plan.valid
        g_out = _grad_output(plan, gy, g_tr[3])
        gout_l = None
        if g_out is not None:
            b.GO.copy_(g_out)
            gout_l = v["GO"]

        perm_rows = _rows([0, 2, 1], hid, x.device)
        w_hh_p = sv["w_hh"].index_select(0, perm_rows)
        order = _order(steps, plan.reverse)
        bwd = list(reversed(order))
        DH_l, DHu_l = v["DH"], v["DHu"]
        _store(DH_l[0], g_hn)
        if g_out is not None:
            DH_l[0].add_(g_out[bwd[0]])
        dHH_l, dzn_l, dnu_l, drr_l, dr_l = v["dHH"], v["dzn"], v["dnu"], v["drr"], v["dr"]
        Kzn_l, Krr_l, Kp_l = v["Kzn"], v["Krr"], v["Kp"]
        Bzn_l, Br_l = _unbind(Bzn), _unbind(Br)
        last = len(bwd) - 1
        for s, t in enumerate(bwd):
            dh, dhn = DH_l[s], DH_l[s + 1]
            zn = torch.mul(DHu_l[s], Kzn_l[t], out=dzn_l[t])
            if Bzn_l is not None:
                zn.add_(Bzn_l[t])
            torch.mul(dnu_l[t], Krr_l[t], out=drr_l[t])
            if Br_l is not None:
                dr_l[t].add_(Br_l[t])
            da = dHH_l[t]
            nxt = bwd[s + 1] if s < last else None
            bias = gout_l[nxt] if (gout_l is not None and nxt is not None) else None
            if m is None:
                if bias is None:
                    torch.mm(da, w_hh_p, out=dhn)
                else:
                    torch.addmm(bias, da, w_hh_p, out=dhn)
            else:
                torch.mm(da, w_hh_p, out=dhn)
                if bias is None:
                    dhn.mul_(m)
                else:
                    torch.addcmul(bias, dhn, m, out=dhn)
            dhn.addcmul_(dh, Kp_l[t])
        dh0 = DH_l[last + 1]

        n_x, n_h0, n_wih, n_whh, n_bih, n_bhh = needs[:6]
        D = b.D
        dX = torch.cat([D[..., :hid], D[..., h2:]], dim=-1)
        dx, dW_ih, db_ih = _input_grads(dX, x, sv["w_ih"], n_x, n_wih, sv["has_bias"] and n_bih)
        dW_hh = db_hh = None
        rows2 = steps * batch
        inv = torch.argsort(perm_rows)
        dHH = D[..., : 3 * hid].reshape(rows2, 3 * hid)
        if n_whh:
            dW_hh = torch.mm(dHH.t(), ws.Hr.reshape(rows2, hid)).index_select(0, inv)
        if sv["has_bias"] and n_bhh:
            db_hh = dHH.sum(0).index_select(0, inv)
        return dx, dh0.clone() if n_h0 else None, dW_ih, dW_hh, db_ih, db_hh


# --- vanilla RNN -------------------------------------------------------------------------------


class _RNNFunction(_FusedFunction):
    @staticmethod
    def compute(
        plan: _Plan,
        x: Tensor,
        h0: Tensor,
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor | None,
        b_hh: Tensor | None,
        *,
        save: bool,
    ) -> tuple[tuple[Tensor, ...], dict]:
        steps, batch, dim = x.shape
        hid = h0.shape[-1]
        (keep_h,) = plan.keep
        m = plan.h_mask
        Hs = x.new_empty(steps + 1, batch, hid)
        h_prev_all, h_new_all = _state_views(Hs, plan.reverse)
        order = _order(steps, plan.reverse)
        A = h_new_all if keep_h is None else torch.empty_like(h_new_all)
        x2 = x.reshape(steps * batch, dim)
        A2 = A.view(steps * batch, hid)
        if b_ih is None:
            torch.mm(x2, w_ih.t(), out=A2)
        else:
            torch.addmm(b_ih + b_hh, x2, w_ih.t(), out=A2)
        h_prev_all[order[0]].copy_(h0)
        Hr = torch.empty_like(h_prev_all) if m is not None else h_prev_all
        whh_t = w_hh.t()
        hp_l, hn_l, A_l, Hr_l = (
            h_prev_all.unbind(0),
            h_new_all.unbind(0),
            A.unbind(0),
            Hr.unbind(0),
        )
        kh_l = keep_h.unbind(0) if keep_h is not None else None
        relu = plan.relu
        for t in order:
            hp = hp_l[t]
            hr = hp if m is None else torch.mul(hp, m, out=Hr_l[t])
            a = A_l[t].addmm_(hr, whh_t)
            if relu:
                a.relu_()
            else:
                a.tanh_()
            if kh_l is not None:
                torch.where(kh_l[t], hp, a, out=hn_l[t])
        last = order[-1]
        output = _masked_output(h_new_all, plan.valid)
        outs = [output, hn_l[last].clone()]
        if plan.want_trace:
            v = plan.valid
            outs.append(h_new_all.clone() if v is None else h_new_all * v)
        saved: dict[str, Any] = {}
        if save:
            saved = dict(
                x=x,
                w_ih=w_ih,
                w_hh=w_hh,
                A=A,
                Hr=Hr,
                hid=hid,
                has_bias=b_ih is not None,
            )
        return tuple(outs), saved

    @staticmethod
    def grads(plan: _Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        gy, g_hn = grads[0], grads[1]
        g_th = grads[2] if plan.want_trace else None
        x, A = sv["x"], sv["A"]
        steps, batch, _ = x.shape
        hid = sv["hid"]
        (keep_h,) = plan.keep
        K = (A > 0).to(x.dtype) if plan.relu else 1.0 - A * A
        kh = _as_float(keep_h, x)
        if kh is not None:
            K = K * (1.0 - kh)
        g_out = _grad_output(plan, gy, g_th)
        dA = torch.empty_like(A)
        dA_l, K_l = dA.unbind(0), K.unbind(0)
        order = _order(steps, plan.reverse)
        dh = g_hn if g_hn is not None else x.new_zeros(batch, hid)
        if g_out is not None:
            dh = dh + g_out[order[-1]]

        def step(t: int, dh_new: Tensor) -> Tensor | None:
            torch.mul(dh_new, K_l[t], out=dA_l[t])
            return kh

        gl = g_out.unbind(0) if g_out is not None else None
        dh0 = _recurrent_backward(plan, order, dA_l, sv["w_hh"], gl, dh, None, step)
        n_x, n_h0, n_wih, n_whh, n_bih, n_bhh = needs[:6]
        need_b = sv["has_bias"] and (n_bih or n_bhh)
        dx, dW_ih, db = _input_grads(dA, x, sv["w_ih"], n_x, n_wih, need_b)
        dW_hh = None
        if n_whh:
            rows2 = steps * batch
            dW_hh = torch.mm(dA.reshape(rows2, hid).t(), sv["Hr"].reshape(rows2, hid))
        return (
            dx,
            dh0 if n_h0 else None,
            dW_ih,
            dW_hh,
            db if n_bih else None,
            (db if n_bhh else None),
        )
