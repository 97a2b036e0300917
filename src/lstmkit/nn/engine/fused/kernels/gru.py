"""numba kernels of the GRU for the fused engine's numba path.

``gru_forward``/``gru_backward`` run every step of one direction for the whole batch, and their
``_parallel`` twins run the row blocks of a step on numba's threads. Conventions (array layout,
dummies, state chains, keep masks) are those of :mod:`lstmkit.nn.engine.fused.kernels`; the
backward step is the GRU step of ``docs/design-notes.md``, "Backpropagation through time in the
fused engine". Gate blocks in torch's order ``r, z, n``.

As in the LSTM's kernels, the rows of a step go in blocks of ``ROWS`` that share one pass over
W_hh (:func:`matmat_add`), and the unit loops index (gate, unit) views, whose indices are
provably non-negative, so that they vectorise (see ``_U`` in :mod:`.helpers`).
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
    sigmoid,
    split_kept_grad,
    start_chain,
    step_slots,
    tanh,
)


@jit
def gru_forward(  # noqa: ANN201, PLR0913
    X,  # (T, B, 3H) in: input projection + [b_ir + b_hr, b_iz + b_hz, b_in]; out: r, z, n
    HH,  # (T, B, 3H) out: W_hh h_rec + [0, 0, b_hn]; (1, B, 3H) scratch (every step writes
    #      slot 0) when the backward pass will not need it
    bhn,  # (3H,) [0, 0, b_hn], or dummy
    W,  # (3H, H) W_hh
    h0,  # (B, H)
    hmask,
    keep_h,
    Hs,  # (T+1, B, H) out
    Hr,  # (T, B, H) out when has_mask
    reverse,
    has_bias,
    has_mask,
    has_keep,
):
    T, B, H3 = X.shape
    zero = like(0.0, X)  # typed constants keep float32 arithmetic float32 (see like)
    one = like(1.0, X)
    H = H3 // 3
    X4 = X.reshape((T, B, 3, H))
    HH4 = HH.reshape((HH.shape[0], B, 3, H))
    start_chain(Hs, T if reverse else 0, h0)
    for s in range(T):
        t, tp, tn = step_slots(s, T, reverse)
        th = t % HH.shape[0]  # the step's slot of HH (0 when only scratch)
        for blk in prange(row_blocks(B)):  # row blocks are independent within a step
            b0, b1 = block_span(blk, B)
            for b in range(b0, b1):
                hrow = HH[th, b]
                if has_bias:
                    for j in range(H3):
                        hrow[j] = bhn[j]
                else:
                    for j in range(H3):
                        hrow[j] = zero
            recurrent_rows(W, Hs, tp, hmask, Hr, t, HH[th], b0, b1, has_mask)
            for b in range(b0, b1):
                xf = X[t, b]
                hf = HH[th, b]
                x = X4[t, b]
                hh = HH4[th, b]
                h_prev = Hs[tp, b]
                h_new = Hs[tn, b]
                # r and z in one pass over both blocks (~10% faster than inside the loop below).
                for j in range(2 * H):
                    xf[j] = sigmoid(xf[j] + hf[j])
                for j in range(H):
                    z = x[1, j]
                    n = tanh(x[2, j] + x[0, j] * hh[2, j])
                    x[2, j] = n
                    h_new[j] = (one - z) * n + z * h_prev[j]
                if has_keep:
                    kb = keep_h[t, b]
                    for j in range(H):
                        if kb[j]:
                            h_new[j] = h_prev[j]


@jit(nogil=False)
def gru_backward(  # noqa: ANN201, PLR0913
    X,  # (T, B, 3H) gates r, z, n from gru_forward
    HH,  # (T, B, 3H)
    Hs,  # (T+1, B, H)
    WT,  # (H, 3H) W_hh transposed
    hmask,
    keep_h,
    gout,
    dh,  # (B, H) in/out
    dX,  # (T, B, 3H) out: gradient of the input part [r, z, n pre-activations]
    dHH,  # (T, B, 3H) out: gradient of W_hh h_rec (+ b_hh)
    reverse,
    has_mask,
    has_keep,
    has_gout,
):
    T, B, H3 = X.shape
    zero = like(0.0, X)  # typed constants keep float32 arithmetic float32 (see like)
    one = like(1.0, X)
    H = H3 // 3
    X4 = X.reshape((T, B, 3, H))
    HH4 = HH.reshape((T, B, 3, H))
    dX4 = dX.reshape((T, B, 3, H))
    dHH4 = dHH.reshape((T, B, 3, H))
    # Scratch per row, so that the row blocks of a step can run in parallel (prange).
    accs = np.empty_like(dh)  # (B, H) W_hh^T dhh of each row
    dh_passes = np.empty_like(dh)  # (B, H) gradient passed straight to h_{t-1}
    for s in range(T):
        t, tp, _ = step_slots(T - 1 - s, T, reverse)
        for blk in prange(row_blocks(B)):  # row blocks are independent within a step
            b0, b1 = block_span(blk, B)
            for b in range(b0, b1):
                x = X4[t, b]
                hh = HH4[t, b]
                h_prev = Hs[tp, b]
                dx = dX4[t, b]
                dhh = dHH4[t, b]
                dhb = dh[b]
                dh_pass = dh_passes[b]
                if not has_keep:
                    for j in range(H):
                        dh_pass[j] = zero
                split_kept_grad(dhb, dh_pass, gout, keep_h, t, b, has_gout, has_keep)
                for j in range(H):
                    dhj = dhb[j]
                    r = x[0, j]
                    z = x[1, j]
                    n = x[2, j]
                    da_n = dhj * (one - z) * (one - n * n)
                    da_z = dhj * (h_prev[j] - n) * (z - z * z)
                    da_r = da_n * hh[2, j] * (r - r * r)
                    dx[0, j] = da_r
                    dx[1, j] = da_z
                    dx[2, j] = da_n
                    dhh[0, j] = da_r
                    dhh[1, j] = da_z
                    dhh[2, j] = da_n * r
                    dh_pass[j] += dhj * z  # through z * h_{t-1}, the undropped state
            # dh_{t-1} = W_hh^T dhh for the block's rows at once, then the mask and the pass.
            recurrent_grad_rows(WT, dHH, t, accs, dh, dh_passes, hmask, b0, b1, has_mask, True)


# The kernels, rows in parallel: for batches of several rows when torch has more than one thread
# (numba_path chooses); with one thread the serial kernels above run.
gru_forward_parallel = parallel_twin(gru_forward)
gru_backward_parallel = parallel_twin(gru_backward, nogil=False)
