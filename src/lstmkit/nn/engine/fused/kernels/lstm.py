"""numba kernels of the LSTM for the fused engine's compiled path: one call runs a direction.

``lstm_forward``/``lstm_backward`` run every step of one direction for the whole batch, and their
``_parallel`` twins run the row blocks of a step on numba's threads. Conventions (array layout,
dummies, state chains, keep masks) are those of :mod:`lstmkit.nn.engine.fused.kernels`.

Gate blocks are in torch's row order, indexed through a (gate, unit) view: ``[i, f, g, o]``,
``[f, g, o]`` with coupled gates (``coupled``), ``[i, g, o]`` without a forget gate (``has_f``
false: f ≡ 1). i is block 0 when present; g and o are always the last two. The backward kernel is
the LSTM step of ``docs/design-notes.md``, "Backpropagation through time in the fused engine",
unit by unit and with its names.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from lstmkit.nn.engine.fused.kernels.helpers import (
    block_span,
    jit,
    layer_norm_backward_row,
    layer_norm_row,
    like,
    parallel_twin,
    recurrent_grad_rows,
    recurrent_rows,
    row_blocks,
    sigmoid,
    sigmoid_range,
    start_chain,
    step_slots,
    tanh,
    tanh_range,
)


@jit
def lstm_forward(  # noqa: ANN201, PLR0913
    A,  # (T, B, G*H) in: input projection + biases; out: gate activations
    W,  # (G*H, P) W_hh
    h0,  # (B, P)
    c0,  # (B, H)
    hmask,  # (B, P) recurrent dropout mask, or dummy
    keep_h,  # (T, B, P) bool, True = keep previous, or dummy
    keep_c,  # (T, B, H) bool, or dummy
    wci,  # (H,) peepholes, or dummies
    wcf,
    wco,
    Hs,  # (T+1, B, P) out: hidden state chain
    Cs,  # (T+1, B, H) out: cell state chain; or (2, B, H), a ring, when backward will not run
    Cc,  # (T, B, H) out: c_t before zoneout/lengths; or (1, B, H) scratch as LH
    TC,  # (T, B, H) out: tanh(c_t); or (1, B, H) scratch
    Hr,  # (T, B, P) out: h_{t-1} * hmask when has_mask
    lnp,  # (2*G*H + 2*H,) [ln_gates_weight, ln_gates_bias, ln_cell_weight, ln_cell_bias], or dummy
    LH,  # (T, B, G*H + H) out when ln: the normalised pre-activations, then the normalised c_t
    LR,  # (T, B, G + 1) out when ln: 1/std of each gate block, then of c_t; both (1, B, .)
    #      scratch (every step writes row 0) when the backward pass will not need them
    eps,  # layer norm epsilon
    reverse,
    coupled,
    has_f,  # False: the cell without a forget gate (f ≡ 1, blocks i, g, o)
    peep,
    has_mask,
    has_keep,
    ln,
):
    T, B, GH = A.shape
    H = Cs.shape[2]
    NG = GH // H
    lnw = lnp[:GH]
    lnb = lnp[GH : 2 * GH]
    lncw = lnp[2 * GH : 2 * GH + H]
    lncb = lnp[2 * GH + H :]
    A4 = A.reshape((T, B, NG, H))
    one = like(1.0, A)  # a typed constant keeps float32 arithmetic in float32 (see like)
    gg = NG - 2  # gate blocks of g and o, the last two; i is block 0 when not coupled
    go = NG - 1
    gf = gg - 1  # and f just before g, when has_f
    NC = Cs.shape[0]  # T+1, or 2 when only the final cell state is wanted (a ring)
    first = T if reverse else 0
    start_chain(Hs, first, h0)
    start_chain(Cs, first % NC, c0)
    for s in range(T):
        t, tp, tn = step_slots(s, T, reverse)
        ts = t % LH.shape[0]  # the step's slot of the LN statistics (0 when only scratch)
        tw = t % Cc.shape[0]  # and of c_t, tanh(c_t)
        for blk in prange(row_blocks(B)):  # row blocks are independent within a step
            b0, b1 = block_span(blk, B)
            recurrent_rows(W, Hs, tp, hmask, Hr, t, A[t], b0, b1, has_mask)
            for b in range(b0, b1):
                z = A[t, b]
                h_prev = Hs[tp, b]
                c_prev = Cs[tp % NC, b]
                h_new = Hs[tn, b]
                c_new = Cs[tn % NC, b]
                if ln:
                    # Each gate block normalised on its own, then the per-unit affine, in place;
                    # the normalised values and 1/std are kept for the backward pass.
                    zh = LH[ts, b]
                    for gate in range(NG):
                        LR[ts, b, gate] = layer_norm_row(z, zh, gate * H, H, eps, lnw, lnb, True)
                # Gate activations in place, block by block: the sigmoid gates before g, then g,
                # then o. The unit loops index a (gate, unit) view, whose indices are provably
                # non-negative, so that they vectorise (see _U in helpers).
                gates = A4[t, b]
                if peep:
                    if has_f:
                        for j in range(H):
                            gates[gf, j] += wcf[j] * c_prev[j]
                    if not coupled:
                        for j in range(H):
                            gates[0, j] += wci[j] * c_prev[j]
                    sigmoid_range(z, 0, gg * H)
                else:
                    sigmoid_range(z, 0, gg * H)
                    sigmoid_range(z, go * H, GH)
                tanh_range(z, gg * H, go * H)
                c_cell = Cc[tw, b]
                tanh_c = TC[tw, b]
                if coupled:  # c = f * c_prev + (1 - f) * g
                    for j in range(H):
                        f = gates[gf, j]
                        c_cell[j] = f * c_prev[j] + (one - f) * gates[gg, j]
                elif has_f:  # c = f * c_prev + i * g
                    for j in range(H):
                        c_cell[j] = gates[gf, j] * c_prev[j] + gates[0, j] * gates[gg, j]
                else:  # no forget gate, f ≡ 1: c = c_prev + i * g
                    for j in range(H):
                        c_cell[j] = c_prev[j] + gates[0, j] * gates[gg, j]
                if peep:
                    for j in range(H):
                        gates[go, j] = sigmoid(gates[go, j] + wco[j] * c_cell[j])
                if ln:
                    ch = LH[ts, b, GH:]
                    LR[ts, b, NG] = layer_norm_row(c_cell, ch, 0, H, eps, lncw, lncb, False)
                    for j in range(H):
                        tanh_c[j] = tanh(ch[j] * lncw[j] + lncb[j])
                else:
                    for j in range(H):
                        tanh_c[j] = tanh(c_cell[j])
                if has_keep:
                    for j in range(H):
                        h = gates[go, j] * tanh_c[j]
                        h_new[j] = h_prev[j] if keep_h[t, b, j] else h
                        c_new[j] = c_prev[j] if keep_c[t, b, j] else c_cell[j]
                else:
                    for j in range(H):
                        h_new[j] = gates[go, j] * tanh_c[j]
                        c_new[j] = c_cell[j]


# Holding the GIL: released inside torch's autograd engine, it cost ~4 ms per backward call here
# (the thread then waits a switch interval to get it back), 3x the whole S1 training step.
@jit(nogil=False)
def lstm_backward(  # noqa: ANN201, PLR0913
    Z,  # (T, B, G*H) gate activations from lstm_forward
    Cs,  # (T+1, B, H) cell state chain
    Cc,  # (T, B, H)
    TC,  # (T, B, H)
    WT,  # (P, G*H) W_hh transposed
    hmask,
    keep_h,
    keep_c,
    wci,
    wcf,
    wco,
    gout,  # (T, B, P) gradient reaching each step's new h from the output, or dummy
    dh,  # (B, P) in: gradient of the final h; out: of the initial h
    dc,  # (B, H) in: gradient of the final c; out: of the initial c
    dZ,  # (T, B, G*H) out: gradient of the gate pre-activations
    dpeep,  # (3, H) out: gradients of w_ci, w_cf, w_co (when peep)
    lnp,  # the LN parameters as packed for lstm_forward, or dummy
    LH,  # from lstm_forward when ln, or dummies
    LR,
    dln,  # (2*G*H + 2*H,) out when ln: the LN parameters' gradients, packed as lnp
    reverse,
    coupled,
    has_f,
    peep,
    has_mask,
    has_keep,
    has_gout,
    ln,
):
    T, B, GH = Z.shape
    H = Cs.shape[2]
    P = dh.shape[1]
    # Scratch and parameter-gradient sums per row, so the rows of a step can run in parallel
    # (prange) without sharing a buffer; the rows' sums are added up in row order at the end.
    accs = np.empty_like(dh)  # (B, P) W_hh^T dz of each row
    dh_passes = np.empty_like(dh)  # (B, P) gradient passed straight to h_{t-1} by zoneout
    dc_lns = np.zeros_like(dc)  # (B, H) gradient reaching c_t through LN(c_t), when ln
    dpeep_rows = np.zeros((B, 3, H), dh.dtype)
    dln_rows = np.zeros((B, dln.shape[0]), dh.dtype)
    NG = GH // H
    zero = like(0.0, Z)  # typed constants keep float32 arithmetic in float32 (see like)
    one = like(1.0, Z)
    Z4 = Z.reshape((T, B, NG, H))
    dZ4 = dZ.reshape((T, B, NG, H))
    gg = NG - 2  # gate blocks as in lstm_forward
    go = NG - 1
    gf = gg - 1
    lnw = lnp[:GH]
    lncw = lnp[2 * GH : 2 * GH + H]
    for s in range(T):
        t, tp, _ = step_slots(T - 1 - s, T, reverse)
        for blk in prange(row_blocks(B)):  # row blocks are independent within a step
            b0, b1 = block_span(blk, B)
            for b in range(b0, b1):
                dh_pass = dh_passes[b]
                dc_ln = dc_lns[b]
                dpeepb = dpeep_rows[b]
                dlnw = dln_rows[b, :GH]
                dlnb = dln_rows[b, GH : 2 * GH]
                dlncw = dln_rows[b, 2 * GH : 2 * GH + H]
                dlncb = dln_rows[b, 2 * GH + H :]
                gates = Z4[t, b]  # (gate, unit) views: see lstm_forward
                dgates = dZ4[t, b]
                dz = dZ[t, b]
                c_prev = Cs[tp, b]
                c_cell = Cc[t, b]
                tanh_c = TC[t, b]
                for k in range(P):
                    dhk = dh[b, k]
                    if has_gout:
                        dhk += gout[t, b, k]
                    dh[b, k] = dhk
                    dh_pass[k] = zero
                    if has_keep and keep_h[t, b, k]:
                        dh_pass[k] = dhk
                if ln:
                    # h = o * tanh(y), y = LN(c_t) * lncw + lncb: the gradient of y, the LN affine's
                    # parameter gradients, then back through the normalisation to c_t.
                    ch = LH[t, b, GH:]
                    for j in range(H):
                        dh_cell = dh[b, j]
                        if has_keep and keep_h[t, b, j]:
                            dh_cell = zero
                        tanh_c_j = tanh_c[j]
                        dy = dh_cell * gates[go, j] * (one - tanh_c_j * tanh_c_j)
                        dlncw[j] += dy * ch[j]
                        dlncb[j] += dy
                        dc_ln[j] = dy * lncw[j]
                    layer_norm_backward_row(dc_ln, ch, 0, H, LR[t, b, NG])
                for j in range(H):
                    dhj = dh[b, j]
                    dcj = dc[b, j]
                    dh_cell = dhj
                    dc_cell = dcj
                    if has_keep:
                        if keep_h[t, b, j]:
                            dh_cell = zero
                        if keep_c[t, b, j]:
                            dc_cell = zero
                    # no input gate when coupled; bound anyway so the parallel loop types it alike
                    i = zero if coupled else gates[0, j]
                    f = gates[gf, j] if has_f else one  # no forget gate: f ≡ 1
                    g = gates[gg, j]
                    o = gates[go, j]
                    tanh_c_j = tanh_c[j]
                    dz_o = dh_cell * tanh_c_j * (o - o * o)
                    # Through h = o * tanh(.): the LN'd path was taken above when ln.
                    dc_total = dc_cell + (
                        dc_ln[j] if ln else dh_cell * o * (one - tanh_c_j * tanh_c_j)
                    )
                    if peep:
                        dc_total += dz_o * wco[j]
                    c_prev_j = c_prev[j]
                    dc_prev = dc_total * f
                    # (f - f * f) is σ' of the forget gate: 0 without one (f ≡ 1), never stored.
                    if coupled:
                        dz_f = dc_total * (c_prev_j - g) * (f - f * f)
                        dz_g = dc_total * (one - f) * (one - g * g)
                    else:
                        dz_i = dc_total * g * (i - i * i)
                        dz_f = dc_total * c_prev_j * (f - f * f)
                        dz_g = dc_total * i * (one - g * g)
                        dgates[0, j] = dz_i
                        if peep:
                            dc_prev += dz_i * wci[j]
                            dpeepb[0, j] += dz_i * c_prev_j
                    if has_f:
                        dgates[gf, j] = dz_f
                        if peep:
                            dc_prev += dz_f * wcf[j]
                            dpeepb[1, j] += dz_f * c_prev_j
                    dgates[gg, j] = dz_g
                    dgates[go, j] = dz_o
                    if peep:
                        dpeepb[2, j] += dz_o * c_cell[j]
                    if has_keep and keep_c[t, b, j]:
                        dc_prev += dcj
                    dc[b, j] = dc_prev
                if ln:
                    # dz so far is the gradient after the gate LN; take it back through the affine
                    # and each block's normalisation to the raw pre-activation.
                    zh = LH[t, b]
                    for j in range(GH):
                        dzj = dz[j]
                        dlnw[j] += dzj * zh[j]
                        dlnb[j] += dzj
                        dz[j] = dzj * lnw[j]
                    for gate in range(NG):
                        layer_norm_backward_row(dz, zh, gate * H, H, LR[t, b, gate])
            # dh_{t-1} = W_hh^T dz for the block's rows at once, then masks and the zoneout pass.
            recurrent_grad_rows(WT, dZ, t, accs, dh, dh_passes, hmask, b0, b1, has_mask, has_keep)
    dpeep[:] = zero
    dln[:] = zero
    for b in range(B):
        dpeep += dpeep_rows[b]
        dln += dln_rows[b]


# The LSTM's kernels, rows in parallel: for batches of several rows when torch has more than one
# thread (numba_path chooses); with one thread the serial kernels above run.
lstm_forward_parallel = parallel_twin(lstm_forward)
lstm_backward_parallel = parallel_twin(lstm_backward, nogil=False)
