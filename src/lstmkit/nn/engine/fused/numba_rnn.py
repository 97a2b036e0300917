"""The vanilla RNN on the fused engine's numba path: a direction's forward and backward loops as
one kernel call each (:mod:`.kernels.rnn`); the input projection and the weight gradients are
torch matrix multiplies over all steps. The backward kernel follows ``docs/design-notes.md``,
"Backpropagation through time in the fused engine", with its names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from lstmkit.nn.engine.fused.core import Plan, input_grads, recurrent_weight_grad
from lstmkit.nn.engine.fused.numba_path import (
    NumbaFunction,
    as_numpy,
    by_chunks,
    dummies,
    keep_array,
    kernel_for,
    single_state_outputs,
    start_grads,
)
from lstmkit.nn.engine.fused.torch_rnn import RNNFunction


class NumbaRNNFunction(NumbaFunction):
    """Same inputs and outputs as the torch-ops ``RNNFunction`` (no trace)."""

    torch_function = RNNFunction

    @staticmethod
    def compute(
        plan: Plan,
        x: Tensor,
        h0: Tensor,
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor | None,
        b_hh: Tensor | None,
        *,
        save: bool,
    ) -> tuple[tuple[Tensor, ...], dict]:
        steps, batch, _ = x.shape
        hid = h0.shape[-1]
        _, d2, d3, db3 = dummies(x.dtype)
        x = x.detach()
        bias = None if b_ih is None else b_ih.detach() + b_hh.detach()
        Hs = x.new_empty(steps + 1, batch, hid)
        m = plan.h_mask
        Hr = x.new_empty(steps, batch, hid) if m is not None else None
        kh = keep_array(plan.keep[0], (steps, batch, hid))
        kernel = kernel_for("rnn_forward", batch)
        # numpy views made once; run_chunk slices the per-step ones.
        Hs_np, w_hh_np, m_np = Hs.numpy(), as_numpy(w_hh), d2 if m is None else as_numpy(m)
        kh_np = db3 if kh is None else kh.numpy()
        Hr_np = d3 if Hr is None else Hr.numpy()

        def run_chunk(A: np.ndarray, h_in: np.ndarray, t0: int, t1: int) -> None:
            kernel(
                A,  # the input projection, then h_t before zoneout, in place
                w_hh_np,
                h_in,
                m_np,
                kh_np if kh is None else kh_np[t0:t1],
                Hs_np[t0 : t1 + 1],
                Hr_np if Hr is None else Hr_np[t0:t1],
                plan.reverse,
                plan.relu,
                m is not None,
                kh is not None,
            )

        A = by_chunks(plan, x, w_ih, bias, Hs, h0, save, run_chunk)
        output, h_last, h_prev = single_state_outputs(plan, Hs, steps)
        saved: dict[str, Any] = {}
        if save:
            saved = dict(
                x=x,
                w_ih=w_ih.detach().clone(),
                w_hh_t=w_hh.detach().t().contiguous(),
                A=A,
                h_rec=h_prev if Hr is None else Hr,
                kh=kh,
                hid=hid,
                has_bias=b_ih is not None,
            )
        return (output, h_last), saved

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        x, A = sv["x"], sv["A"]
        steps, batch, _ = x.shape
        _, d2, d3, db3 = dummies(x.dtype)
        g_out, dh = start_grads(plan, sv, grads)
        dA = torch.empty_like(A)
        m, kh = plan.h_mask, sv["kh"]
        kernel_for("rnn_backward", batch)(
            A.numpy(),
            sv["w_hh_t"].numpy(),
            d2 if m is None else as_numpy(m),
            db3 if kh is None else kh.numpy(),
            d3 if g_out is None else as_numpy(g_out),
            dh.numpy(),
            dA.numpy(),
            plan.reverse,
            plan.relu,
            m is not None,
            kh is not None,
            g_out is not None,
        )
        n_x, n_h0, n_wih, n_whh, n_bih, n_bhh = needs[:6]
        need_b = sv["has_bias"] and (n_bih or n_bhh)
        dx, dW_ih, db = input_grads(dA, x, sv["w_ih"], n_x, n_wih, need_b)
        dW_hh = recurrent_weight_grad(dA, sv["h_rec"]) if n_whh else None
        return (
            dx,
            dh if n_h0 else None,
            dW_ih,
            dW_hh,
            db if n_bih else None,
            db if n_bhh else None,
        )
