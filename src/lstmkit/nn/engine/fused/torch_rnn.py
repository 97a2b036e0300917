"""The vanilla RNN (tanh or ReLU) on the fused engine's torch-ops path.

Backward through time follows ``docs/design-notes.md``, "Backpropagation through time in the fused
engine" (the RNN step), with its names.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.nn.engine.fused.core import (
    FusedFunction,
    Plan,
    as_float,
    backward_steps,
    grad_output,
    masked_output,
    project_input,
    recurrent_grad,
    saved_for_backward,
    seed_grad,
    shared_da_grads,
    single_state_outputs,
    state_views,
    time_order,
)

TRACE_NAMES = ("h",)


class RNNFunction(FusedFunction):
    """One vanilla-RNN direction; inputs ``x, h0, w_ih, w_hh, b_ih, b_hh``."""

    @staticmethod
    def compute(
        plan: Plan, x: Tensor, h0: Tensor, *weights: Tensor | None, save: bool
    ) -> tuple[tuple[Tensor, ...], dict]:
        w_ih, w_hh, b_ih, b_hh = weights
        steps, batch, _ = x.shape
        hid = h0.shape[-1]
        (keep_h,) = plan.keep
        m = plan.h_mask
        Hs = x.new_empty(steps + 1, batch, hid)
        h_prev_all, h_new_all = state_views(Hs, plan.reverse)
        order = time_order(steps, plan.reverse)
        # The pre-activations, then h_t before zoneout / lengths in place.
        A = h_new_all if keep_h is None else torch.empty_like(h_new_all)
        project_input(x, w_ih, None if b_ih is None else b_ih + b_hh, A)
        h_prev_all[order[0]].copy_(h0)
        h_rec_all = torch.empty_like(h_prev_all) if m is not None else h_prev_all
        w_hh_t = w_hh.t()
        h_prev_l, h_new_l, A_l, h_rec_l = (
            h_prev_all.unbind(0),
            h_new_all.unbind(0),
            A.unbind(0),
            h_rec_all.unbind(0),
        )
        keep_h_l = keep_h.unbind(0) if keep_h is not None else None
        relu = plan.relu
        for t in order:
            h_prev = h_prev_l[t]
            h_rec = h_prev if m is None else torch.mul(h_prev, m, out=h_rec_l[t])
            a = A_l[t].addmm_(h_rec, w_hh_t)
            if relu:
                a.relu_()
            else:
                a.tanh_()
            if keep_h_l is not None:
                torch.where(keep_h_l[t], h_prev, a, out=h_new_l[t])
        output, h_last, _ = single_state_outputs(plan, Hs, steps)
        outs = [output, h_last]
        if plan.want_trace:
            outs.append(masked_output(h_new_all, plan.valid))
        saved = saved_for_backward(x, w_ih, w_hh, b_ih, hid, A=A, h_rec=h_rec_all) if save else {}
        return tuple(outs), saved

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        gy, g_hn = grads[0], grads[1]
        g_trace_h = grads[2] if plan.want_trace else None
        x, A = sv["x"], sv["A"]
        steps, batch, _ = x.shape
        hid = sv["hid"]
        m = plan.h_mask
        da_dh = (A > 0).to(x.dtype) if plan.relu else 1.0 - A * A  # A holds h_cell here
        keep_h = as_float(plan.keep[0], x)
        if keep_h is not None:
            da_dh = da_dh * (1.0 - keep_h)
        g_out = grad_output(plan, gy, g_trace_h)
        g_out_l = g_out.unbind(0) if g_out is not None else None
        da = torch.empty_like(A)
        da_l, da_dh_l = da.unbind(0), da_dh.unbind(0)
        keep_h_l = None if keep_h is None else keep_h.unbind(0)
        order = time_order(steps, plan.reverse)
        dh = x.new_empty(batch, hid)
        seed_grad(dh, g_hn, g_out, order[-1])
        w_hh = sv["w_hh"]
        for _, t, _, g_out_prev in backward_steps(order, g_out_l):
            torch.mul(dh, da_dh_l[t], out=da_l[t])
            dh_prev = recurrent_grad(da_l[t], w_hh, m, g_out_prev)
            if keep_h_l is not None:
                dh_prev.addcmul_(dh, keep_h_l[t])
            dh = dh_prev
        dx, *weight_grads = shared_da_grads(
            da, x, sv["w_ih"], sv["h_rec"], sv["has_bias"], (needs[0], *needs[2:6])
        )
        return (dx, dh if needs[1] else None, *weight_grads)
