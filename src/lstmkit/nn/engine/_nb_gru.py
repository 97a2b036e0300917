"""numba kernels of the GRU and the vanilla RNN for the fused engine's compiled path.

``gru_forward``/``gru_backward`` and ``rnn_forward``/``rnn_backward`` run every step of one
direction for the whole batch. Conventions (array layout, dummies, state chains, keep masks)
are those of :mod:`lstmkit.nn.engine._nb_kernels`.
"""

from __future__ import annotations

import numpy as np

from lstmkit.nn.engine._nb_math import (
    jit,
    matvec_add,
    sigmoid,
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
    first = T if reverse else 0
    for b in range(B):
        for k in range(H):
            Hs[first, b, k] = h0[b, k]
    for s in range(T):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t
        tn = t if reverse else t + 1
        for b in range(B):
            z = A[t, b]
            hp = Hs[tp, b]
            hn = Hs[tn, b]
            hr = hp
            if has_mask:
                hr = Hr[t, b]
                for k in range(H):
                    hr[k] = hp[k] * hmask[b, k]
            matvec_add(W, hr, z)
            if relu:
                for j in range(H):
                    if z[j] < 0.0:  # NaN passes, as in torch.relu
                        z[j] = 0.0
            else:
                for j in range(H):
                    z[j] = tanh(z[j])
            if has_keep:
                for j in range(H):
                    hn[j] = hp[j] if keep_h[t, b, j] else z[j]
            else:
                for j in range(H):
                    hn[j] = z[j]


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
    acc = np.empty_like(dh[0])
    dhpass = np.empty_like(dh[0])
    for s in range(T):
        t = s if reverse else T - 1 - s
        for b in range(B):
            z = Z[t, b]
            da = dA[t, b]
            for j in range(H):
                dhj = dh[b, j]
                if has_gout:
                    dhj += gout[t, b, j]
                dhpass[j] = 0.0
                if has_keep and keep_h[t, b, j]:
                    dhpass[j] = dhj
                    dhj = 0.0
                hj = z[j]
                if relu:
                    da[j] = dhj if hj > 0.0 else 0.0
                else:
                    da[j] = dhj * (1.0 - hj * hj)
                acc[j] = 0.0
            matvec_add(WT, da, acc)
            for k in range(H):
                a = acc[k]
                if has_mask:
                    a *= hmask[b, k]
                dh[b, k] = a + dhpass[k]


@jit
def gru_forward(  # noqa: ANN201, PLR0913
    X,  # (T, B, 3H) in: input projection + [b_ir + b_hr, b_iz + b_hz, b_in]; out: r, z, n
    HH,  # (T, B, 3H) out: W_hh h_rec + [0, 0, b_hn]
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
    H = H3 // 3
    first = T if reverse else 0
    for b in range(B):
        for k in range(H):
            Hs[first, b, k] = h0[b, k]
    for s in range(T):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t
        tn = t if reverse else t + 1
        for b in range(B):
            x = X[t, b]
            hh = HH[t, b]
            hp = Hs[tp, b]
            hn = Hs[tn, b]
            hr = hp
            if has_mask:
                hr = Hr[t, b]
                for k in range(H):
                    hr[k] = hp[k] * hmask[b, k]
            for j in range(H3):
                hh[j] = bhn[j] if has_bias else 0.0
            matvec_add(W, hr, hh)
            for j in range(2 * H):
                x[j] = sigmoid(x[j] + hh[j])
            for j in range(H):
                x[2 * H + j] = tanh(x[2 * H + j] + x[j] * hh[2 * H + j])
            for j in range(H):
                z = x[H + j]
                h = (1.0 - z) * x[2 * H + j] + z * hp[j]
                if has_keep:
                    hn[j] = hp[j] if keep_h[t, b, j] else h
                else:
                    hn[j] = h


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
    H = H3 // 3
    acc = np.empty_like(dh[0])
    dhpass = np.empty_like(dh[0])
    for s in range(T):
        t = s if reverse else T - 1 - s
        tp = t + 1 if reverse else t
        for b in range(B):
            x = X[t, b]
            hh = HH[t, b]
            hp = Hs[tp, b]
            dx = dX[t, b]
            dhh = dHH[t, b]
            for j in range(H):
                dhj = dh[b, j]
                if has_gout:
                    dhj += gout[t, b, j]
                dhpass[j] = 0.0
                if has_keep and keep_h[t, b, j]:
                    dhpass[j] = dhj
                    dhj = 0.0
                r = x[j]
                z = x[H + j]
                n = x[2 * H + j]
                dan = dhj * (1.0 - z) * (1.0 - n * n)
                daz = dhj * (hp[j] - n) * (z - z * z)
                dar = dan * hh[2 * H + j] * (r - r * r)
                dx[j] = dar
                dx[H + j] = daz
                dx[2 * H + j] = dan
                dhh[j] = dar
                dhh[H + j] = daz
                dhh[2 * H + j] = dan * r
                acc[j] = 0.0
                dhpass[j] += dhj * z  # through z * h_{t-1}, the undropped state
            matvec_add(WT, dhh, acc)
            for k in range(H):
                a = acc[k]
                if has_mask:
                    a *= hmask[b, k]
                dh[b, k] = a + dhpass[k]
