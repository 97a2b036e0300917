"""The GRU on the fused engine's numba path: a direction's forward and backward loops as one
kernel call each (:mod:`.kernels.gru`); the input projection and the weight gradients are torch
matrix multiplies over all steps. The backward kernel follows ``docs/design-notes.md``,
"Backpropagation through time in the fused engine", with its names.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from lstmkit.nn.engine.fused import numba_path as nb
from lstmkit.nn.engine.fused.core import Plan, input_grads, recurrent_weight_grad
from lstmkit.nn.engine.fused.torch_gru import GRUFunction, gru_biases


class NumbaGRUFunction(nb.NumbaFunction):
    """Same inputs and outputs as the torch-ops ``GRUFunction`` (no trace)."""

    torch_function = GRUFunction

    @staticmethod
    def compute(
        plan: Plan, x: Tensor, h0: Tensor, *weights: Tensor | None, save: bool
    ) -> tuple[tuple[Tensor, ...], dict]:
        w_ih, w_hh, b_ih, b_hh = weights
        steps, batch, _ = x.shape
        hid = h0.shape[-1]
        d1 = nb.dummies(x.dtype)[0]
        x = x.detach()
        bias, b_hn = gru_biases(b_ih, b_hh, hid)
        # W_hh h + b_hn of every step for backward; without it a one-step scratch.
        HH = x.new_empty(steps if save else 1, batch, 3 * hid)
        chain = nb.StateChain(plan, x, hid)
        kernel = nb.kernel_for("gru_forward", batch)
        # numpy views made once; run_chunk slices the per-step ones.
        HH_np, w_hh_np = HH.numpy(), nb.as_numpy(w_hh)
        b_hn_np = d1 if b_hn is None else b_hn.numpy()

        def run_chunk(X: np.ndarray, h_in: np.ndarray, t0: int, t1: int) -> None:
            kernel(
                X,  # the input projection, then the gates r, z, n in place
                HH_np[t0:t1] if save else HH_np,
                b_hn_np,
                w_hh_np,
                h_in,
                *chain.views(t0, t1),
                plan.reverse,
                b_hn is not None,
                *chain.flags,
            )

        X = nb.by_chunks(plan, x, w_ih, bias, chain.Hs, h0, save, run_chunk)
        saved = nb.saved_inputs(x, w_ih, w_hh, b_ih) if save else {}
        return chain.outputs(save, **saved, X=X, HH=HH, Hs=chain.Hs, hid=hid)

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        x, X = sv["x"], sv["X"]
        steps, batch, _ = x.shape
        hid = sv["hid"]
        g_out, dh = nb.start_grads(plan, sv, grads)
        dX = torch.empty_like(X)
        dHH = torch.empty_like(X)
        arrays, flags = nb.backward_masks(plan, sv, g_out)
        nb.kernel_for("gru_backward", batch)(
            X.numpy(),
            sv["HH"].numpy(),
            sv["Hs"].numpy(),
            sv["w_hh_t"].numpy(),
            *arrays,
            dh.numpy(),
            dX.numpy(),
            dHH.numpy(),
            plan.reverse,
            *flags,
        )
        n_x, n_h0, n_wih, n_whh, n_bih, n_bhh = needs[:6]
        has_bias = sv["has_bias"]
        dx, dW_ih, db_ih = input_grads(dX, x, sv["w_ih"], n_x, n_wih, has_bias and n_bih)
        rows = steps * batch
        dHH2 = dHH.view(rows, 3 * hid)
        dW_hh = recurrent_weight_grad(dHH, sv["h_rec"]) if n_whh else None
        db_hh = dHH2.sum(0) if (has_bias and n_bhh) else None
        return dx, dh if n_h0 else None, dW_ih, dW_hh, db_ih, db_hh
