"""Scalar and row helpers of the numba kernels: exp, sigmoid and tanh that vectorise, the
recurrent product and its backward, the loop plumbing every kernel shares (a step's slots in the
state chain, its blocks of rows), and the ``jit`` decorator they all use.

Imported by :mod:`lstmkit.nn.engine.fused.kernels` only (so only when numba is usable).
"""

from __future__ import annotations

import logging
import types as pytypes

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic, overload

log = logging.getLogger(__name__)

# Reassociation and contraction let the compiler vectorise the row updates and use FMA; no
# nnan/ninf, so overflow to inf in exp behaves as in IEEE arithmetic (sigmoid -> 0 or 1).
_FASTMATH = {"reassoc", "contract", "nsz"}


def jit(fn=None, *, nogil: bool = True, parallel: bool | dict = False):  # noqa: ANN001, ANN202
    """``njit`` with an on-disk cache when numba can find a writable cache directory.

    numba raises at decoration time when no cache locator applies (e.g. a read-only install
    without a writable user cache directory); then the kernel is compiled per process instead.
    ``error_model="numpy"``: no ZeroDivisionError check on each division, which would keep the
    element loops from being vectorised (IEEE results instead, as torch gives).
    """
    if fn is None:
        return lambda f: jit(f, nogil=nogil, parallel=parallel)
    kw = dict(nogil=nogil, fastmath=_FASTMATH, error_model="numpy", parallel=parallel)
    try:
        dispatcher = numba.njit(cache=True, **kw)(fn)
    except Exception as err:  # noqa: BLE001 - any cache set-up failure must not break the engine
        log.debug("numba cache unavailable for %s (%s); compiling per process", fn.__name__, err)
        return numba.njit(cache=False, **kw)(fn)
    _guard_cache(dispatcher)
    return dispatcher


def _guard_cache(dispatcher):  # noqa: ANN001, ANN202
    """Make reading or writing the on-disk cache best-effort.

    On POSIX numba lets an OSError from saving a compiled kernel (disk full, a directory made
    read-only after start-up) escape from the call that compiled it, and a damaged cache file
    can fail its loading; either way the kernel itself is fine, so log and carry on.
    """
    cache = getattr(dispatcher, "_cache", None)
    save, load = getattr(cache, "save_overload", None), getattr(cache, "load_overload", None)
    if save is None or load is None:
        return
    name = getattr(dispatcher, "__name__", "kernel")

    def safe_save(sig, data):  # noqa: ANN001, ANN202
        try:
            save(sig, data)
        except Exception as err:  # noqa: BLE001
            log.debug("could not cache numba kernel %s: %s", name, err)

    def safe_load(sig, target_context):  # noqa: ANN001, ANN202
        try:
            return load(sig, target_context)
        except Exception as err:  # noqa: BLE001
            log.debug("could not load cached numba kernel %s (%s); recompiling", name, err)
            return None

    cache.save_overload = safe_save
    cache.load_overload = safe_load


# exp by range reduction and a polynomial, in plain arithmetic so that loops over a gate block
# vectorise (libm's exp and tanh are opaque scalar calls). Accurate to a few ulp in float64
# (measured max relative error 6e-16 against libm over N(0, 3) inputs, inf and NaN included).
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_HALF_LN2 = 0.34657359027997264


@intrinsic
def _bits_to_f64(typingctx, v):  # noqa: ANN001, ANN202
    """Reinterpret an int64's bits as a float64 (builds 2**n from its exponent field)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@jit
def _exp64(x):  # noqa: ANN001, ANN202
    # Clamped where exp(x) would leave the normal range: exp(+-708) is 3e307 / 3e-308, which
    # sigmoid and tanh turn into their limits exactly as inf and 0 would; NaN passes through.
    x = -708.0 if x < -708.0 else (708.0 if x > 708.0 else x)
    t = x * _LOG2E
    ni = np.int32(t + 0.5) if t >= 0.0 else np.int32(t - 0.5)
    n = np.float64(ni)
    r = (x - n * _LN2_HI) - n * _LN2_LO  # |r| <= ln2/2
    p = 1.0 / 6227020800.0
    p = 1.0 / 479001600.0 + r * p
    p = 1.0 / 39916800.0 + r * p
    p = 1.0 / 3628800.0 + r * p
    p = 1.0 / 362880.0 + r * p
    p = 1.0 / 40320.0 + r * p
    p = 1.0 / 5040.0 + r * p
    p = 1.0 / 720.0 + r * p
    p = 1.0 / 120.0 + r * p
    p = 1.0 / 24.0 + r * p
    p = 1.0 / 6.0 + r * p
    p = 0.5 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    return p * _bits_to_f64((np.int64(ni) + 1023) << 52)


@jit
def _expm1_neg64(y):  # noqa: ANN001, ANN202
    """exp(y) - 1 for y <= 0, without cancellation near 0 (series there)."""
    s = 1.0 / 87178291200.0
    s = 1.0 / 6227020800.0 + y * s
    s = 1.0 / 479001600.0 + y * s
    s = 1.0 / 39916800.0 + y * s
    s = 1.0 / 3628800.0 + y * s
    s = 1.0 / 362880.0 + y * s
    s = 1.0 / 40320.0 + y * s
    s = 1.0 / 5040.0 + y * s
    s = 1.0 / 720.0 + y * s
    s = 1.0 / 120.0 + y * s
    s = 1.0 / 24.0 + y * s
    s = 1.0 / 6.0 + y * s
    s = 0.5 + y * s
    s = y + y * (y * s)
    e = _exp64(y) - 1.0
    return s if y > -_HALF_LN2 else e


@jit
def _sigmoid64(z):  # noqa: ANN001, ANN202
    return 1.0 / (1.0 + _exp64(-z))


@jit
def _tanh64(x):  # noqa: ANN001, ANN202
    m = _expm1_neg64(-2.0 * abs(x))
    r = -m / (2.0 + m)
    return r if x >= 0.0 else -r


@intrinsic
def _bits_to_f32(typingctx, v):  # noqa: ANN001, ANN202
    """Reinterpret an int32's bits as a float32."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return sig, codegen


# float32 arrays get float32 arithmetic (8 lanes, shorter polynomials), as torch computes them;
# accurate to ~1 ulp of float32 (measured max relative error of sigmoid 1.4e-7).
_F = np.float32


@jit
def _exp32(x):  # noqa: ANN001, ANN202
    x = _F(-87.0) if x < _F(-87.0) else (_F(87.0) if x > _F(87.0) else x)
    t = x * _F(_LOG2E)
    ni = np.int32(t + _F(0.5)) if t >= _F(0.0) else np.int32(t - _F(0.5))
    n = _F(ni)
    r = (x - n * _F(0.693145751953125)) - n * _F(1.428606765330187045e-06)
    p = _F(1.0 / 5040.0)
    p = _F(1.0 / 720.0) + r * p
    p = _F(1.0 / 120.0) + r * p
    p = _F(1.0 / 24.0) + r * p
    p = _F(1.0 / 6.0) + r * p
    p = _F(0.5) + r * p
    p = _F(1.0) + r * p
    p = _F(1.0) + r * p
    return p * _bits_to_f32((ni + np.int32(127)) << np.int32(23))


@jit
def _expm1_neg32(y):  # noqa: ANN001, ANN202
    s = _F(1.0 / 362880.0)
    s = _F(1.0 / 40320.0) + y * s
    s = _F(1.0 / 5040.0) + y * s
    s = _F(1.0 / 720.0) + y * s
    s = _F(1.0 / 120.0) + y * s
    s = _F(1.0 / 24.0) + y * s
    s = _F(1.0 / 6.0) + y * s
    s = _F(0.5) + y * s
    s = y + y * (y * s)
    e = _exp32(y) - _F(1.0)
    return s if y > _F(-_HALF_LN2) else e


@jit
def _sigmoid32(z):  # noqa: ANN001, ANN202
    return _F(1.0) / (_F(1.0) + _exp32(-z))


@jit
def _tanh32(x):  # noqa: ANN001, ANN202
    m = _expm1_neg32(_F(-2.0) * abs(x))
    r = -m / (_F(2.0) + m)
    return r if x >= _F(0.0) else -r


def sigmoid(z):  # noqa: ANN001, ANN202
    """sigmoid in the precision of ``z`` (resolved at compile time)."""
    raise NotImplementedError("only callable from numba-compiled code")


def tanh(x):  # noqa: ANN001, ANN202
    """tanh in the precision of ``x`` (resolved at compile time)."""
    raise NotImplementedError("only callable from numba-compiled code")


@overload(sigmoid)
def _ov_sigmoid(z):  # noqa: ANN001, ANN202
    if z == types.float32:
        return lambda z: _sigmoid32(z)
    return lambda z: _sigmoid64(z)


@overload(tanh)
def _ov_tanh(x):  # noqa: ANN001, ANN202
    if x == types.float32:
        return lambda x: _tanh32(x)
    return lambda x: _tanh64(x)


# Loops over a span ``lo + j`` of a row index it as unsigned: numba adds a negative-index
# wraparound to each signed index the compiler cannot prove non-negative, which stops
# vectorisation (the pointwise part of the LSTM forward kernel took 10 ms at S2, 1 thread, and
# takes 5 with these loops), and slicing instead costs reference counting on every call (~0.1 µs
# per row at H = 64).
_U = np.uint64


@jit
def sigmoid_range(z, lo, hi):  # noqa: ANN001, ANN202
    for j in range(hi - lo):
        k = _U(lo + j)
        z[k] = sigmoid(z[k])


@jit
def tanh_range(z, lo, hi):  # noqa: ANN001, ANN202
    for j in range(hi - lo):
        k = _U(lo + j)
        z[k] = tanh(z[k])


@jit
def matvec_add(M, v, out):  # noqa: ANN001, ANN202
    """``out[r] += M[r, :] . v``; four rows at a time so that each load of v feeds four FMAs."""
    R, C = M.shape
    r4 = R - R % 4
    for r in range(0, r4, 4):
        m0 = M[r]
        m1 = M[r + 1]
        m2 = M[r + 2]
        m3 = M[r + 3]
        # Accumulators start from out (typed like the arrays: float32 sums stay float32, 8 lanes).
        a0 = out[r]
        a1 = out[r + 1]
        a2 = out[r + 2]
        a3 = out[r + 3]
        for c in range(C):
            vc = v[c]
            a0 += m0[c] * vc
            a1 += m1[c] * vc
            a2 += m2[c] * vc
            a3 += m3[c] * vc
        out[r] = a0
        out[r + 1] = a1
        out[r + 2] = a2
        out[r + 3] = a3
    for r in range(r4, R):
        m = M[r]
        a = out[r]
        for c in range(C):
            a += m[c] * v[c]
        out[r] = a


# Rows of a step that share one pass over W_hh in the kernels: the block matmat_add is built for.
ROWS = 4


@jit
def matmat_add(M, V, out):  # noqa: ANN001, ANN202
    """``out[n, r] += M[r, :] . V[n, :]`` for each row n of V.

    Four rows of V go together, two rows of M at a time: each load of M feeds four FMAs and
    each load of V two, where :func:`matvec_add` row by row re-reads all of M for every row of V.
    """
    R, C = M.shape
    N = V.shape[0]
    if N != 4:
        for n in range(N):
            matvec_add(M, V[n], out[n])
        return
    v0 = V[0]
    v1 = V[1]
    v2 = V[2]
    v3 = V[3]
    r2 = R - R % 2
    for r in range(0, r2, 2):
        m0 = M[r]
        m1 = M[r + 1]
        a00 = out[0, r]
        a01 = out[0, r + 1]
        a10 = out[1, r]
        a11 = out[1, r + 1]
        a20 = out[2, r]
        a21 = out[2, r + 1]
        a30 = out[3, r]
        a31 = out[3, r + 1]
        for c in range(C):
            x0 = m0[c]
            x1 = m1[c]
            a00 += x0 * v0[c]
            a01 += x1 * v0[c]
            a10 += x0 * v1[c]
            a11 += x1 * v1[c]
            a20 += x0 * v2[c]
            a21 += x1 * v2[c]
            a30 += x0 * v3[c]
            a31 += x1 * v3[c]
        out[0, r] = a00
        out[0, r + 1] = a01
        out[1, r] = a10
        out[1, r + 1] = a11
        out[2, r] = a20
        out[2, r + 1] = a21
        out[3, r] = a30
        out[3, r + 1] = a31
    for r in range(r2, R):
        m = M[r]
        for n in range(4):
            a = out[n, r]
            vn = V[n]
            for c in range(C):
                a += m[c] * vn[c]
            out[n, r] = a


def like(v, ref):  # noqa: ANN001, ANN202
    """``v`` converted to the precision of ``ref``, a scalar or an array (resolved at compile
    time). A bare literal such as ``1.0`` is a float64 to numba, and one in a float32 expression
    turns it, and every variable it reaches, into float64: half the vector lanes."""
    raise NotImplementedError("only callable from numba-compiled code")


@overload(like)
def _ov_like(v, ref):  # noqa: ANN001, ANN202
    dtype = ref.dtype if isinstance(ref, types.Array) else ref
    if dtype == types.float32:
        return lambda v, ref: np.float32(v)
    return lambda v, ref: np.float64(v)


@jit
def step_slots(s, T, reverse):  # noqa: ANN001, ANN202
    """Step ``s`` of a direction's forward loop as ``(t, tp, tn)``: the time step, and the slots
    of the state chain it reads (``h_{t-1}``) and writes (``h_t``); step ``s`` of the backward
    loop is the forward's ``T - 1 - s``."""
    t = T - 1 - s if reverse else s
    tp = t + 1 if reverse else t
    tn = t if reverse else t + 1
    return t, tp, tn


@jit
def row_blocks(B):  # noqa: ANN001, ANN202
    """How many blocks of ``ROWS`` rows a step of ``B`` rows has (the kernels' ``prange``)."""
    return (B + ROWS - 1) // ROWS


@jit
def block_span(blk, B):  # noqa: ANN001, ANN202
    """The rows ``[b0, b1)`` of block ``blk``: they share one pass over W_hh."""
    b0 = blk * ROWS
    return b0, min(B, b0 + ROWS)


@jit
def start_chain(S, slot, s0):  # noqa: ANN001, ANN202
    """The initial state ``s0`` (B, n) into ``slot`` of the state chain ``S``."""
    for b in range(s0.shape[0]):
        for k in range(s0.shape[1]):
            S[slot, b, k] = s0[b, k]


@jit
def recurrent_rows(W, Hs, tp, hmask, Hr, t, out, b0, b1, has_mask):  # noqa: ANN001, ANN202
    """``out[b0:b1] += h_rec[b0:b1] . W^T`` by :func:`matmat_add`, where ``h_rec`` is the previous
    state ``Hs[tp]`` or, with recurrent dropout, ``Hs[tp] * hmask``, then kept in ``Hr[t]`` for
    the backward pass."""
    if has_mask:
        for b in range(b0, b1):
            for k in range(Hs.shape[2]):
                Hr[t, b, k] = Hs[tp, b, k] * hmask[b, k]
        matmat_add(W, Hr[t, b0:b1], out[b0:b1])
    else:
        matmat_add(W, Hs[tp, b0:b1], out[b0:b1])


@jit
def recurrent_grad_rows(WT, D, t, accs, dh, dh_pass, hmask, b0, b1, has_mask, has_pass):  # noqa: ANN001, ANN202, PLR0913
    """The backward of :func:`recurrent_rows` for rows ``b0:b1`` of step ``t``:
    ``dh[b] = (D[t, b] W_hh) ⊙ hmask[b] + dh_pass[b]``, where ``D`` holds the gradients of what
    W_hh multiplied, ``WT`` is W_hh transposed and ``accs`` per-row scratch. ``dh_pass`` is what
    went straight to ``h_{t-1}`` (kept units; the GRU's ``z ⊙ h_{t-1}``), read only with
    ``has_pass``."""
    accs[b0:b1] = like(0.0, accs)
    matmat_add(WT, D[t, b0:b1], accs[b0:b1])
    H = dh.shape[1]
    for b in range(b0, b1):
        acc = accs[b]
        dhb = dh[b]
        pb = dh_pass[b]
        # One loop per case: no branch inside the unit loops, which vectorise.
        if has_mask:
            mb = hmask[b]
            if has_pass:
                for k in range(H):
                    dhb[k] = acc[k] * mb[k] + pb[k]
            else:
                for k in range(H):
                    dhb[k] = acc[k] * mb[k]
        elif has_pass:
            for k in range(H):
                dhb[k] = acc[k] + pb[k]
        else:
            for k in range(H):
                dhb[k] = acc[k]


@jit
def split_kept_grad(dhb, dh_pass, gout, keep_h, t, b, has_gout, has_keep):  # noqa: ANN001, ANN202
    """The gradient reaching a row's h_t, in ``dhb``, plus the output's ``gout[t, b]``; where the
    step kept the previous state (zoneout, a sequence's end) it goes whole to h_{t-1}, in
    ``dh_pass``, and the cell gets none. Without keeping, ``dh_pass`` is left as it was."""
    H = dhb.shape[0]
    if has_gout:
        g = gout[t, b]
        for j in range(H):
            dhb[j] += g[j]
    if has_keep:
        zero = like(0.0, dhb)
        kb = keep_h[t, b]
        for j in range(H):
            dhj = dhb[j]
            kept = kb[j]
            dh_pass[j] = dhj if kept else zero
            dhb[j] = zero if kept else dhj


@jit
def layer_norm_row(x, xhat, lo, n, eps, w, b, affine):  # noqa: ANN001, ANN202
    """Over ``x[lo:lo+n]``: ``xhat = (x - mean) / sqrt(var + eps)``; returns 1/std. With
    ``affine``, also ``x = xhat * w + b`` in place (``w``, ``b`` indexed like ``x``).

    Biased variance from the centred values (two passes), as ``F.layer_norm``; sums in the
    arrays' precision so that the loops vectorise at full width.
    """
    inv_n = like(1.0 / n, x[lo])
    s = like(0.0, x[lo])
    for j in range(n):
        s += x[_U(lo + j)]
    mean = s * inv_n
    v = like(0.0, x[lo])
    for j in range(n):
        d = x[_U(lo + j)] - mean
        v += d * d
    rstd = like(1.0 / np.sqrt(v * inv_n + eps), x[lo])
    if affine:
        for j in range(n):
            k = _U(lo + j)
            xh = (x[k] - mean) * rstd
            xhat[k] = xh
            x[k] = xh * w[k] + b[k]
    else:
        for j in range(n):
            k = _U(lo + j)
            xhat[k] = (x[k] - mean) * rstd
    return rstd


@jit
def layer_norm_backward_row(g, xhat, lo, n, rstd):  # noqa: ANN001, ANN202
    """In place over ``g[lo:lo+n]``: the gradient of the normalised values to the raw ones,
    ``rstd * (g - mean(g) - xhat * mean(g * xhat))``."""
    inv_n = like(1.0 / n, g[lo])
    s1 = like(0.0, g[lo])
    s2 = like(0.0, g[lo])
    for j in range(n):
        k = _U(lo + j)
        s1 += g[k]
        s2 += g[k] * xhat[k]
    m1 = s1 * inv_n
    m2 = s2 * inv_n
    for j in range(n):
        k = _U(lo + j)
        g[k] = rstd * (g[k] - m1 - xhat[k] * m2)


# Only the explicit prange loop becomes parallel: numba's other parallel rewrites (of array
# expressions, numpy calls, inner loops) would touch the vectorised row helpers.
_PRANGE_ONLY = {
    "prange": True,
    "comprehension": False,
    "numpy": False,
    "reduction": False,
    "setitem": False,
    "stencil": False,
    "fusion": False,
    "inplace_binop": False,
}


def parallel_twin(kernel, *, nogil: bool = True):  # noqa: ANN001, ANN202
    """The same kernel compiled with ``parallel=True``: its ``prange`` loop over the rows of a
    step then runs on numba's threads. A separate function object (own name), so numba's
    on-disk cache keeps the two compilations apart."""
    fn = kernel.py_func
    twin = pytypes.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__ + "_parallel", fn.__defaults__, fn.__closure__
    )
    twin.__qualname__ = fn.__qualname__ + "_parallel"
    return jit(twin, nogil=nogil, parallel=_PRANGE_ONLY)
