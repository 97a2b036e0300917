"""The GRU on the fused engine's torch-ops path: a few in-place torch ops per step.

Gate blocks are in torch's row order ``r, z, n``. Backward through time follows
``docs/design-notes.md``, "Backpropagation through time in the fused engine" (the GRU step), with
its names; the factors that do not depend on the incoming gradient are computed for all steps at
once before the loop.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lstmkit.nn.engine.fused.core import (
    FusedFunction,
    Lease,
    Plan,
    Workspace,
    acquire,
    as_float,
    backward_steps,
    block_rows,
    grad_output,
    input_grads,
    masked_output,
    project_input,
    recurrent_grad,
    recurrent_weight_grad,
    saved_for_backward,
    seed_grad,
    single_state_outputs,
    state_views,
    step_views,
    store,
    time_order,
    unbind,
)

TRACE_NAMES = ("r", "z", "n", "h")


def gru_biases(
    b_ih: Tensor | None, b_hh: Tensor | None, hid: int
) -> tuple[Tensor | None, Tensor | None]:
    """The biases as both paths add them: ``[b_ir + b_hr, b_iz + b_hz, b_in]`` to the input
    projection, and ``[0, 0, b_hn]`` to ``W_hh h_rec`` (``b_hn`` is inside ``r ⊙ (W_hn h + b_hn)``,
    so it cannot join the others); ``(None, None)`` without bias."""
    if b_ih is None:
        return None, None
    h2 = 2 * hid
    bi, bh = b_ih.detach(), b_hh.detach()
    return torch.cat([bi[:h2] + bh[:h2], bi[h2:]]), torch.cat([bh.new_zeros(h2), bh[h2:]])


def _workspace(plan: Plan, x: Tensor, hid: int, keep_shape: Any, has_mask: bool) -> Workspace:
    steps, batch, _ = x.shape
    h2 = 2 * hid
    new, u = x.new_empty, unbind
    ws = Workspace()
    ws.X = new(steps, batch, 3 * hid)  # input part, then the gates r, z, n in place
    ws.HH = new(steps, batch, 3 * hid)  # W_hh h_rec (+ b_hn on the n block)
    ws.Hs = new(steps + 1, batch, hid)
    ws.h_prev, ws.h_new = state_views(ws.Hs, plan.reverse)
    keep = keep_shape is not None
    ws.h_cell = new(steps, batch, hid) if keep else ws.h_new  # h_t before zoneout / lengths
    ws.h_rec = new(steps, batch, hid) if has_mask else ws.h_prev  # h_prev * m
    ws.keep_h = torch.empty(keep_shape, dtype=torch.bool, device=x.device) if keep else None
    ws.tmp = new(batch, hid)
    X, HH = ws.X, ws.HH
    ws.v = dict(
        step_views(ws, "h_prev h_new h_cell h_rec keep_h"),
        HH=u(HH),
        x_rz=u(X[..., :h2]),
        hh_rz=u(HH[..., :h2]),
        x_r=u(X[..., :hid]),
        x_z=u(X[..., hid:h2]),
        x_n=u(X[..., h2:]),
        hh_n=u(HH[..., h2:]),
    )
    ws.bwd = None
    return ws


def _backward_workspace(ws: Workspace) -> None:
    """The backward pass's buffers, sized as the forward's in ``ws``."""
    steps, batch, h3 = ws.X.shape
    hid = h3 // 3
    h2 = 2 * hid
    new, u = ws.X.new_empty, unbind
    b = Workspace()
    # da per step: [da_r, dhh_n, da_z, da_n]; its first 3H columns multiply the rows r, n, z of
    # W_hh (dhh_n = da_n * r is the gradient of W_hn h_rec + b_hn).
    b.da = new(steps, batch, 4 * hid)
    b.dh = new(steps + 1, batch, hid)  # by order of processing: slot s is before step s
    b.g_out = new(steps, batch, hid)
    b.dzn_dh = new(steps, batch, 2, hid)  # da_z, da_n per dh
    b.drn_dan = new(steps, batch, 2, hid)  # da_r, dhh_n per da_n
    b.dhprev_dh = new(steps, batch, hid)  # the direct path: z (1 - keep) + keep
    da = b.da
    b.v = dict(
        step_views(b, "dh g_out dzn_dh drn_dan dhprev_dh"),
        da_hh=u(da[..., : 3 * hid]),
        da_zn=u(da[..., h2:].view(steps, batch, 2, hid)),
        da_n=u(da[..., 3 * hid :].unsqueeze(2)),
        da_rn=u(da[..., :h2].view(steps, batch, 2, hid)),
        da_r=u(da[..., :hid]),
        dh_blocks=u(b.dh.unsqueeze(2)),
    )
    ws.bwd = b


class GRUFunction(FusedFunction):
    """One GRU direction; inputs ``x, h0, w_ih, w_hh, b_ih, b_hh``."""

    @staticmethod
    def compute(
        plan: Plan, x: Tensor, h0: Tensor, *weights: Tensor | None, save: bool
    ) -> tuple[tuple[Tensor, ...], dict]:
        w_ih, w_hh, b_ih, b_hh = weights
        steps, batch, _ = x.shape
        hid = h0.shape[-1]
        h2 = 2 * hid
        (keep_h,) = plan.keep
        m = plan.h_mask
        keep_shape = None if keep_h is None else keep_h.shape
        key = ("gru", plan.reverse, tuple(x.shape), hid, keep_shape, m is not None, x.dtype)
        key = (*key, x.device)
        ws = acquire(key, lambda: _workspace(plan, x, hid, keep_shape, m is not None))
        lease = Lease(ws)
        v = ws.v
        bias, b_hn = gru_biases(b_ih, b_hh, hid)
        project_input(x, w_ih, bias, ws.X)
        if keep_h is not None:
            ws.keep_h.copy_(keep_h)
        order = time_order(steps, plan.reverse)
        ws.h_prev[order[0]].copy_(h0)
        w_hh_t = w_hh.t()
        h_prev_l, h_new_l, h_cell_l, h_rec_l = v["h_prev"], v["h_new"], v["h_cell"], v["h_rec"]
        HH_l, x_rz_l, hh_rz_l = v["HH"], v["x_rz"], v["hh_rz"]
        x_r_l, x_z_l, x_n_l, hh_n_l = v["x_r"], v["x_z"], v["x_n"], v["hh_n"]
        keep_h_l = v["keep_h"]
        tmp = ws.tmp
        for t in order:
            h_prev = h_prev_l[t]
            h_rec = h_prev if m is None else torch.mul(h_prev, m, out=h_rec_l[t])
            if b_hn is None:
                torch.mm(h_rec, w_hh_t, out=HH_l[t])
            else:
                torch.addmm(b_hn, h_rec, w_hh_t, out=HH_l[t])
            x_rz_l[t].add_(hh_rz_l[t]).sigmoid_()
            n = x_n_l[t].addcmul_(x_r_l[t], hh_n_l[t]).tanh_()
            torch.sub(h_prev, n, out=tmp)
            torch.addcmul(n, x_z_l[t], tmp, out=h_cell_l[t])
            if keep_h_l is not None:
                torch.where(keep_h_l[t], h_prev, h_cell_l[t], out=h_new_l[t])
        X = ws.X
        output, h_last, _ = single_state_outputs(plan, ws.Hs, steps)
        outs = [output, h_last]
        if plan.want_trace:
            for tr in (X[..., :hid], X[..., hid:h2], X[..., h2:], ws.h_new):
                outs.append(masked_output(tr, plan.valid))
        saved = saved_for_backward(x, w_ih, w_hh, b_ih, hid, lease=lease, ws=ws) if save else {}
        return tuple(outs), saved

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        gy, g_hn = grads[0], grads[1]
        g_trace = grads[2:] if plan.want_trace else (None,) * 4
        ws = sv["ws"]
        x = sv["x"]
        X, HH, h_prev_all = ws.X, ws.HH, ws.h_prev
        steps, batch, _ = x.shape
        hid = sv["hid"]
        h2 = 2 * hid
        m = plan.h_mask
        if ws.bwd is None:
            _backward_workspace(ws)
        b = ws.bwd
        v = b.v
        r, z, n = X[..., :hid], X[..., hid:h2], X[..., h2:]
        hh_n = HH[..., h2:]
        dr, dz, dn = r - r * r, z - z * z, 1.0 - n * n  # σ'(r), σ'(z), tanh'(n)
        keep_h = as_float(plan.keep[0], x)
        not_keep_h = None if keep_h is None else 1.0 - keep_h
        store(b.dzn_dh[:, :, 0], (h_prev_all - n) * dz, not_keep_h)
        store(b.dzn_dh[:, :, 1], (1.0 - z) * dn, not_keep_h)
        if keep_h is not None:
            torch.addcmul(keep_h, z, not_keep_h, out=b.dhprev_dh)  # z (1 - keep) + keep
        else:
            b.dhprev_dh.copy_(z)
        torch.mul(hh_n, dr, out=b.drn_dan[:, :, 0])
        b.drn_dan[:, :, 1].copy_(r)
        dzn_trace = dr_trace = None
        g_r, g_z, g_n = g_trace[0], g_trace[1], g_trace[2]
        if g_z is not None or g_n is not None:
            dzn_trace = torch.zeros_like(b.dzn_dh)
            if g_z is not None:
                dzn_trace[:, :, 0] += g_z * dz
            if g_n is not None:
                dzn_trace[:, :, 1] += g_n * dn
            if plan.valid is not None:
                dzn_trace *= plan.valid.unsqueeze(2)
        if g_r is not None:
            dr_trace = g_r * dr
            if plan.valid is not None:
                dr_trace = dr_trace * plan.valid
        g_out = grad_output(plan, gy, g_trace[3])
        g_out_l = None
        if g_out is not None:
            b.g_out.copy_(g_out)
            g_out_l = v["g_out"]

        perm_rows = block_rows([0, 2, 1], hid, x.device)  # W_hh rows r, n, z: as da_hh
        w_hh_rnz = sv["w_hh"].index_select(0, perm_rows)
        order = time_order(steps, plan.reverse)
        dh_l, dh_blocks_l = v["dh"], v["dh_blocks"]
        seed_grad(dh_l[0], g_hn, g_out, order[-1])
        da_hh_l, da_zn_l, da_n_l, da_rn_l, da_r_l = (
            v["da_hh"],
            v["da_zn"],
            v["da_n"],
            v["da_rn"],
            v["da_r"],
        )
        dzn_dh_l, drn_dan_l, dhprev_dh_l = v["dzn_dh"], v["drn_dan"], v["dhprev_dh"]
        dzn_trace_l, dr_trace_l = unbind(dzn_trace), unbind(dr_trace)
        for s, t, _, g_out_prev in backward_steps(order, g_out_l):
            dh, dh_prev = dh_l[s], dh_l[s + 1]
            da_zn = torch.mul(dh_blocks_l[s], dzn_dh_l[t], out=da_zn_l[t])
            if dzn_trace_l is not None:
                da_zn.add_(dzn_trace_l[t])
            torch.mul(da_n_l[t], drn_dan_l[t], out=da_rn_l[t])
            if dr_trace_l is not None:
                da_r_l[t].add_(dr_trace_l[t])
            recurrent_grad(da_hh_l[t], w_hh_rnz, m, g_out_prev, out=dh_prev)
            dh_prev.addcmul_(dh, dhprev_dh_l[t])
        dh0 = dh_l[steps]

        n_x, n_h0, n_wih, n_whh, n_bih, n_bhh = needs[:6]
        da = b.da
        da_x = torch.cat([da[..., :hid], da[..., h2:]], dim=-1)  # r, z, n: the input's rows
        dx, dW_ih, db_ih = input_grads(da_x, x, sv["w_ih"], n_x, n_wih, sv["has_bias"] and n_bih)
        dW_hh = db_hh = None
        inv = torch.argsort(perm_rows)
        da_hh = da[..., : 3 * hid]
        if n_whh:
            dW_hh = recurrent_weight_grad(da_hh, ws.h_rec).index_select(0, inv)
        if sv["has_bias"] and n_bhh:
            db_hh = da_hh.reshape(steps * batch, 3 * hid).sum(0).index_select(0, inv)
        return dx, dh0.clone() if n_h0 else None, dW_ih, dW_hh, db_ih, db_hh
