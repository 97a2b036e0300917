"""The fused engine's numba path (small shapes) against the reference engine, in float64.

The shape threshold is lifted so that every call here takes the numba path, and each comparison
asserts that it did (``numba_path.CALLS``). Outputs, final states and every gradient (input,
initial state, each parameter) must agree with the reference to 1e-10, for the LSTM variants it
covers, the GRU and the RNN. The kernels compile once per machine (numba's on-disk cache): about
40 s the first time, a few seconds after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
import torch
from torch.autograd import gradcheck

import lstmkit.nn as lnn
from lstmkit.nn.engine import fused
from lstmkit.nn.engine.base import Direction
from lstmkit.nn.engine.fused import numba_path

pytest.importorskip("numba")

F64 = torch.float64
T, B, D, H = 5, 3, 4, 5
LENGTHS = [3, 5, 1]


@pytest.fixture(autouse=True)
def numba_path_on(monkeypatch):
    monkeypatch.setattr(numba_path, "ENABLED", True)
    monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS", 1 << 40)
    monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS_GRU_RNN", 1 << 40)


def _calls(path: str = "numba", kind: str = "lstm") -> int:
    return numba_path.CALLS[path, kind]


def _kind(layer) -> str:
    return {"LSTM": "lstm", "GRU": "gru"}.get(layer.mode, "rnn")


def _run(layer, impl, x, hx, lengths, dtype):
    layer.impl = impl
    layer.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    hx = None if hx is None else tuple(h.clone().requires_grad_(True) for h in hx)
    arg = hx if hx is None or len(hx) == 2 else hx[0]
    torch.manual_seed(7)  # the same random masks for both engines
    out, state = layer(x, arg, lengths)
    state = state if isinstance(state, tuple) else (state,)
    loss = (out * torch.linspace(-1, 1, out.numel(), dtype=dtype).view_as(out)).sum()
    loss = loss + sum((s * s).sum() for s in state)
    loss.backward()
    grads = [x.grad] + ([h.grad for h in hx] if hx is not None else [])
    grads += [p.grad for p in layer.parameters()]
    return [out.detach(), *(s.detach() for s in state)], grads


def assert_same(layer, *, hx=False, lengths=None, train=False, dtype=F64, tol=1e-10, batch=B):
    """Reference vs fused (numba path) on the same input; returns the numba calls it made."""
    torch.manual_seed(0)
    layer = layer.to(dtype).train(train)
    shape = (batch, T, layer.input_size) if layer.batch_first else (T, batch, layer.input_size)
    x = torch.randn(shape, dtype=dtype)
    h = None
    if hx:
        stack = layer.num_layers * layer.num_directions
        h = tuple(torch.randn(stack, batch, s, dtype=dtype) for s in layer.state_sizes)
    ref_vals, ref_grads = _run(layer, "reference", x, h, lengths, dtype)
    kind = _kind(layer)
    before = _calls("numba", kind)
    nb_vals, nb_grads = _run(layer, "fused", x, h, lengths, dtype)
    taken = _calls("numba", kind) - before
    assert taken == layer.num_layers * layer.num_directions
    for a, b in zip(ref_vals, nb_vals, strict=True):
        torch.testing.assert_close(b, a, rtol=tol, atol=tol)
    for a, b in zip(ref_grads, nb_grads, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            scale = max(1.0, a.abs().max().item())
            torch.testing.assert_close(b, a, rtol=tol, atol=tol * scale)


VARIANTS = [
    {},
    {"peephole": True},
    {"coupled_gates": True},
    {"coupled_gates": True, "peephole": True},
    {"forget_gate": False},
    {"forget_gate": False, "peephole": True},
]
IDS = ["plain", "peephole", "coupled", "coupled-peephole", "no_f", "no_f-peephole"]


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
@pytest.mark.parametrize("bias", [True, False])
def test_variants(variant, bias):
    assert_same(lnn.LSTM(D, H, bias=bias, **variant), hx=True)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
@pytest.mark.parametrize(
    "case",
    ["recurrent_dropout", "zoneout", "lengths", "bidirectional", "stacked", "batch_first"],
)
def test_options(variant, case):
    kw = dict(variant)
    call: dict = {}
    if case == "recurrent_dropout":
        kw["recurrent_dropout"] = 0.4
        call["train"] = True
    elif case == "zoneout":
        kw["zoneout"] = 0.4
        call["train"] = True
    elif case == "lengths":
        call.update(lengths=LENGTHS, hx=True)
    elif case == "bidirectional":
        kw["bidirectional"] = True
        call["hx"] = True
    elif case == "stacked":
        kw.update(num_layers=2, dropout=0.3)
        call["train"] = True
    elif case == "batch_first":
        kw.update(batch_first=True, bidirectional=True)
        call["lengths"] = LENGTHS
    assert_same(lnn.LSTM(D, H, **kw), **call)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_everything_at_once(variant):
    layer = lnn.LSTM(
        D,
        H,
        num_layers=2,
        bidirectional=True,
        dropout=0.2,
        recurrent_dropout=0.3,
        zoneout=0.3,
        **variant,
    )
    assert_same(layer, hx=True, lengths=LENGTHS, train=True)


def _ln_layer(**kw) -> lnn.LSTM:
    """An LSTM with layer norm whose LN scales and shifts are non-trivial (not 1 and 0)."""
    layer = lnn.LSTM(D, H, layer_norm=True, **kw)
    gen = torch.Generator().manual_seed(3)  # also the gate LN of 3 blocks without a forget gate
    with torch.no_grad():
        names = []
        for name, prm in layer.named_parameters():
            if "ln_" in name:
                names.append(name)
                prm.copy_(
                    torch.randn(prm.shape, generator=gen) * 0.7 + (1.0 if "weight" in name else 0.0)
                )
    assert len(names) == 4 * layer.num_layers * layer.num_directions
    return layer


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
@pytest.mark.parametrize("bias", [True, False])
def test_layer_norm(variant, bias):
    assert_same(_ln_layer(bias=bias, **variant), hx=True)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
@pytest.mark.parametrize(
    "case", ["recurrent_dropout", "zoneout", "lengths", "bidirectional", "batch_first"]
)
def test_layer_norm_options(variant, case):
    kw = dict(variant)
    call: dict = {}
    if case == "recurrent_dropout":
        kw["recurrent_dropout"] = 0.4
        call["train"] = True
    elif case == "zoneout":
        kw["zoneout"] = 0.4
        call["train"] = True
    elif case == "lengths":
        call.update(lengths=LENGTHS, hx=True)
    elif case == "bidirectional":
        kw["bidirectional"] = True
        call["hx"] = True
    elif case == "batch_first":
        kw.update(batch_first=True, bidirectional=True)
        call["lengths"] = LENGTHS
    assert_same(_ln_layer(**kw), **call)


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_layer_norm_everything_at_once(variant):
    layer = _ln_layer(
        num_layers=2,
        bidirectional=True,
        dropout=0.2,
        recurrent_dropout=0.3,
        zoneout=0.3,
        **variant,
    )
    assert_same(layer, hx=True, lengths=LENGTHS, train=True)


def test_layer_norm_float32_and_inference():
    layer = _ln_layer(peephole=True, bidirectional=True, zoneout=0.3)
    assert_same(layer, hx=True, lengths=LENGTHS, train=True, dtype=torch.float32, tol=1e-5)
    layer = layer.to(F64).eval()
    x = torch.randn(T, B, D, dtype=F64)
    with torch.no_grad():
        layer.impl = "reference"
        ref = layer(x, lengths=LENGTHS)
        layer.impl = "fused"
        before = _calls()
        out = layer(x, lengths=LENGTHS)
        assert _calls() - before == 2
    for a, b in zip((ref[0], *ref[1]), (out[0], *out[1]), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)


SINGLE = [
    (lnn.GRU, {}),
    (lnn.RNN, {"nonlinearity": "tanh"}),
    (lnn.RNN, {"nonlinearity": "relu"}),
]


@pytest.mark.parametrize("cls,base_kw", SINGLE, ids=["gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize(
    "case",
    ["plain", "no_bias", "recurrent_dropout", "zoneout", "lengths", "bidirectional", "all"],
)
def test_gru_rnn(cls, base_kw, case):
    kw = dict(base_kw)
    call: dict = {"hx": True}
    if case == "no_bias":
        kw["bias"] = False
    elif case == "recurrent_dropout":
        kw["recurrent_dropout"] = 0.4
        call["train"] = True
    elif case == "zoneout":
        kw["zoneout"] = 0.4
        call["train"] = True
    elif case == "lengths":
        call["lengths"] = LENGTHS
    elif case == "bidirectional":
        kw.update(bidirectional=True, batch_first=True)
    elif case == "all":
        kw.update(num_layers=2, bidirectional=True, recurrent_dropout=0.3, zoneout=0.3, dropout=0.2)
        call.update(lengths=LENGTHS, train=True)
    assert_same(cls(D, H, **kw), **call)


@pytest.mark.parametrize("cls,base_kw", SINGLE, ids=["gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("batch", [1, 4, 6, 9])
def test_gru_rnn_batch_sizes(cls, base_kw, batch):
    """Row blocks of four share a pass over W_hh: full blocks, a partial last block, one row."""
    lengths = [T - k % T for k in range(batch)]
    layer = cls(D, H, bidirectional=True, recurrent_dropout=0.3, zoneout=0.3, **base_kw)
    assert_same(layer, hx=True, lengths=lengths, train=True, batch=batch)


@pytest.mark.parametrize("variant", [{}, {"layer_norm": True}], ids=["plain", "layer_norm"])
@pytest.mark.parametrize("batch", [1, 4, 6, 9])
def test_no_forget_gate_batch_sizes(variant, batch):
    """The 1997 cell (f ≡ 1) on the serial kernels: full row blocks of four, a partial last block
    and one row, peepholes, zoneout and recurrent dropout, uneven lengths."""
    lengths = [T - k % T for k in range(batch)]
    layer = lnn.LSTM(
        D,
        H,
        forget_gate=False,
        peephole=True,
        bidirectional=True,
        recurrent_dropout=0.3,
        zoneout=0.3,
        **variant,
    )
    assert_same(layer, hx=True, lengths=lengths, train=True, batch=batch)


@pytest.mark.parametrize("cls,base_kw", SINGLE, ids=["gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("threads", [1, 2])
def test_gru_rnn_inference_matches(cls, base_kw, threads):
    """Without a backward pass (the GRU then keeps W_hh h in a one-step scratch), serial and
    row-parallel kernels."""
    torch.manual_seed(0)
    layer = cls(D, H, num_layers=2, bidirectional=True, **base_kw).to(F64).eval()
    x = torch.randn(T, 6, D, dtype=F64)
    lengths = [5, 2, 4, 1, 5, 3]
    kind = _kind(layer)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            layer.impl = "reference"
            ref = layer(x, lengths=lengths)
            layer.impl = "fused"
            calls = _calls("numba", kind), _calls("parallel", f"{kind}_forward")
            out = layer(x, lengths=lengths)
    finally:
        torch.set_num_threads(before)
    assert _calls("numba", kind) - calls[0] == 4
    assert _calls("parallel", f"{kind}_forward") - calls[1] == (4 if threads > 1 else 0)
    for a, b in zip(ref, out, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)


def test_float32():
    # numba compiles a float32 specialisation; compared with the reference in float32.
    for layer in (
        lnn.LSTM(D, H, peephole=True, bidirectional=True, zoneout=0.3),
        lnn.LSTM(D, H, forget_gate=False, peephole=True, bidirectional=True, zoneout=0.3),
        _ln_layer(forget_gate=False, recurrent_dropout=0.3),
        lnn.GRU(D, H, bidirectional=True, zoneout=0.3, recurrent_dropout=0.3),
        lnn.RNN(D, H, bidirectional=True, zoneout=0.3),
    ):
        assert_same(layer, hx=True, lengths=LENGTHS, train=True, dtype=torch.float32, tol=1e-5)


@pytest.mark.parametrize("steps", [T, T + 1], ids=["T", "T+1"])  # both parities of the state ring
@pytest.mark.parametrize(
    "variant",
    [
        {"peephole": True},
        {"coupled_gates": True, "zoneout": 0.3},
        {"layer_norm": True},
        {"forget_gate": False, "peephole": True},
        {"forget_gate": False, "layer_norm": True, "zoneout": 0.3},
    ],
    ids=["peephole", "coupled-zoneout", "layer_norm", "no_f-peephole", "no_f-layer_norm-zoneout"],
)
@pytest.mark.parametrize("chunk", [None, 1, 2], ids=["whole", "chunks-of-1", "chunks-of-2"])
def test_inference_matches(variant, steps, chunk, monkeypatch):
    # Without grad the kernel keeps only two cell states and one step of c_t and tanh(c_t), and
    # the input projection is made a chunk of steps at a time, the state carried between chunks.
    if chunk is not None:
        gates = 3 if variant.get("forget_gate") is False or "coupled_gates" in variant else 4
        monkeypatch.setattr(numba_path, "INFERENCE_CHUNK_BYTES", chunk * B * gates * H * 8)
    layer = lnn.LSTM(D, H, bidirectional=True, **variant).to(F64).eval()
    x = torch.randn(steps, B, D, dtype=F64)
    lengths = torch.tensor(LENGTHS).clamp(max=steps)
    with torch.no_grad():
        layer.impl = "reference"
        ref = layer(x, lengths=lengths)
        layer.impl = "fused"
        before = _calls()
        out = layer(x, lengths=lengths)
        assert _calls() - before == 2
    for a, b in zip((ref[0], *ref[1]), (out[0], *out[1]), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "steps,span,reverse,expected",
    [
        (5, 2, False, [(0, 2), (2, 4), (4, 5)]),
        (5, 2, True, [(4, 5), (2, 4), (0, 2)]),
        (4, 9, False, [(0, 4)]),
    ],
)
def test_inference_chunks(steps, span, reverse, expected):
    assert numba_path._chunks(steps, span, reverse) == expected
    assert numba_path._inference_chunk(100, 64 * 1024) == 64
    assert numba_path._inference_chunk(3, 1 << 30) == 1


@pytest.mark.parametrize("forget_gate", [True, False], ids=["ifgo", "no_f"])
def test_gradcheck_direction(forget_gate):
    # The numba path's Function on its own: reverse, lengths, zoneout, recurrent dropout.
    torch.manual_seed(3)
    layer = lnn.LSTM(2, 3, peephole=True, forget_gate=forget_gate).to(F64)
    steps, batch = 4, 2
    x = torch.randn(steps, batch, 2, dtype=F64, requires_grad=True)
    state = tuple(torch.randn(batch, 3, dtype=F64, requires_grad=True) for _ in range(2))
    params = tuple(q.detach().clone().requires_grad_(True) for q in layer.parameters())
    fields = [n[: -len("_l0")] for n, _ in layer.named_parameters()]
    zoneout = tuple(torch.rand(steps, batch, 3) < 0.3 for _ in range(2))
    h_mask = (torch.rand(batch, 3, dtype=F64) < 0.7).to(F64) / 0.7
    lengths = torch.tensor([3, 4])

    def fn(x, h0, c0, *params):
        weights = layer.weights_type(**dict(zip(fields, params, strict=True)))
        direction = Direction(
            layer.cell, weights, layer.step_options, lengths, True, h_mask, zoneout, False
        )
        out, final, _ = fused.run_direction(x, (h0, c0), direction)
        return (out, *final)

    before = _calls()
    assert gradcheck(fn, (x, *state, *params), eps=1e-6, atol=1e-7)
    assert _calls() > before


# --- which path is taken -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,trace",
    [
        (lambda: lnn.LSTM(D, H, proj_size=2), False),
        (lambda: lnn.LSTM(D, H, layer_norm=True, proj_size=2), False),
        (lambda: lnn.LSTM(D, H, layer_norm=True), True),
        (lambda: lnn.LSTM(D, H), True),
        (lambda: lnn.GRU(D, H), True),
        (lambda: lnn.RNN(D, H), True),
    ],
    ids=["proj", "ln-proj", "ln-trace", "trace", "gru-trace", "rnn-trace"],
)
def test_uncovered_configurations_use_torch_ops(make, trace):
    layer = make().to(F64)
    layer.impl = "fused"
    kind = _kind(layer)
    before_nb, before_t = _calls("numba", kind), _calls("torch", kind)
    layer(torch.randn(T, B, D, dtype=F64), return_trace=trace)
    assert _calls("numba", kind) == before_nb
    assert _calls("torch", kind) == before_t + 1


def test_threshold_and_switch(monkeypatch):
    layer = lnn.LSTM(D, H, impl="fused").to(F64)
    x = torch.randn(T, B, D, dtype=F64)
    units = B * H
    for limit, enabled, path in [
        (units, True, "numba"),
        (units - 1, True, "torch"),
        (units, False, "torch"),
    ]:
        monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS", limit)
        monkeypatch.setattr(numba_path, "ENABLED", enabled)
        before = _calls(path)
        layer(x)
        assert _calls(path) == before + 1


def test_layer_norm_follows_the_lstm_limit_in_both_modes(monkeypatch):
    # Layer norm has no limit of its own any more: recording a graph or not, B*H against one.
    layer = _ln_layer().to(F64)
    layer.impl = "fused"
    x = torch.randn(T, B, D, dtype=F64)
    units = B * H
    for limit, grad, path in [
        (units, True, "numba"),
        (units, False, "numba"),
        (units - 1, True, "torch"),
        (units - 1, False, "torch"),
    ]:
        monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS", limit)
        before = _calls(path)
        with torch.set_grad_enabled(grad):
            out, _ = layer(x)
        assert out.requires_grad == grad
        assert _calls(path) == before + 1


def test_half_precision_uses_torch_ops():
    layer = lnn.LSTM(D, H, impl="fused").to(torch.bfloat16)
    before = _calls("torch")
    layer(torch.randn(T, B, D, dtype=torch.bfloat16))
    assert _calls("torch") == before + 1


def test_without_numba_falls_back(monkeypatch):
    # As if numba were not installed: the kernels module fails to import, the torch-ops path
    # runs, and the results still match the reference.
    monkeypatch.setattr(numba_path, "_kernels", None)
    monkeypatch.setattr(numba_path, "_load_failed", False)
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.setitem(sys.modules, "lstmkit.nn.engine.fused.kernels", None)
    layer = lnn.LSTM(D, H, peephole=True).to(F64)
    x = torch.randn(T, B, D, dtype=F64)
    layer.impl = "reference"
    ref = layer(x)[0]
    layer.impl = "fused"
    before_nb, before_t = _calls("numba"), _calls("torch")
    out = layer(x)[0]
    assert numba_path._load() is None and numba_path._load_failed
    assert _calls("numba") == before_nb and _calls("torch") == before_t + 1
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-10)


def test_kernel_compile_failure_falls_back(monkeypatch, caplog):
    # numba importable but unable to compile a kernel here: that call and every later one run
    # on torch ops, with a warning; results still match the reference.
    import numba

    kernels = numba_path._load()

    def broken(*args):
        raise numba.core.errors.TypingError("no implementation for this machine")

    monkeypatch.setattr(kernels, "lstm_forward", broken)
    layer = lnn.LSTM(D, H, zoneout=0.3).to(F64).train()
    x = torch.randn(T, B, D, dtype=F64, requires_grad=True)
    torch.manual_seed(1)
    layer.impl = "reference"
    ref = layer(x)[0]
    torch.manual_seed(1)
    layer.impl = "fused"
    before_t = _calls("torch")
    with caplog.at_level("WARNING", logger="lstmkit.nn.engine.fused.numba_path"):
        out = layer(x)[0]
    assert "numba kernels unusable here (TypingError" in caplog.text
    assert not numba_path.ENABLED and _calls("torch") == before_t + 1
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-10)
    (g,) = torch.autograd.grad(out.sum(), x)
    (g_ref,) = torch.autograd.grad(ref.sum(), x)
    torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-10)


def test_other_kernel_errors_propagate(monkeypatch):
    kernels = numba_path._load()

    def broken(*args):
        raise ValueError("a bug, not a compile failure")

    monkeypatch.setattr(kernels, "lstm_forward", broken)
    layer = lnn.LSTM(D, H, impl="fused").to(F64)
    with pytest.raises(ValueError, match="a bug, not a compile failure"):
        layer(torch.randn(T, B, D, dtype=F64))
    assert numba_path.ENABLED


def test_cache_failure_compiles_without_cache(monkeypatch):
    from lstmkit.nn.engine.fused.kernels import helpers

    real = helpers.numba.njit

    class FakeNumba:
        @staticmethod
        def njit(**kw):
            if kw.get("cache"):
                raise RuntimeError("cannot cache function: no locator available")
            return real(**kw)

    monkeypatch.setattr(helpers, "numba", FakeNumba)

    def add_one(a):
        return a + 1.0

    assert helpers.jit(add_one)(1.0) == 2.0


def test_cache_write_and_read_failures_are_not_fatal(monkeypatch):
    import numba.core.caching as caching

    from lstmkit.nn.engine.fused.kernels import helpers

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(caching.IndexDataCacheFile, "save", fail)
    monkeypatch.setattr(caching.IndexDataCacheFile, "load", fail)

    def times_three(a):
        return a * 3.0

    assert helpers.jit(times_three)(2.0) == 6.0


def test_graphs_do_not_share_buffers():
    # Two forwards before one backward, an inference call in between, and a second backward.
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, zoneout=0.2).to(F64).train()
    xs = [torch.randn(T, B, D, dtype=F64, requires_grad=True) for _ in range(2)]
    grads = {}
    for impl in ("reference", "fused"):
        layer.impl = impl
        torch.manual_seed(1)
        outs = [layer(x)[0] for x in xs]
        with torch.no_grad():
            layer(torch.randn(T, B, D, dtype=F64))
        loss = (outs[0] * 2.0).sum() + outs[1].pow(2).sum()
        params = [*xs, *layer.parameters()]
        first = torch.autograd.grad(loss, params, retain_graph=True)
        second = torch.autograd.grad(loss, params)
        for a, b in zip(first, second, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        grads[impl] = first
    for a, b in zip(grads["reference"], grads["fused"], strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)


def test_threads_agree():
    layer = lnn.LSTM(D, H, peephole=True, impl="fused").to(F64)
    xs = [torch.randn(50, B, D, dtype=F64, requires_grad=True) for _ in range(4)]
    expected = [torch.autograd.grad(layer(x)[0].sum(), x)[0] for x in xs]
    got: list = [None] * len(xs)

    def work(k: int) -> None:
        for _ in range(5):
            got[k] = torch.autograd.grad(layer(xs[k])[0].sum(), xs[k])[0]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(xs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for a, b in zip(expected, got, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=0)


def test_double_backward_raises():
    layer = lnn.LSTM(D, H, impl="fused").to(F64)
    x = torch.randn(T, B, D, dtype=F64, requires_grad=True)
    out, _ = layer(x)
    with pytest.raises(RuntimeError, match="does not support double backward"):
        torch.autograd.grad(out.sum(), x, create_graph=True)


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 4e-15), (torch.float32, 4e-7)])
def test_kernel_sigmoid_and_tanh(dtype, rtol):
    # The kernels' own exp-based sigmoid and tanh (vectorisable) against torch's.
    import numba

    from lstmkit.nn.engine.fused.kernels import helpers as k

    @numba.njit
    def apply(a, s, t):
        for i in range(a.size):
            s[i] = k.sigmoid(a[i])
            t[i] = k.tanh(a[i])

    torch.manual_seed(0)
    special = [0.0, -0.0, 1e-30, -1e-30, 0.3465, -0.3466, 20.0, -20.0, 90.0, -90.0, 800.0, -800.0]
    x = torch.cat([torch.randn(5000) * 4, torch.randn(500) * 1e-4, torch.tensor(special)])
    x = x.to(dtype)
    s, t = torch.empty_like(x), torch.empty_like(x)
    apply(x.numpy(), s.numpy(), t.numpy())
    # exp's argument is clamped where its result leaves the normal range: sigmoid(-800) is the
    # smallest normal number instead of 0, a difference below any tolerance.
    tiny = 16 * torch.finfo(dtype).tiny
    torch.testing.assert_close(s, torch.sigmoid(x), rtol=rtol, atol=tiny)
    torch.testing.assert_close(t, torch.tanh(x), rtol=rtol, atol=tiny)
    odd = torch.tensor([float("inf"), -float("inf"), float("nan")], dtype=dtype)
    s, t = torch.empty_like(odd), torch.empty_like(odd)
    apply(odd.numpy(), s.numpy(), t.numpy())
    assert s[0] == 1.0 and 0.0 <= s[1] <= tiny and t[:2].tolist() == [1.0, -1.0]
    assert s[2].isnan() and t[2].isnan()


def test_nan_input_propagates():
    layer = lnn.LSTM(D, H, peephole=True).to(F64)
    x = torch.randn(T, B, D, dtype=F64)
    x[2, 1, 0] = float("nan")
    outs = {}
    for impl in ("reference", "fused"):
        layer.impl = impl
        outs[impl] = layer(x)[0]
    assert torch.equal(outs["fused"].isnan(), outs["reference"].isnan())
    assert outs["fused"].isnan().any()


def test_non_cpu_tensors_use_torch_ops():
    # No GPU here: a meta-device input stands in for any non-CPU tensor.
    from types import SimpleNamespace

    from lstmkit.nn.cells import LSTMOptions

    plan = SimpleNamespace(want_trace=False, options=LSTMOptions())
    w_hh = torch.empty(4 * H, H)
    assert numba_path.choose("lstm", plan, torch.empty(T, B, D), (None, w_hh)) == "numba"
    x_meta = torch.empty(T, B, D, device="meta")
    assert numba_path.choose("lstm", plan, x_meta, (None, w_hh)) == "torch"
    assert numba_path.choose("lstm", plan, torch.empty(T, B, D), (None, w_hh.to("meta"))) == (
        "torch"
    )


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn"])
def test_backward_compile_failure_falls_back_to_torch_ops(monkeypatch, mode):
    """A numba error in a backward kernel disables numba and differentiates the torch-ops path."""
    import numba

    layer = {
        "lstm": lambda: lnn.LSTM(D, H, peephole=True, dtype=F64),
        "gru": lambda: lnn.GRU(D, H, dtype=F64),
        "rnn": lambda: lnn.RNN(D, H, dtype=F64),
    }[mode]()
    x = torch.randn(T, B, D, dtype=F64)
    expected_out, expected = _run(layer, "reference", x, None, torch.tensor(LENGTHS), F64)
    name = {"lstm": "lstm_backward", "gru": "gru_backward", "rnn": "rnn_backward"}[mode]

    def broken(*args, **kwargs):
        raise numba.core.errors.TypingError("no implementation here")

    monkeypatch.setattr(numba_path._load(), name, broken)
    before = _calls("numba", mode)
    out, grads = _run(layer, "fused", x, None, torch.tensor(LENGTHS), F64)
    assert _calls("numba", mode) == before + 1  # the forward ran on numba
    assert numba_path.ENABLED is False  # and numba is off for the rest of the process
    for a, b in zip(out, expected_out, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    for a, b in zip(grads, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


PARALLEL_VARIANTS = [
    {},
    {"peephole": True},
    {"coupled_gates": True},
    {"coupled_gates": True, "peephole": True},
    {"layer_norm": True},
    {"layer_norm": True, "peephole": True},
    {"recurrent_dropout": 0.3},
    {"zoneout": 0.2},
    {"forget_gate": False},
    {"forget_gate": False, "peephole": True, "zoneout": 0.2},
    {"forget_gate": False, "peephole": True, "layer_norm": True, "recurrent_dropout": 0.3},
]


def _options_id(options: dict) -> str:
    return ",".join(k if v is not False else f"no_{k}" for k, v in options.items()) or "plain"


@pytest.mark.parametrize("options", PARALLEL_VARIANTS, ids=_options_id)
def test_parallel_rows_match_reference(two_threads, options):
    """With two torch threads the LSTM kernels run a step's rows in parallel (prange): same
    outputs, states and gradients as the reference, in float64, with uneven lengths."""
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, num_layers=2, bidirectional=True, dtype=F64, **options)
    x = torch.randn(7, 6, D, dtype=F64)
    lengths = torch.tensor([7, 3, 5, 1, 7, 2])
    before = (
        numba_path.CALLS["parallel", "lstm_forward"],
        numba_path.CALLS["parallel", "lstm_backward"],
    )
    hx = (torch.randn(4, 6, H, dtype=F64), torch.randn(4, 6, H, dtype=F64))
    ref_out, ref_grads = _run(layer, "reference", x, hx, lengths, F64)
    out, grads = _run(layer, "fused", x, hx, lengths, F64)
    assert numba_path.CALLS["parallel", "lstm_forward"] == before[0] + 4  # 2 layers x 2 directions
    assert numba_path.CALLS["parallel", "lstm_backward"] == before[1] + 4
    for a, b in zip(ref_out + ref_grads, out + grads, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cls,base_kw", SINGLE, ids=["gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize(
    "options",
    [{}, {"bias": False}, {"recurrent_dropout": 0.3}, {"zoneout": 0.2}],
    ids=["plain", "no_bias", "recurrent_dropout", "zoneout"],
)
@pytest.mark.parametrize("batch", [2, 9])
def test_gru_rnn_parallel_rows_match_reference(two_threads, cls, base_kw, options, batch):
    """With two torch threads the GRU and RNN kernels run a step's row blocks in parallel too:
    same outputs, states and gradients as the reference, in float64, with uneven lengths."""
    torch.manual_seed(0)
    layer = cls(D, H, num_layers=2, bidirectional=True, dtype=F64, **base_kw, **options)
    kind = _kind(layer)
    x = torch.randn(7, batch, D, dtype=F64)
    lengths = torch.tensor([7, 3, 5, 1, 7, 2, 6, 4, 7][:batch])
    names = [("parallel", f"{kind}_forward"), ("parallel", f"{kind}_backward")]
    before = [numba_path.CALLS[n] for n in names]
    hx = (torch.randn(4, batch, H, dtype=F64),)
    layer.train()
    ref_out, ref_grads = _run(layer, "reference", x, hx, lengths, F64)
    out, grads = _run(layer, "fused", x, hx, lengths, F64)
    assert [numba_path.CALLS[n] - b for n, b in zip(names, before, strict=True)] == [4, 4]
    for a, b in zip(ref_out + ref_grads, out + grads, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)


def test_parallel_rows_from_concurrent_python_threads(two_threads):
    """numba's OpenMP layer takes parallel kernels launched from several Python threads."""
    layer = lnn.LSTM(D, H, layer_norm=True, impl="fused").to(F64)
    xs = [torch.randn(30, 6, D, dtype=F64, requires_grad=True) for _ in range(3)]
    expected = [torch.autograd.grad(layer(x)[0].sum(), x)[0] for x in xs]
    got: list = [None] * len(xs)

    def work(k: int) -> None:
        for _ in range(3):
            got[k] = torch.autograd.grad(layer(xs[k])[0].sum(), xs[k])[0]

    workers = [threading.Thread(target=work, args=(k,)) for k in range(len(xs))]
    for th in workers:
        th.start()
    for th in workers:
        th.join()
    for a, b in zip(expected, got, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=0)


def test_one_thread_or_one_row_runs_the_serial_kernels(monkeypatch):
    layer = lnn.LSTM(D, H, peephole=True, impl="fused").to(F64)
    before = numba_path.CALLS["parallel", "lstm_forward"]
    layer(torch.randn(T, 4, D, dtype=F64))  # the suite runs on one torch thread
    torch.set_num_threads(2)
    try:
        layer(torch.randn(T, 1, D, dtype=F64))  # one row: nothing to share
        monkeypatch.setattr(numba_path, "PARALLEL", False)
        layer(torch.randn(T, 4, D, dtype=F64))
    finally:
        torch.set_num_threads(1)
    assert numba_path.CALLS["parallel", "lstm_forward"] == before


def test_several_threads_raise_the_limit(monkeypatch, two_threads):
    layer = lnn.LSTM(D, H, impl="fused").to(F64)
    x = torch.randn(T, B, D, dtype=F64)
    monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS", 0)
    for parallel_limit, path in [(B * H, "numba"), (B * H - 1, "torch")]:
        monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS_PARALLEL", parallel_limit)
        before = _calls(path)
        layer(x)
        assert _calls(path) == before + 1
    # The GRU's and RNN's kernels run rows in parallel too: the parallel limit holds for them.
    monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS_GRU_RNN", 0)
    for layer in (lnn.GRU(D, H, impl="fused"), lnn.RNN(D, H, impl="fused")):
        layer = layer.to(F64)
        kind = _kind(layer)
        for parallel_limit, path in [(B * H, "numba"), (B * H - 1, "torch")]:
            monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS_PARALLEL", parallel_limit)
            before = _calls(path, kind)
            layer(x)
            assert _calls(path, kind) == before + 1


@pytest.mark.parametrize("make", [lnn.GRU, lnn.RNN], ids=["gru", "rnn"])
def test_gru_rnn_limit_on_one_thread(monkeypatch, make):
    """On one thread the GRU and RNN have their own limit; the LSTM's plain one does not apply."""
    layer = make(D, H, impl="fused").to(F64)
    kind = _kind(layer)
    x = torch.randn(T, B, D, dtype=F64)
    monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS", 0)
    monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS_PARALLEL", 1 << 40)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for limit, path in [(B * H, "numba"), (B * H - 1, "torch")]:
            monkeypatch.setattr(numba_path, "NUMBA_MAX_UNITS_GRU_RNN", limit)
            before = _calls(path, kind)
            layer(x)
            assert _calls(path, kind) == before + 1
    finally:
        torch.set_num_threads(threads)


def test_parallel_launches_are_serialised_until_the_layer_is_known_threadsafe(monkeypatch):
    seen = []

    def kernel(*args):
        seen.append(numba_path._LAUNCH_LOCK.locked())
        return "done"

    monkeypatch.setattr(numba_path, "_THREADSAFE_LAYER", None)
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(numba, "threading_layer", lambda: "workqueue")
    launch = numba_path._launch_safely(kernel)
    assert launch() == "done" and launch() == "done"
    assert seen == [True, True] and numba_path._THREADSAFE_LAYER is False
    monkeypatch.setattr(numba, "threading_layer", lambda: "omp")
    launch()
    launch()
    assert seen == [True, True, True, False]  # known threadsafe: no lock any more


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="numba's pool is one thread: nothing to reset"
)
def test_numba_pool_start_keeps_torch_threads():
    # In a fresh process, as the pool starts once per process: starting numba's OpenMP pool
    # sets the thread count torch reads to the pool's size; use_numba_threads puts it back.
    code = (
        "import torch\n"
        "from lstmkit.nn.engine.fused import numba_path as fn\n"
        "torch.set_num_threads(1)\n"
        "assert fn._load() is not None\n"
        "fn.use_numba_threads(1)\n"
        "print(torch.get_num_threads())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["1"]


@pytest.mark.parametrize(
    "cls,gates,kw",
    [(lnn.LSTM, 4, {}), (lnn.GRU, 3, {}), (lnn.RNN, 1, {"nonlinearity": "relu"})],
    ids=["lstm", "gru", "rnn"],
)
def test_no_grad_in_training_mode_runs_in_chunks(cls, gates, kw, monkeypatch):
    # No graph, so no backward to feed, but masks drawn: recurrent dropout and zoneout in chunks
    # of two steps, the state carried from chunk to chunk in both directions.
    monkeypatch.setattr(numba_path, "INFERENCE_CHUNK_BYTES", 2 * B * gates * H * 8)
    layer = cls(D, H, bidirectional=True, recurrent_dropout=0.3, zoneout=0.3, **kw).to(F64)
    x = torch.randn(T, B, D, dtype=F64)
    outs = []
    with torch.no_grad():
        for impl in ("reference", "fused"):
            layer.impl = impl
            torch.manual_seed(7)
            outs.append(layer(x, lengths=LENGTHS))
    flat = [[y, *(s if isinstance(s, tuple) else (s,))] for y, s in outs]
    for a, b in zip(*flat, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)
