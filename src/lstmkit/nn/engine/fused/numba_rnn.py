"""The vanilla RNN on the fused engine's numba path: a direction's forward and backward loops as
one kernel call each (:mod:`.kernels.rnn`); the input projection and the weight gradients are
torch matrix multiplies over all steps. The backward kernel follows ``docs/design-notes.md``,
"Backpropagation through time in the fused engine", with its names.
"""

from __future__ import annotations

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
        x = x.detach()
        bias = None if b_ih is None else b_ih.detach() + b_hh.detach()
        chain = nb.StateChain(plan, x, h0.shape[-1])
        kernel = nb.kernel_for("rnn_forward", x.shape[1])
        w_hh_np = nb.as_numpy(w_hh)

        def run_chunk(A: np.ndarray, h_in: np.ndarray, t0: int, t1: int) -> None:
            # A: the input projection, then h_t before zoneout, in place
            kernel(A, w_hh_np, h_in, *chain.views(t0, t1), plan.reverse, plan.relu, *chain.flags)

        A = nb.by_chunks(plan, x, w_ih, bias, chain.Hs, h0, save, run_chunk)
        saved = nb.saved_inputs(x, w_ih, w_hh, b_ih) if save else {}
        return chain.outputs(save, **saved, A=A, hid=h0.shape[-1])

    @staticmethod
    def grads(plan: Plan, sv: dict, needs: tuple[bool, ...], grads: tuple) -> tuple:
        x, A = sv["x"], sv["A"]
        g_out, dh = nb.start_grads(plan, sv, grads)
        dA = torch.empty_like(A)
        arrays, flags = nb.backward_masks(plan, sv, g_out)
        nb.kernel_for("rnn_backward", x.shape[1])(
            A.numpy(),
            sv["w_hh_t"].numpy(),
            *arrays,
            dh.numpy(),
            dA.numpy(),
            plan.reverse,
            plan.relu,
            *flags,
        )
        dx, *weight_grads = shared_da_grads(
            dA, x, sv["w_ih"], sv["h_rec"], sv["has_bias"], (needs[0], *needs[2:6])
        )
        return (dx, dh if needs[1] else None, *weight_grads)
