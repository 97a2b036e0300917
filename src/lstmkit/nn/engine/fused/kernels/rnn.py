"""numba kernels of the vanilla RNN (tanh or ReLU) for the fused engine's numba path.

``rnn_forward``/``rnn_backward`` run every step of one direction for the whole batch, and their
``_parallel`` twins run the row blocks of a step on numba's threads. Conventions (array layout,
dummies, state chains, keep masks) are those of :mod:`lstmkit.nn.engine.fused.kernels`; the
backward step is the RNN step of ``docs/design-notes.md``, "Backpropagation through time in the
fused engine".
"""

from __future__ import annotations

import numpy as np
from numba import prange

from lstmkit.nn.engine.fused.kernels.helpers import (
    block_span,
    jit,
    like,
    parallel_twin,
    recurrent_grad_rows,
    recurrent_rows,
    row_blocks,
    split_kept_grad,
    start_chain,
    step_slots,
    tanh,
)


@jit
def rnn_forward(  # noqa: ANN201, PLR0913
    A,  # (T, B, H) in: input projection + both biases; out: h_t before zoneout/lengths
    W,  # (H, H) W_hh
    h0,  # (B, H)
    hmask,  # (B, H) or dummy
    keep_h,  # (T, B, H) bool or dummy
    Hs,  # (T+1, B, H) out: state chain
    Hr,  # (T, B, H) out: h_{t-1} * hmask when has_mask
    reverse,
    relu,
    has_mask,
    has_keep,
):
    T, B, H = A.shape
    zero = like(0.0, A)  # a typed constant keeps float32 arithmetic float32 (see like)
    start_chain(Hs, T if reverse else 0, h0)
    for s in range(T):
        t, tp, tn = step_slots(s, T, reverse)
        for blk in prange(row_blocks(B)):  # row blocks are independent within a step
            b0, b1 = block_span(blk, B)
            recurrent_rows(W, Hs, tp, hmask, Hr, t, A[t], b0, b1, has_mask)
            for b in range(b0, b1):
                z = A[t, b]
                h_prev = Hs[tp, b]
                h_new = Hs[tn, b]
                if relu:
                    for j in range(H):
                        zj = z[j]
                        if zj < zero:  # NaN passes, as in torch.relu
                            zj = zero
                        z[j] = zj
                else:
                    for j in range(H):
                        z[j] = tanh(z[j])
                if has_keep:
                    kb = keep_h[t, b]
                    for j in range(H):
                        h_new[j] = h_prev[j] if kb[j] else z[j]
                else:
                    for j in range(H):
                        h_new[j] = z[j]


# Holding the GIL, as the LSTM's backward kernels do (see the comment in kernels/lstm.py).
@jit(nogil=False)
def rnn_backward(  # noqa: ANN201, PLR0913
    Z,  # (T, B, H) h_t before zoneout/lengths, from rnn_forward
    WT,  # (H, H) W_hh transposed
    hmask,
    keep_h,
    gout,  # (T, B, H) or dummy
    dh,  # (B, H) in: gradient of the final h; out: of the initial h
    dA,  # (T, B, H) out: gradient of the pre-activations
    reverse,
    relu,
    has_mask,
    has_keep,
    has_gout,
):
    T, B, H = Z.shape
    zero = like(0.0, Z)  # typed constants keep float32 arithmetic float32 (see like)
    one = like(1.0, Z)
    # Scratch per row, so that the row blocks of a step can run in parallel (prange).
    accs = np.empty_like(dh)  # (B, H) W_hh^T da of each row
    dh_passes = np.empty_like(dh)  # (B, H) gradient passed straight to h_{t-1} by zoneout
    for s in range(T):
        t, _, _ = step_slots(T - 1 - s, T, reverse)
        for blk in prange(row_blocks(B)):  # row blocks are independent within a step
            b0, b1 = block_span(blk, B)
            for b in range(b0, b1):
                z = Z[t, b]
                da = dA[t, b]
                dhb = dh[b]
                dh_pass = dh_passes[b]
                split_kept_grad(dhb, dh_pass, gout, keep_h, t, b, has_gout, has_keep)
                if relu:
                    for j in range(H):
                        da[j] = dhb[j] if z[j] > zero else zero
                else:
                    for j in range(H):
                        hj = z[j]
                        da[j] = dhb[j] * (one - hj * hj)
            # dh_{t-1} = W_hh^T da for the block's rows at once, then the mask and zoneout pass.
            recurrent_grad_rows(WT, dA, t, accs, dh, dh_passes, hmask, b0, b1, has_mask, has_keep)


# The kernels, rows in parallel: for batches of several rows when torch has more than one thread
# (numba_path chooses); with one thread the serial kernels above run.
rnn_forward_parallel = parallel_twin(rnn_forward)
rnn_backward_parallel = parallel_twin(rnn_backward, nogil=False)
