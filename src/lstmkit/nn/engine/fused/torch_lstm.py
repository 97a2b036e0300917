"""The LSTM on the fused engine's torch-ops path: a few in-place torch ops per step.

Gate blocks are in torch's row order, ``i, f, g, o`` (``f, g, o`` with coupled gates, ``i, g, o``
without a forget gate), as in the numba kernels: the sigmoid gates that ``c_prev`` feeds through
the peepholes (``i``, ``f``) come first, then ``g``, then ``o``; so the blocks whose gradient is
``dc_total`` times a factor (all but ``o``) are contiguous.

Backward through time follows ``docs/design-notes.md``, "Backpropagation through time in the fused
engine", with its names: every factor that does not depend on the incoming gradient
(``dzo_du``, ``dc_du``, ``dz_dc``, ``dcprev_dc``) is computed for all steps at once before the
loop, so that a backward step is a few multiplies and one matrix multiply.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lstmkit.nn.cells import LN_EPS
from lstmkit.nn.engine.fused.core import (
    FusedFunction,
    Lease,
    Plan,
    Workspace,
    acquire,
    as_float,
    backward_steps,
    grad_output,
    masked_output,
    project_input,
    recurrent_grad,
    recurrent_weight_grad,
    saved_for_backward,
    seed_grad,
    shared_da_grads,
    state_views,
    step_views,
    store,
    time_order,
    unbind,
)

TRACE_NAMES = ("i", "f", "g", "o", "c", "h")


def _gate_slices(opt: Any, hid: int) -> dict[str, slice | None]:
    """Column slices of each gate block in torch's order (None for an absent gate), and ``pre``:
    the sigmoid gates before ``g`` (those ``c_prev`` feeds through the peepholes)."""
    names = opt.gate_names
    out: dict[str, slice | None] = {
        gate: (slice(names.index(gate) * hid, (names.index(gate) + 1) * hid))
        if gate in names
        else None
        for gate in ("i", "f", "g", "o")
    }
    out["pre"] = slice(0, (len(names) - 2) * hid)
    out["c_fed"] = slice(0, (len(names) - 1) * hid)  # i, f, g: the blocks dc_total reaches
    return out


def _workspace(
    plan: Plan, x: Tensor, hid: int, p: int, keep_shapes: tuple, has_mask: bool
) -> Workspace:
    opt = plan.options
    ln, proj = opt.layer_norm, opt.proj_size
    steps, batch, _ = x.shape
    ng = opt.num_gates
    gh = ng * hid
    new = x.new_empty
    ws = Workspace()
    ws.A = new(steps, batch, gh)  # pre-activations
    ws.Z = new(steps, batch, gh) if ln else ws.A  # gate activations (in place over A without LN)
    ws.Hs = new(steps + 1, batch, p)
    ws.Cs = new(steps + 1, batch, hid)
    ws.h_prev, ws.h_new = state_views(ws.Hs, plan.reverse)
    ws.c_prev, ws.c_new = state_views(ws.Cs, plan.reverse)
    keep = keep_shapes[0] is not None
    ws.c_cell = new(steps, batch, hid) if keep else ws.c_new  # c_t before zoneout / lengths
    ws.h_cell = new(steps, batch, p) if keep else ws.h_new
    ws.u = new(steps, batch, hid) if proj else None  # o * tanh(.) before the projection
    ws.tanh_c = new(steps, batch, hid)
    ws.h_rec = new(steps, batch, p) if has_mask else ws.h_prev  # h_prev * m
    ws.tmp = new(batch, hid)
    ws.keep_h = torch.empty(keep_shapes[0], dtype=torch.bool, device=x.device) if keep else None
    ws.keep_c = torch.empty(keep_shapes[1], dtype=torch.bool, device=x.device) if keep else None
    Z = ws.Z
    sl = _gate_slices(opt, hid)
    n_pre = ng - 2
    u = unbind
    ws.v = dict(  # the buffers' per-step views, and those of the gate blocks
        step_views(ws, "h_prev h_new c_prev c_new A tanh_c c_cell h_cell h_rec u keep_h keep_c"),
        Z=u(Z),
        z_pre=u(Z[..., sl["pre"]]),
        z_pre_blocks=u(Z[..., sl["pre"]].view(steps, batch, n_pre, hid)),
        c_prev_blocks=u(ws.c_prev.unsqueeze(2)),  # (B, 1, H): broadcast over the pre blocks
        g=u(Z[..., sl["g"]]),
        o=u(Z[..., sl["o"]]),
        f=None if sl["f"] is None else u(Z[..., sl["f"]]),
        i=None if sl["i"] is None else u(Z[..., sl["i"]]),
        A_blocks=u(ws.A.view(steps, batch, ng, hid)) if ln else None,
    )
    ws.slices = sl
    ws.bwd = None
    return ws


def _backward_workspace(ws: Workspace, plan: Plan) -> None:
    """The backward pass's buffers, sized as the forward's in ``ws``."""
    ln, proj = plan.options.layer_norm, plan.options.proj_size
    steps, batch, gh = ws.A.shape
    hid, p = ws.Cs.shape[-1], ws.Hs.shape[-1]
    ng = gh // hid
    new, u, sl = ws.A.new_empty, unbind, ws.slices
    b = Workspace()
    b.dZ = new(steps, batch, gh)  # gradient of the gate pre-activations (after LN)
    b.dz_lnw = new(steps, batch, ng, hid) if ln else None  # dz * ln_gates_weight
    b.dy = new(steps, batch, hid) if ln else None  # of the cell's LN output y
    b.dh_cell = new(steps, batch, p) if proj else None
    b.du = new(steps, batch, hid) if proj else None
    b.dc_cell = new(steps, batch, hid)
    b.dc_total = new(steps, batch, hid)
    b.dh = new(steps + 1, batch, p)  # by order of processing: slot s is before step s
    b.dc = new(steps + 1, batch, hid)
    b.g_out = new(steps, batch, p)
    b.dzo_du = new(steps, batch, hid)
    b.dc_du = new(steps, batch, hid)  # dc_total / du, or dy / du with layer norm
    b.dc_du_via_o = new(steps, batch, hid)  # with LN and peepholes: du -> c through w_co
    b.dz_dc = new(steps, batch, ng - 1, hid)  # i, f, g (those present) per dc_total
    b.dcprev_dc = new(steps, batch, hid)
    b.v = dict(
        step_views(
            b,
            "dZ dz_lnw dy dh_cell du dc_cell dc_total dh dc g_out dzo_du dc_du dc_du_via_o dz_dc "
            "dcprev_dc",
        ),
        dz_blocks=u(b.dZ.view(steps, batch, ng, hid)),
        dc_total_blocks=u(b.dc_total.unsqueeze(2)),
        dz_o=u(b.dZ[..., sl["o"]]),
        dz_c_fed=u(b.dZ[..., sl["c_fed"]].view(steps, batch, ng - 1, hid)),
    )
    ws.bwd = b


class LSTMFunction(FusedFunction):
    """One LSTM direction; inputs ``x, h0, c0`` and the fields of ``LSTMWeights`` in order."""

    @staticmethod
    def compute(
        plan: Plan, x: Tensor, h0: Tensor, c0: Tensor, *weights: Tensor | None, save: bool
    ) -> tuple[tuple[Tensor, ...], dict]:
        # The fields of LSTMWeights, in order.
        (w_ih, w_hh, b_ih, b_hh, w_hr, w_ci, w_cf, w_co, ln_w, ln_b, lnc_w, lnc_b) = weights
        opt = plan.options
        coupled, peep, ln, proj = opt.coupled_gates, opt.peephole, opt.layer_norm, opt.proj_size
        steps, batch, _ = x.shape
        hid = c0.shape[-1]
        p = h0.shape[-1]
        gh = opt.num_gates * hid
        keep_h, keep_c = plan.keep
        m = plan.h_mask
        keep_shapes = (None, None) if keep_h is None else (keep_h.shape, keep_c.shape)
        key = ("lstm", opt, plan.reverse, tuple(x.shape), hid, p, keep_shapes, m is not None)
        key = (*key, x.dtype, x.device)
        ws = acquire(key, lambda: _workspace(plan, x, hid, p, keep_shapes, m is not None))
        lease = Lease(ws)
        v = ws.v
        # Copies: backward must not see a later in-place update of the parameters.
        w_ih = w_ih.clone()
        w_hh = w_hh.clone()
        w_hh_t = w_hh.t()
        project_input(x, w_ih, None if b_ih is None else b_ih + b_hh, ws.A)
        if ln:
            ln_w, ln_b = ln_w.clone(), ln_b.clone()
        if keep_h is not None:
            ws.keep_h.copy_(keep_h)
            ws.keep_c.copy_(keep_c)
        order = time_order(steps, plan.reverse)
        ws.h_prev[order[0]].copy_(h0)
        ws.c_prev[order[0]].copy_(c0)
        h_prev_l, h_new_l, c_prev_l, c_new_l = v["h_prev"], v["h_new"], v["c_prev"], v["c_new"]
        A_l, Z_l, tanh_c_l, c_cell_l = v["A"], v["Z"], v["tanh_c"], v["c_cell"]
        h_cell_l, h_rec_l, u_l = v["h_cell"], v["h_rec"], v["u"]
        z_pre_l, z_pre_blocks_l, c_prev_blocks_l = v["z_pre"], v["z_pre_blocks"], v["c_prev_blocks"]
        i_l, f_l, g_l, o_l = v["i"], v["f"], v["g"], v["o"]
        keep_h_l, keep_c_l, A_blocks_l = v["keep_h"], v["keep_c"], v["A_blocks"]
        w_hr_t = w_hr.t() if proj else None
        w_c_pre = None
        if peep:
            # The peepholes from c_prev into the pre blocks, in block order: w_ci, w_cf if present.
            w_c_pre = torch.stack([w for w in (w_ci, w_cf) if w is not None])
        ln_stats: list[Any] = [None] * steps  # by time step t, not by order of processing
        lnc_stats: list[Any] = [None] * steps
        tmp = ws.tmp
        for t in order:
            h_prev = h_prev_l[t]
            c_prev = c_prev_l[t]
            h_rec = h_prev if m is None else torch.mul(h_prev, m, out=h_rec_l[t])
            A_l[t].addmm_(h_rec, w_hh_t)
            if ln:
                a_hat, mean, rstd = torch.native_layer_norm(
                    A_blocks_l[t], (hid,), None, None, LN_EPS
                )
                torch.addcmul(ln_b, a_hat.view(batch, gh), ln_w, out=Z_l[t])
                ln_stats[t] = (mean, rstd)
            if peep:
                z_pre_blocks_l[t].addcmul_(c_prev_blocks_l[t], w_c_pre)
            z_pre_l[t].sigmoid_()
            g = g_l[t].tanh_()
            c = c_cell_l[t]
            if coupled:  # c = f * c_prev + (1 - f) * g
                torch.sub(c_prev, g, out=tmp)
                torch.addcmul(g, f_l[t], tmp, out=c)
            elif f_l is None:  # no forget gate, f ≡ 1: c = c_prev + i * g
                torch.addcmul(c_prev, i_l[t], g, out=c)
            else:  # c = f * c_prev + i * g
                torch.mul(f_l[t], c_prev, out=c)
                c.addcmul_(i_l[t], g)
            o = o_l[t]
            if peep:
                o.addcmul_(c, w_co)
            o.sigmoid_()
            tanh_c = tanh_c_l[t]
            if ln:
                y, mean_c, rstd_c = torch.native_layer_norm(c, (hid,), lnc_w, lnc_b, LN_EPS)
                torch.tanh(y, out=tanh_c)
                lnc_stats[t] = (mean_c, rstd_c)
            else:
                torch.tanh(c, out=tanh_c)
            if proj:
                torch.mm(torch.mul(o, tanh_c, out=u_l[t]), w_hr_t, out=h_cell_l[t])
            else:
                torch.mul(o, tanh_c, out=h_cell_l[t])
            if keep_h_l is not None:
                torch.where(keep_h_l[t], h_prev, h_cell_l[t], out=h_new_l[t])
                torch.where(keep_c_l[t], c_prev, c, out=c_new_l[t])

        last = order[-1]
        output = masked_output(ws.h_new, plan.valid)
        outs = [output, h_new_l[last].clone(), c_new_l[last].clone()]
        constants: tuple[Tensor, ...] = ()
        if plan.want_trace:
            constants = _trace(plan, ws, outs)
        saved: dict[str, Any] = {}
        if save:
            saved = saved_for_backward(
                x,
                w_ih,
                w_hh,
                b_ih,
                hid,
                constants=constants,
                lease=lease,
                ws=ws,
                w_hr=w_hr,
                w_ci=w_ci,
                w_cf=w_cf,
                w_co=w_co,
                ln_w=ln_w if ln else None,
                lnc_w=lnc_w,
                lnc_b=lnc_b,
            )
            if ln:
                saved["ln_mean"] = torch.stack([st[0] for st in ln_stats])
                saved["ln_rstd"] = torch.stack([st[1] for st in ln_stats])
                saved["lnc_mean"] = torch.stack([st[0] for st in lnc_stats])
                saved["lnc_rstd"] = torch.stack([st[1] for st in lnc_stats])
        return tuple(outs), saved

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        return _grads(plan, sv, needs, grads)


def _trace(plan: Plan, ws: Workspace, outs: list[Tensor]) -> tuple[Tensor, ...]:
    """Append the trace (i, f, g, o, c, h; zero past each length) to ``outs``; returns the outputs
    that are constants (f ≡ 1 without a forget gate)."""
    sl, Z, valid = ws.slices, ws.Z, plan.valid
    # Without a forget gate f ≡ 1, reported as ones as the reference does.
    f_all = torch.ones_like(ws.tanh_c) if sl["f"] is None else Z[..., sl["f"]]
    i_all = 1.0 - f_all if plan.options.coupled_gates else Z[..., sl["i"]]
    for tr in (i_all, f_all, Z[..., sl["g"]], Z[..., sl["o"]], ws.c_new, ws.h_new):
        outs.append(tr.clone() if valid is None else tr * valid)
    return (outs[-5],) if sl["f"] is None else ()


def _derivative_factors(plan: Plan, sv: dict, ws: Workspace) -> dict[str, Any]:
    """The factors of the backward step that do not depend on the incoming gradient, for all
    steps at once, written into the backward workspace (design notes, "the LSTM step")."""
    opt = plan.options
    coupled, peep, ln, proj = opt.coupled_gates, opt.peephole, opt.layer_norm, opt.proj_size
    b, sl, Z, c_prev = ws.bwd, ws.slices, ws.Z, ws.c_prev
    tanh_c = ws.tanh_c
    o, g = Z[..., sl["o"]], Z[..., sl["g"]]
    f = None if sl["f"] is None else Z[..., sl["f"]]
    i = None if sl["i"] is None else Z[..., sl["i"]]
    out: dict[str, Any] = dict(do=o - o * o, dg=1.0 - g * g)  # σ'(o), tanh'(g)
    keep_h, keep_c = (as_float(keep, Z) for keep in plan.keep)
    out["keep_h"], out["keep_c"] = keep_h, keep_c
    not_keep_h = None if keep_h is None else 1.0 - keep_h
    out["not_keep_h"] = not_keep_h
    out["not_keep_c"] = None if keep_c is None else 1.0 - keep_c
    # No projection: dh_cell = dh * (1 - keep_h) folds into the factors of du (du = dh_cell).
    fold = not_keep_h if (not_keep_h is not None and not proj) else None
    dzo_du = tanh_c * out["do"]
    store(b.dzo_du, dzo_du, fold)
    dc_du = o * (1.0 - tanh_c * tanh_c)  # dy/du with layer norm
    if peep and not ln:
        dc_du = dc_du + dzo_du * sv["w_co"]
    store(b.dc_du, dc_du, fold)
    if ln and peep:
        store(b.dc_du_via_o, dzo_du * sv["w_co"], fold)
    dz_dc, dg = b.dz_dc, out["dg"]
    if coupled:
        out["df"] = df = f - f * f
        torch.mul(c_prev - g, df, out=dz_dc[:, :, 0])  # f
        torch.mul(1.0 - f, dg, out=dz_dc[:, :, 1])  # g
        if peep:
            torch.addcmul(f, dz_dc[:, :, 0], sv["w_cf"], out=b.dcprev_dc)
        else:
            b.dcprev_dc.copy_(f)
    elif f is None:
        # No forget gate, f ≡ 1: dc_prev = dc_total, plus the input gate's peephole term.
        out["di"] = di = i - i * i
        torch.mul(g, di, out=dz_dc[:, :, 0])  # i
        torch.mul(i, dg, out=dz_dc[:, :, 1])  # g
        if peep:
            torch.mul(dz_dc[:, :, 0], sv["w_ci"], out=b.dcprev_dc).add_(1.0)
        else:
            b.dcprev_dc.fill_(1.0)
    else:
        out["di"] = di = i - i * i
        out["df"] = df = f - f * f
        torch.mul(g, di, out=dz_dc[:, :, 0])  # i
        torch.mul(c_prev, df, out=dz_dc[:, :, 1])  # f
        torch.mul(i, dg, out=dz_dc[:, :, 2])  # g
        if peep:
            w_ci, w_cf = sv["w_ci"], sv["w_cf"]
            torch.addcmul(f + dz_dc[:, :, 0] * w_ci, dz_dc[:, :, 1], w_cf, out=b.dcprev_dc)
        else:
            b.dcprev_dc.copy_(f)
    return out


def _trace_terms(
    plan: Plan, sv: dict, ws: Workspace, k: dict, g_trace: tuple
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """The trace's gate gradients as constant additions: ``dz_trace`` to dz, and through the
    peepholes ``dc_trace`` to dc_total and ``dcprev_trace`` to dc_prev."""
    gi, gf, gg, go = g_trace[0], g_trace[1], g_trace[2], g_trace[3]
    if all(t is None for t in (gi, gf, gg, go)):
        return None, None, None
    opt, sl = plan.options, ws.slices
    dz_trace = torch.zeros_like(ws.Z)
    if go is not None:
        dz_trace[..., sl["o"]] += go * k["do"]
    if opt.coupled_gates:
        if gf is not None:
            dz_trace[..., sl["f"]] += gf * k["df"]
        if gi is not None:
            dz_trace[..., sl["f"]] -= gi * k["df"]
    else:
        if gi is not None:
            dz_trace[..., sl["i"]] += gi * k["di"]
        if gf is not None and sl["f"] is not None:  # without a forget gate its trace is constant
            dz_trace[..., sl["f"]] += gf * k["df"]
    if gg is not None:
        dz_trace[..., sl["g"]] += gg * k["dg"]
    if plan.valid is not None:
        dz_trace = dz_trace * plan.valid
    if not opt.peephole:
        return dz_trace, None, None
    dc_trace = dz_trace[..., sl["o"]] * sv["w_co"]
    # w_ci exists without coupled gates, w_cf with a forget gate (at least one of them).
    pre = ((sl["i"], sv["w_ci"]), (sl["f"], sv["w_cf"]))
    terms = [dz_trace[..., s] * w for s, w in pre if s is not None]
    dcprev_trace = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return dz_trace, dc_trace, dcprev_trace


def _grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
    opt = plan.options
    peep, ln, proj = opt.peephole, opt.layer_norm, opt.proj_size
    gy, g_hn, g_cn = grads[0], grads[1], grads[2]
    g_trace = grads[3:] if plan.want_trace else (None,) * 6
    ws = sv["ws"]
    x = sv["x"]
    steps, batch, _ = x.shape
    hid = sv["hid"]
    ng = opt.num_gates
    gh = ng * hid
    valid = plan.valid
    m = plan.h_mask
    w_hh = sv["w_hh"]
    order = time_order(steps, plan.reverse)
    if ws.bwd is None:
        _backward_workspace(ws, plan)
    b = ws.bwd
    v = b.v
    k = _derivative_factors(plan, sv, ws)
    dz_trace, dc_trace, dcprev_trace = _trace_terms(plan, sv, ws, k, g_trace)
    g_out = grad_output(plan, gy, g_trace[5])
    g_out_l = None
    if g_out is not None:
        b.g_out.copy_(g_out)
        g_out_l = v["g_out"]
    g_c = g_trace[4]
    if g_c is not None and valid is not None:
        g_c = g_c * valid

    dh_l, dc_l = v["dh"], v["dc"]
    seed_grad(dh_l[0], g_hn, g_out, order[-1])
    seed_grad(dc_l[0], g_cn, g_c, order[-1])

    dZ_l, dz_dc_l, dcprev_dc_l = v["dZ"], v["dz_dc"], v["dcprev_dc"]
    dzo_du_l, dc_du_l = v["dzo_du"], v["dc_du"]
    dc_du_via_o_l = v["dc_du_via_o"] if (ln and peep) else None
    if ln:
        da_steps: list[Any] = [None] * steps
        dz_blocks_l, dz_lnw_l = v["dz_blocks"], v["dz_lnw"]
        ln_w_blocks = sv["ln_w"].view(ng, hid)
        ln_mean_l, ln_rstd_l = unbind(sv["ln_mean"]), unbind(sv["ln_rstd"])
        lnc_mean_l, lnc_rstd_l = unbind(sv["lnc_mean"]), unbind(sv["lnc_rstd"])
        lnc_w, lnc_b = sv["lnc_w"], sv["lnc_b"]
    dy_l, dh_cell_l, du_l = v["dy"], v["dh_cell"], v["du"]
    dc_cell_l, dc_total_l, dc_total_blocks_l = v["dc_cell"], v["dc_total"], v["dc_total_blocks"]
    dz_o_l, dz_c_fed_l = v["dz_o"], v["dz_c_fed"]
    c_cell_l, A_blocks_l = ws.v["c_cell"], ws.v["A_blocks"]
    keep_h_l, keep_c_l = unbind(k["keep_h"]), unbind(k["keep_c"])
    not_keep_h_l, not_keep_c_l = unbind(k["not_keep_h"]), unbind(k["not_keep_c"])
    dz_trace_l, g_c_l = unbind(dz_trace), unbind(g_c)
    dc_trace_l, dcprev_trace_l = unbind(dc_trace), unbind(dcprev_trace)
    w_hr = sv["w_hr"]
    mask3 = [True, False, False]
    for s, t, t_prev, g_out_prev in backward_steps(order, g_out_l):
        # dh, dc: gradients w.r.t. the state after step t (zoneout and lengths applied).
        dh, dc = dh_l[s], dc_l[s]
        dh_prev, dc_prev = dh_l[s + 1], dc_l[s + 1]
        if proj:
            if not_keep_h_l is None:
                dh_cell = dh_cell_l[t].copy_(dh)
            else:
                dh_cell = torch.mul(dh, not_keep_h_l[t], out=dh_cell_l[t])
            du = torch.mm(dh_cell, w_hr, out=du_l[t])
        else:
            du = dh
        dc_cell = dc if not_keep_c_l is None else torch.mul(dc, not_keep_c_l[t], out=dc_cell_l[t])
        dz = dZ_l[t]
        torch.mul(du, dzo_du_l[t], out=dz_o_l[t])
        dc_total = dc_total_l[t]
        if ln:
            dy = torch.mul(du, dc_du_l[t], out=dy_l[t])
            dc_ln = torch.ops.aten.native_layer_norm_backward(
                dy, c_cell_l[t], (hid,), lnc_mean_l[t], lnc_rstd_l[t], lnc_w, lnc_b, mask3
            )[0]
            torch.add(dc_ln, dc_cell, out=dc_total)
            if dc_du_via_o_l is not None:
                dc_total.addcmul_(du, dc_du_via_o_l[t])
        else:
            torch.addcmul(dc_cell, du, dc_du_l[t], out=dc_total)
        if dc_trace_l is not None:
            dc_total.add_(dc_trace_l[t])
        torch.mul(dc_total_blocks_l[t], dz_dc_l[t], out=dz_c_fed_l[t])
        if dz_trace_l is not None:
            dz.add_(dz_trace_l[t])
        torch.mul(dc_total, dcprev_dc_l[t], out=dc_prev)
        if dcprev_trace_l is not None:
            dc_prev.add_(dcprev_trace_l[t])
        if keep_c_l is not None:
            dc_prev.addcmul_(dc, keep_c_l[t])
        if ln:
            da = torch.ops.aten.native_layer_norm_backward(
                torch.mul(dz_blocks_l[t], ln_w_blocks, out=dz_lnw_l[t]),
                A_blocks_l[t],
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
        recurrent_grad(da, w_hh, m, g_out_prev, out=dh_prev)
        if keep_h_l is not None:
            dh_prev.addcmul_(dh, keep_h_l[t])
        if g_c_l is not None and t_prev is not None:
            dc_prev.add_(g_c_l[t_prev])
    dh0, dc0 = dh_l[steps], dc_l[steps]
    dA = torch.stack(da_steps) if ln else b.dZ
    dx, *weight_grads = _weight_grads(plan, sv, ws, dA, needs)
    n_h0, n_c0 = needs[1], needs[2]
    return (dx, dh0.clone() if n_h0 else None, dc0.clone() if n_c0 else None, *weight_grads)


def _weight_grads(plan: Plan, sv: dict, ws: Workspace, dA: Tensor, needs: tuple) -> tuple:
    """Every gradient but the initial state's: one matrix multiply (or reduction) over all steps."""
    opt = plan.options
    peep, ln, proj = opt.peephole, opt.layer_norm, opt.proj_size
    n_whr, n_ci, n_cf, n_co = needs[7:11]
    n_lnw, n_lnb, n_lncw, n_lncb = needs[11:15]
    b, sl, x = ws.bwd, ws.slices, sv["x"]
    dZ, c_prev, c_cell = b.dZ, ws.c_prev, ws.c_cell
    input_grads = shared_da_grads(
        dA, x, sv["w_ih"], ws.h_rec, sv["has_bias"], (needs[0], *needs[3:7])
    )
    dW_hr = recurrent_weight_grad(b.dh_cell, ws.u) if (proj and n_whr) else None
    d_ci = d_cf = d_co = None
    if peep:
        if n_co:
            d_co = (dZ[..., sl["o"]] * c_cell).sum((0, 1))
        if sl["f"] is not None and n_cf:
            d_cf = (dZ[..., sl["f"]] * c_prev).sum((0, 1))
        if sl["i"] is not None and n_ci:
            d_ci = (dZ[..., sl["i"]] * c_prev).sum((0, 1))
    d_lnw = d_lnb = d_lncw = d_lncb = None
    if ln:
        steps, batch, gh = dZ.shape
        if n_lnw:
            A_blocks = ws.A.view(steps, batch, opt.num_gates, -1)
            a_hat = (A_blocks - sv["ln_mean"]) * sv["ln_rstd"]
            d_lnw = (dZ * a_hat.view(steps, batch, gh)).sum((0, 1))
        if n_lnb:
            d_lnb = dZ.sum((0, 1))
        if n_lncw:
            c_hat = (c_cell - sv["lnc_mean"]) * sv["lnc_rstd"]
            d_lncw = (b.dy * c_hat).sum((0, 1))
        if n_lncb:
            d_lncb = b.dy.sum((0, 1))
    return (
        *input_grads,
        dW_hr,
        d_ci,
        d_cf,
        d_co,
        d_lnw,
        d_lnb,
        d_lncw,
        d_lncb,
    )
