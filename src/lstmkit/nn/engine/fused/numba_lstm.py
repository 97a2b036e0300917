"""The LSTM on the fused engine's numba path: a direction's forward and backward loops as one
kernel call each (:mod:`.kernels.lstm`); the input projection and the weight gradients are torch
matrix multiplies over all steps.

Gate blocks in torch's order ``i, f, g, o``, as on the torch-ops path (:mod:`.torch_lstm`); the
backward kernel follows ``docs/design-notes.md``, "Backpropagation through time in the fused
engine", with its names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from lstmkit.nn.cells import LN_EPS
from lstmkit.nn.engine.fused import numba_path as nb
from lstmkit.nn.engine.fused.core import (
    Plan,
    grad_output,
    masked_output,
    shared_da_grads,
    state_views,
)
from lstmkit.nn.engine.fused.torch_lstm import LSTMFunction


def _switches(plan: Plan, keep_h: Tensor | None) -> tuple[bool, ...]:
    """The switches both kernels take after their arrays: ``reverse, coupled, has_f, peep,
    has_mask, has_keep``."""
    opt = plan.options
    return (
        plan.reverse,
        opt.coupled_gates,
        opt.forget_gate,
        opt.peephole,
        plan.h_mask is not None,
        keep_h is not None,
    )


class NumbaLSTMFunction(nb.NumbaFunction):
    """Same inputs and outputs as the torch-ops ``LSTMFunction`` (no trace, no projection)."""

    torch_function = LSTMFunction

    @staticmethod
    def compute(
        plan: Plan, x: Tensor, h0: Tensor, c0: Tensor, *weights: Tensor | None, save: bool
    ) -> tuple[tuple[Tensor, ...], dict]:
        # The fields of LSTMWeights, in order.
        (w_ih, w_hh, b_ih, b_hh, w_hr, w_ci, w_cf, w_co, ln_w, ln_b, lnc_w, lnc_b) = weights
        opt = plan.options
        coupled, has_f, peep, ln = opt.coupled_gates, opt.forget_gate, opt.peephole, opt.layer_norm
        steps, batch, dim = x.shape
        hid, p = c0.shape[-1], h0.shape[-1]
        gh = w_hh.shape[0]
        d1, d2, d3, db3 = nb.dummies(x.dtype)
        x = x.detach()
        # Without a backward pass to feed, the input projection goes by chunks (_by_chunks),
        # the cell states are a two-slot ring and c_t, tanh(c_t) a one-step scratch.
        bias = None if b_ih is None else b_ih.detach() + b_hh.detach()
        Hs = x.new_empty(steps + 1, batch, p)
        Cs = x.new_empty(steps + 1 if save else 2, batch, hid)
        Cc = x.new_empty(steps if save else 1, batch, hid)
        TC = torch.empty_like(Cc)
        m = plan.h_mask
        h_rec = x.new_empty(steps, batch, p) if m is not None else None
        keep_h = nb.keep_array(plan.keep[0], (steps, batch, p))
        keep_c = nb.keep_array(plan.keep[1], (steps, batch, hid))
        lnp = LH = LR = None
        if ln:
            # One packed copy of the four LN parameters (also what backward keeps: a later
            # in-place update of them must not reach it) and one array per kind of statistic.
            lnp = torch.cat([ln_w.detach(), ln_b.detach(), lnc_w.detach(), lnc_b.detach()])
            # Per-step statistics for backward; without it a one-step scratch (fresh memory
            # costs page faults at every call).
            n_st = steps if save else 1
            LH = x.new_empty(n_st, batch, gh + hid)
            LR = x.new_empty(n_st, batch, gh // hid + 1)
        kernel = nb.kernel_for("lstm_forward", batch)
        # numpy views made once; run_chunk slices the per-step ones.
        Hs_np, Cs_np = Hs.numpy(), Cs.numpy()
        keep_h_np = db3 if keep_h is None else keep_h.numpy()
        keep_c_np = db3 if keep_c is None else keep_c.numpy()
        h_rec_np = d3 if h_rec is None else h_rec.numpy()
        w_hh_np, m_np = nb.as_numpy(w_hh), d2 if m is None else nb.as_numpy(m)
        wci_np = d1 if not (peep and not coupled) else nb.as_numpy(w_ci)
        wcf_np = d1 if not (peep and has_f) else nb.as_numpy(w_cf)
        wco_np = d1 if not peep else nb.as_numpy(w_co)
        Cc_np, TC_np = Cc.numpy(), TC.numpy()
        lnp_np = d1 if lnp is None else lnp.numpy()
        LH_np = d3 if LH is None else LH.numpy()
        LR_np = d3 if LR is None else LR.numpy()
        c_in = nb.as_numpy(c0)

        def run_chunk(A: np.ndarray, h_in: np.ndarray, t0: int, t1: int) -> None:
            nonlocal c_in
            kernel(
                A,
                w_hh_np,
                h_in,
                c_in,
                m_np,
                keep_h_np if keep_h is None else keep_h_np[t0:t1],
                keep_c_np if keep_c is None else keep_c_np[t0:t1],
                wci_np,
                wcf_np,
                wco_np,
                Hs_np[t0 : t1 + 1],
                Cs_np[t0 : t1 + 1] if save else Cs_np,
                Cc_np,
                TC_np,
                h_rec_np if h_rec is None else h_rec_np[t0:t1],
                lnp_np,
                LH_np,
                LR_np,
                LN_EPS,
                *_switches(plan, keep_h),
                ln,
            )
            # The chunk's last cell state (index 0 going backwards), to enter the next chunk.
            c_in = Cs_np[(0 if plan.reverse else t1 - t0) % Cs_np.shape[0]].copy()

        A = nb.by_chunks(plan, x, w_ih, bias, Hs, h0, save, run_chunk)
        h_prev, h_new = state_views(Hs, plan.reverse)
        last = 0 if plan.reverse else steps
        outs = (masked_output(h_new, plan.valid), Hs[last].clone(), torch.from_numpy(c_in))
        saved: dict[str, Any] = {}
        if save:
            saved = dict(
                **nb.saved_inputs(x, w_ih, w_hh, b_ih),
                w_ci=w_ci,
                w_cf=w_cf,
                w_co=w_co,
                A=A,
                Hs=Hs,
                Cs=Cs,
                Cc=Cc,
                TC=TC,
                h_rec=h_prev if h_rec is None else h_rec,
                keep_h=keep_h,
                keep_c=keep_c,
                lnp=lnp,
                LH=LH,
                LR=LR,
            )
        return outs, saved

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        opt = plan.options
        coupled, has_f, peep, ln = opt.coupled_gates, opt.forget_gate, opt.peephole, opt.layer_norm
        gy, g_hn, g_cn = grads[0], grads[1], grads[2]
        x, A = sv["x"], sv["A"]
        batch = x.shape[1]
        hid = sv["Cc"].shape[-1]
        p = sv["Hs"].shape[-1]
        gh = A.shape[-1]
        d1, d2, d3, db3 = nb.dummies(x.dtype)
        g_out = grad_output(plan, gy, None)
        dh, dc = nb.fresh_grad(g_hn, x, p), nb.fresh_grad(g_cn, x, hid)
        dZ = torch.empty_like(A)
        dpeep = x.new_empty(3, hid)
        dln = x.new_empty(2 * gh + 2 * hid) if ln else None
        m = plan.h_mask
        keep_h, keep_c = sv["keep_h"], sv["keep_c"]
        nb.kernel_for("lstm_backward", batch)(
            A.numpy(),
            sv["Cs"].numpy(),
            sv["Cc"].numpy(),
            sv["TC"].numpy(),
            sv["w_hh_t"].numpy(),
            d2 if m is None else nb.as_numpy(m),
            db3 if keep_h is None else keep_h.numpy(),
            db3 if keep_c is None else keep_c.numpy(),
            d1 if not (peep and not coupled) else nb.as_numpy(sv["w_ci"]),
            d1 if not (peep and has_f) else nb.as_numpy(sv["w_cf"]),
            d1 if not peep else nb.as_numpy(sv["w_co"]),
            d3 if g_out is None else nb.as_numpy(g_out),
            dh.numpy(),
            dc.numpy(),
            dZ.numpy(),
            dpeep.numpy(),
            sv["lnp"].numpy() if ln else d1,
            sv["LH"].numpy() if ln else d3,
            sv["LR"].numpy() if ln else d3,
            d1 if dln is None else dln.numpy(),
            *_switches(plan, keep_h),
            g_out is not None,
            ln,
        )
        n_h0, n_c0, n_ci, n_cf, n_co = needs[1], needs[2], *needs[8:11]
        n_lnw, n_lnb, n_lncw, n_lncb = needs[11:15]
        dx, *weight_grads = shared_da_grads(
            dZ, x, sv["w_ih"], sv["h_rec"], sv["has_bias"], (needs[0], *needs[3:7])
        )
        return (
            dx,
            dh if n_h0 else None,
            dc if n_c0 else None,
            *weight_grads,
            None,
            dpeep[0] if (peep and not coupled and n_ci) else None,
            dpeep[1] if (peep and has_f and n_cf) else None,
            dpeep[2] if (peep and n_co) else None,
            dln[:gh] if (ln and n_lnw) else None,
            dln[gh : 2 * gh] if (ln and n_lnb) else None,
            dln[2 * gh : 2 * gh + hid] if (ln and n_lncw) else None,
            dln[2 * gh + hid :] if (ln and n_lncb) else None,
        )
