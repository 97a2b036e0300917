"""numba kernels of the GRU and the vanilla RNN for the fused engine's compiled path.

``gru_forward``/``gru_backward`` and ``rnn_forward``/``rnn_backward`` run every step of one
direction for the whole batch, and their ``_parallel`` twins run the row blocks of a step on
numba's threads. Conventions (array layout, dummies, state chains, keep masks) are those of
:mod:`lstmkit.nn.engine._nb_kernels`.

As in the LSTM's kernels, the rows of a step go in blocks of ``ROWS`` that share one pass over
W_hh (:func:`matmat_add`), and the unit loops index (gate, unit) views, whose indices are
provably non-negative, so that they vectorise (see ``_U`` in :mod:`._nb_math`).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from lstmkit.nn.engine._nb_math import (
    ROWS,
    jit,
    like,
    matmat_add,
    parallel_twin,
    recurrent_rows,
    sigmoid,
    split_kept_grad,
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
    first = T if reverse else 0
    for b in range(B):
        for k in range(H):
            Hs[first, b, k] = h0[b, k]
    for s in range(T):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t
        tn = t if reverse else t + 1
        for blk in prange((B + ROWS - 1) // ROWS):  # row blocks are independent within a step
            b0 = blk * ROWS
            b1 = min(B, b0 + ROWS)
            recurrent_rows(W, Hs, tp, hmask, Hr, t, A[t], b0, b1, has_mask)
            for b in range(b0, b1):
                z = A[t, b]
                hp = Hs[tp, b]
                hn = Hs[tn, b]
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
                        hn[j] = hp[j] if kb[j] else z[j]
                else:
                    for j in range(H):
                        hn[j] = z[j]


# Holding the GIL, as the LSTM's backward kernels do (see the comment in _nb_lstm).
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
    dhpasses = np.empty_like(dh)  # (B, H) gradient passed straight to h_{t-1} by zoneout
    for s in range(T):
        t = s if reverse else T - 1 - s
        for blk in prange((B + ROWS - 1) // ROWS):  # row blocks are independent within a step
            b0 = blk * ROWS
            b1 = min(B, b0 + ROWS)
            for b in range(b0, b1):
                z = Z[t, b]
                da = dA[t, b]
                dhb = dh[b]
                dhpass = dhpasses[b]
                split_kept_grad(dhb, dhpass, gout, keep_h, t, b, has_gout, has_keep)
                if relu:
                    for j in range(H):
                        da[j] = dhb[j] if z[j] > zero else zero
                else:
                    for j in range(H):
                        hj = z[j]
                        da[j] = dhb[j] * (one - hj * hj)
            # dh_{t-1} = W_hh^T da for the block's rows at once, then the mask and zoneout pass.
            accs[b0:b1] = zero
            matmat_add(WT, dA[t, b0:b1], accs[b0:b1])
            for b in range(b0, b1):
                acc = accs[b]
                dhb = dh[b]
                if has_mask:
                    mb = hmask[b]
                    for k in range(H):
                        acc[k] *= mb[k]
                if has_keep:
                    dhpass = dhpasses[b]
                    for k in range(H):
                        dhb[k] = acc[k] + dhpass[k]
                else:
                    for k in range(H):
                        dhb[k] = acc[k]


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
    first = T if reverse else 0
    for b in range(B):
        for k in range(H):
            Hs[first, b, k] = h0[b, k]
    for s in range(T):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t
        tn = t if reverse else t + 1
        th = t % HH.shape[0]  # the step's slot of HH (0 when only scratch)
        for blk in prange((B + ROWS - 1) // ROWS):  # row blocks are independent within a step
            b0 = blk * ROWS
            b1 = min(B, b0 + ROWS)
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
                hp = Hs[tp, b]
                hn = Hs[tn, b]
                # r and z in one pass over both blocks (~10% faster than inside the loop below).
                for j in range(2 * H):
                    xf[j] = sigmoid(xf[j] + hf[j])
                for j in range(H):
                    z = x[1, j]
                    n = tanh(x[2, j] + x[0, j] * hh[2, j])
                    x[2, j] = n
                    hn[j] = (one - z) * n + z * hp[j]
                if has_keep:
                    kb = keep_h[t, b]
                    for j in range(H):
                        if kb[j]:
                            hn[j] = hp[j]


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
    dhpasses = np.empty_like(dh)  # (B, H) gradient passed straight to h_{t-1}
    for s in range(T):
        t = s if reverse else T - 1 - s
        tp = t + 1 if reverse else t
        for blk in prange((B + ROWS - 1) // ROWS):  # row blocks are independent within a step
            b0 = blk * ROWS
            b1 = min(B, b0 + ROWS)
            for b in range(b0, b1):
                x = X4[t, b]
                hh = HH4[t, b]
                hp = Hs[tp, b]
                dx = dX4[t, b]
                dhh = dHH4[t, b]
                dhb = dh[b]
                dhpass = dhpasses[b]
                if not has_keep:
                    for j in range(H):
                        dhpass[j] = zero
                split_kept_grad(dhb, dhpass, gout, keep_h, t, b, has_gout, has_keep)
                for j in range(H):
                    dhj = dhb[j]
                    r = x[0, j]
                    z = x[1, j]
                    n = x[2, j]
                    dan = dhj * (one - z) * (one - n * n)
                    daz = dhj * (hp[j] - n) * (z - z * z)
                    dar = dan * hh[2, j] * (r - r * r)
                    dx[0, j] = dar
                    dx[1, j] = daz
                    dx[2, j] = dan
                    dhh[0, j] = dar
                    dhh[1, j] = daz
                    dhh[2, j] = dan * r
                    dhpass[j] += dhj * z  # through z * h_{t-1}, the undropped state
            # dh_{t-1} = W_hh^T dhh for the block's rows at once, then the mask and the pass.
            accs[b0:b1] = zero
            matmat_add(WT, dHH[t, b0:b1], accs[b0:b1])
            for b in range(b0, b1):
                acc = accs[b]
                dhb = dh[b]
                dhpass = dhpasses[b]
                if has_mask:
                    mb = hmask[b]
                    for k in range(H):
                        dhb[k] = acc[k] * mb[k] + dhpass[k]
                else:
                    for k in range(H):
                        dhb[k] = acc[k] + dhpass[k]


# The kernels, rows in parallel: for batches of several rows when torch has more than one thread
# (fused_numba chooses); with one thread the serial kernels above run.
rnn_forward_parallel = parallel_twin(rnn_forward)
rnn_backward_parallel = parallel_twin(rnn_backward, nogil=False)
gru_forward_parallel = parallel_twin(gru_forward)
gru_backward_parallel = parallel_twin(gru_backward, nogil=False)
