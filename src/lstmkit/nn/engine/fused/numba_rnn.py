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

from lstmkit.nn.engine.fused import numba_path as nb
from lstmkit.nn.engine.fused.core import Plan, shared_da_grads
from lstmkit.nn.engine.fused.torch_rnn import RNNFunction


class NumbaRNNFunction(nb.NumbaFunction):
    """Same inputs and outputs as the torch-ops ``RNNFunction`` (no trace)."""

    torch_function = RNNFunction

    @staticmethod
    def compute(
        plan: Plan, x: Tensor, h0: Tensor, *weights: Tensor | None, save: bool
    ) -> tuple[tuple[Tensor, ...], dict]:
        w_ih, w_hh, b_ih, b_hh = weights
        steps, batch, _ = x.shape
        hid = h0.shape[-1]
        _, d2, d3, db3 = nb.dummies(x.dtype)
        x = x.detach()
        bias = None if b_ih is None else b_ih.detach() + b_hh.detach()
        Hs = x.new_empty(steps + 1, batch, hid)
        m = plan.h_mask
        h_rec = x.new_empty(steps, batch, hid) if m is not None else None
        keep_h = nb.keep_array(plan.keep[0], (steps, batch, hid))
        kernel = nb.kernel_for("rnn_forward", batch)
        # numpy views made once; run_chunk slices the per-step ones.
        Hs_np, w_hh_np, m_np = Hs.numpy(), nb.as_numpy(w_hh), d2 if m is None else nb.as_numpy(m)
        keep_h_np = db3 if keep_h is None else keep_h.numpy()
        h_rec_np = d3 if h_rec is None else h_rec.numpy()

        def run_chunk(A: np.ndarray, h_in: np.ndarray, t0: int, t1: int) -> None:
            kernel(
                A,  # the input projection, then h_t before zoneout, in place
                w_hh_np,
                h_in,
                m_np,
                keep_h_np if keep_h is None else keep_h_np[t0:t1],
                Hs_np[t0 : t1 + 1],
                h_rec_np if h_rec is None else h_rec_np[t0:t1],
                plan.reverse,
                plan.relu,
                m is not None,
                keep_h is not None,
            )

        A = nb.by_chunks(plan, x, w_ih, bias, Hs, h0, save, run_chunk)
        output, h_last, h_prev = nb.single_state_outputs(plan, Hs, steps)
        saved: dict[str, Any] = {}
        if save:
            saved = dict(
                **nb.saved_inputs(x, w_ih, w_hh, b_ih),
                A=A,
                h_rec=h_prev if h_rec is None else h_rec,
                keep_h=keep_h,
                hid=hid,
            )
        return (output, h_last), saved

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        x, A = sv["x"], sv["A"]
        steps, batch, _ = x.shape
        _, d2, d3, db3 = nb.dummies(x.dtype)
        g_out, dh = nb.start_grads(plan, sv, grads)
        dA = torch.empty_like(A)
        m, keep_h = plan.h_mask, sv["keep_h"]
        nb.kernel_for("rnn_backward", batch)(
            A.numpy(),
            sv["w_hh_t"].numpy(),
            d2 if m is None else nb.as_numpy(m),
            db3 if keep_h is None else keep_h.numpy(),
            d3 if g_out is None else nb.as_numpy(g_out),
            dh.numpy(),
            dA.numpy(),
            plan.reverse,
            plan.relu,
            m is not None,
            keep_h is not None,
            g_out is not None,
        )
        dx, *weight_grads = shared_da_grads(
            dA, x, sv["w_ih"], sv["h_rec"], sv["has_bias"], (needs[0], *needs[2:6])
        )
        return (dx, dh if needs[1] else None, *weight_grads)
