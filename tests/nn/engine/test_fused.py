"""The fused engine against the reference engine, in float64.

Outputs, final states, traces and every gradient (input, initial state, each parameter) must agree
to 1e-10 (relative to the size of the values) over the option grid. Random options run in training
mode: torch is re-seeded before each engine's call, so the layer draws the same masks for both.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.autograd import gradcheck

import lstmkit.nn as lnn
from lstmkit.nn import engine
from lstmkit.nn.engine import base, fused
from lstmkit.nn.engine.base import Direction
from lstmkit.nn.engine.fused import numba_path


@pytest.fixture(autouse=True, params=["numba", "torch-ops"])
def engine_path(request, monkeypatch):
    """Run every test on both of the fused engine's paths.

    Small shapes take the numba kernels by default; switching them off makes the torch-ops path,
    which serves large shapes, projections and traces, meet the same checks.
    """
    monkeypatch.setattr(numba_path, "ENABLED", request.param == "numba")
    return request.param


F64 = torch.float64
T, B, D, H = 5, 3, 4, 5
LENGTHS = [3, 5, 1]


def _run(layer, impl, x, hx, lengths, trace):
    layer.impl = impl
    layer.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    hx = None if hx is None else tuple(h.clone().requires_grad_(True) for h in hx)
    arg = hx if hx is None or len(hx) == 2 else hx[0]
    torch.manual_seed(7)  # the same random masks for both engines
    result = layer(x, arg, lengths, return_trace=trace)
    out, state = result[0], result[1]
    state = state if isinstance(state, tuple) else (state,)
    # A loss that reaches every output with distinct weights.
    loss = (out * torch.linspace(-1, 1, out.numel(), dtype=F64).view_as(out)).sum()
    loss = loss + sum((s * s).sum() for s in state)
    values = [out, *state]
    if trace:
        for key in sorted(result[2]):
            loss = loss + (0.3 * result[2][key]).sin().sum()
            values.append(result[2][key])
    loss.backward()
    grads = [x.grad] + ([h.grad for h in hx] if hx is not None else [])
    grads += [p.grad for p in layer.parameters()]
    return [v.detach() for v in values], grads


def assert_same(layer, *, hx=False, lengths=None, trace=True, train=False, steps=T):
    torch.manual_seed(0)
    layer = layer.to(F64).train(train)
    shape = (B, steps, layer.input_size) if layer.batch_first else (steps, B, layer.input_size)
    x = torch.randn(shape, dtype=F64)
    h = None
    if hx:
        stack = layer.num_layers * layer.num_directions
        h = tuple(torch.randn(stack, B, s, dtype=F64) for s in layer.state_sizes)
    ref_vals, ref_grads = _run(layer, "reference", x, h, lengths, trace)
    fus_vals, fus_grads = _run(layer, "fused", x, h, lengths, trace)
    for a, b in zip(ref_vals, fus_vals, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)
    for a, b in zip(ref_grads, fus_grads, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            scale = max(1.0, a.abs().max().item())
            torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10 * scale)


# The gate sets: i, f, g, o; coupled (f, g, o); no forget gate (i, g, o, the 1997 cell).
GATES = {"ifgo": {}, "coupled": {"coupled_gates": True}, "no_f": {"forget_gate": False}}
LSTM_GRID = list(itertools.product([False, True], GATES, [False, True], [0, 3], [False, True]))


@pytest.mark.parametrize("peephole,gates,layer_norm,proj,bias", LSTM_GRID)
def test_lstm_variant_grid(peephole, gates, layer_norm, proj, bias):
    layer = lnn.LSTM(
        D,
        H,
        bias=bias,
        peephole=peephole,
        layer_norm=layer_norm,
        proj_size=proj,
        **GATES[gates],
    )
    assert_same(layer)


VARIANTS = [
    {},
    {"peephole": True},
    {"coupled_gates": True, "proj_size": 3},
    {"layer_norm": True, "peephole": True},
    {"peephole": True, "coupled_gates": True, "layer_norm": True, "proj_size": 3},
    {"forget_gate": False},
    {"forget_gate": False, "peephole": True, "layer_norm": True, "proj_size": 3},
]


def _variant_id(variant: dict) -> str:
    return "-".join("no_forget_gate" if k == "forget_gate" else k for k in variant) or "plain"


@pytest.mark.parametrize("variant", VARIANTS, ids=_variant_id)
@pytest.mark.parametrize(
    "case",
    ["recurrent_dropout", "zoneout", "lengths", "bidirectional", "stacked", "state", "batch_first"],
)
def test_lstm_options(variant, case):
    kw = dict(variant)
    call: dict = {}
    if case == "recurrent_dropout":
        kw["recurrent_dropout"] = 0.4
        call["train"] = True
    elif case == "zoneout":
        kw["zoneout"] = 0.4
        call["train"] = True
    elif case == "lengths":
        call["lengths"] = LENGTHS
    elif case == "bidirectional":
        kw["bidirectional"] = True
    elif case == "stacked":
        kw.update(num_layers=2, dropout=0.3)
        call["train"] = True
    elif case == "state":
        call["hx"] = True
    elif case == "batch_first":
        kw.update(batch_first=True, bidirectional=True)
        call["hx"] = True
    assert_same(lnn.LSTM(D, H, **kw), **call)


@pytest.mark.parametrize("variant", VARIANTS, ids=_variant_id)
def test_lstm_everything_at_once(variant):
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


SINGLE = [
    (lnn.GRU, {}),
    (lnn.RNN, {"nonlinearity": "tanh"}),
    (lnn.RNN, {"nonlinearity": "relu"}),
]


@pytest.mark.parametrize("cls,base_kw", SINGLE, ids=["gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize(
    "case",
    [
        "plain",
        "no_bias",
        "recurrent_dropout",
        "zoneout",
        "lengths",
        "bidirectional",
        "stacked",
        "all",
    ],
)
def test_gru_rnn(cls, base_kw, case):
    kw = dict(base_kw)
    call: dict = {}
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
        call["hx"] = True
    elif case == "stacked":
        kw["num_layers"] = 2
        call["hx"] = True
    elif case == "all":
        kw.update(num_layers=2, bidirectional=True, recurrent_dropout=0.3, zoneout=0.3)
        call.update(hx=True, lengths=LENGTHS, train=True)
    assert_same(cls(D, H, **kw), **call)


def test_without_trace_and_inference():
    layer = lnn.LSTM(D, H, peephole=True, layer_norm=True, proj_size=2, bidirectional=True)
    assert_same(layer, trace=False)
    layer = layer.to(F64).eval()
    x = torch.randn(T, B, D, dtype=F64)
    with torch.no_grad():
        layer.impl = "reference"
        ref = layer(x, return_trace=True)
        layer.impl = "fused"
        out = layer(x, return_trace=True)
    torch.testing.assert_close(out[0], ref[0], rtol=1e-12, atol=1e-12)
    for key in ref[2]:
        torch.testing.assert_close(out[2][key], ref[2][key], rtol=1e-12, atol=1e-12)


def test_auto_picks_fused_for_variants():
    layer = lnn.LSTM(D, H, peephole=True)
    assert engine.resolve("auto", layer) is fused
    # The 1997 cell: torch has none, so fused, in training and inference, with or without trace.
    layer = lnn.LSTM(D, H, forget_gate=False)
    for training in (True, False):
        layer.train(training)
        assert engine.resolve("auto", layer) is fused
        assert engine.resolve("auto", layer, want_trace=True) is fused
    assert engine.resolve("fused", lnn.GRU(D, H)) is fused
    assert fused.unsupported(lnn.RNN(D, H), True) is None


# --- gradcheck on the engine directly ---------------------------------------------------------


def _direction_fn(layer, reverse, lengths, zoneout, h_mask):
    names = [n for n, _ in layer.named_parameters()]
    fields = [n[: -len("_l0")] for n in names]
    wtype = layer.weights_type
    valid_lengths = None if lengths is None else torch.as_tensor(lengths)

    def fn(x, *rest):
        n_state = len(layer.state_sizes)
        state, params = rest[:n_state], rest[n_state:]
        weights = wtype(**dict(zip(fields, params, strict=True)))
        direction = Direction(
            layer.cell, weights, layer.step_options, valid_lengths, reverse, h_mask, zoneout, True
        )
        out, final, trace = fused.run_direction(x, state, direction)
        return (out, *final, *trace.values())

    return fn


GRADCHECK_CASES = [
    ("lstm-all", lambda: lnn.LSTM(2, 3, peephole=True, layer_norm=True, proj_size=2), True),
    ("lstm-cifg-peep", lambda: lnn.LSTM(2, 3, peephole=True, coupled_gates=True), False),
    ("lstm-cifg-ln", lambda: lnn.LSTM(2, 3, coupled_gates=True, layer_norm=True), True),
    (
        "lstm-nofg-all",
        lambda: lnn.LSTM(2, 3, forget_gate=False, peephole=True, layer_norm=True, proj_size=2),
        False,
    ),
    ("lstm-nofg-peep", lambda: lnn.LSTM(2, 3, forget_gate=False, peephole=True), True),
    ("gru", lambda: lnn.GRU(2, 3), True),
    ("rnn", lambda: lnn.RNN(2, 3), False),
]


@pytest.mark.parametrize("name,make,reverse", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck_fused(name, make, reverse):
    torch.manual_seed(3)
    layer = make().to(F64)
    steps, batch = 4, 2
    p = layer.output_size
    x = torch.randn(steps, batch, layer.input_size, dtype=F64, requires_grad=True)
    state = tuple(torch.randn(batch, s, dtype=F64, requires_grad=True) for s in layer.state_sizes)
    params = tuple(q.detach().clone().requires_grad_(True) for q in layer.parameters())
    sizes = (p, *layer.state_sizes[1:])
    zoneout = tuple(torch.rand(steps, batch, s) < 0.3 for s in sizes)
    h_mask = (torch.rand(batch, p, dtype=F64) < 0.7).to(F64) / 0.7
    fn = _direction_fn(layer, reverse, [3, 4], zoneout, h_mask)
    assert gradcheck(fn, (x, *state, *params), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_no_forget_gate_trace_reports_f_as_ones(lengths):
    """As the reference: f is ones inside each sequence (zeros past its end), a constant that
    needs no gradient; the other traces stay differentiable. Training and inference alike."""
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, forget_gate=False, peephole=True, impl="fused").to(F64)
    x = torch.randn(T, B, D, dtype=F64, requires_grad=True)
    expected = torch.ones(T, B, H, dtype=F64)
    if lengths is not None:
        expected = expected * (torch.arange(T)[:, None] < torch.tensor(lengths))[..., None]
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            _, _, trace = layer(x, lengths=lengths, return_trace=True)
        assert torch.equal(trace["f"][0, 0], expected)
        assert not trace["f"].requires_grad
        assert trace["i"].requires_grad == grad
    layer.impl = "reference"
    ref = layer(x, lengths=lengths, return_trace=True)[2]
    assert list(trace) == list(ref)  # the same keys in the same order


def test_double_backward_raises():
    layer = lnn.LSTM(D, H, peephole=True, impl="fused").to(F64)
    x = torch.randn(T, B, D, dtype=F64, requires_grad=True)
    out, _ = layer(x)
    with pytest.raises(RuntimeError, match="does not support double backward"):
        torch.autograd.grad(out.sum(), x, create_graph=True)


def test_output_may_be_changed_in_place():
    # As with torch.nn.LSTM: the output is not a view of what backward reads.
    layer = lnn.LSTM(D, H, peephole=True, impl="fused").to(F64)
    x = torch.randn(T, B, D, dtype=F64, requires_grad=True)
    out, _ = layer(x)
    (expected,) = torch.autograd.grad(out.sum(), x)
    out, _ = layer(x)
    out.mul_(1.0)
    (got,) = torch.autograd.grad(out.sum(), x)
    torch.testing.assert_close(got, expected)


def test_masks_are_those_of_the_layer():
    # run_stack hands fused the masks the layer drew; an empty Masks means no randomness.
    masks = base.Masks.empty(1, 1)
    assert masks.recurrent == [None] and masks.zoneout == [None]


@pytest.mark.parametrize("cls", [lnn.LSTM, lnn.GRU, lnn.RNN])
def test_workspaces_are_not_shared_between_live_graphs(cls):
    # Buffers are reused across calls of the same shape; two forwards of the same shape before
    # one backward, and a second backward with retain_graph, must not see each other's buffers.
    torch.manual_seed(0)
    layer = cls(D, H).to(F64)
    xs = [torch.randn(T, B, D, dtype=F64, requires_grad=True) for _ in range(2)]
    grads = {}
    for impl in ("reference", "fused"):
        layer.impl = impl
        layer.zero_grad(set_to_none=True)
        outs = [layer(x)[0] for x in xs]
        with torch.no_grad():
            layer(torch.randn(T, B, D, dtype=F64))  # an inference call in between
        loss = (outs[0] * 2.0).sum() + outs[1].pow(2).sum()
        first = torch.autograd.grad(loss, [*xs, *layer.parameters()], retain_graph=True)
        second = torch.autograd.grad(loss, [*xs, *layer.parameters()])
        for a, b in zip(first, second, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        grads[impl] = first
    for a, b in zip(grads["reference"], grads["fused"], strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)


def test_packed_and_unbatched_inputs():
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, peephole=True, bidirectional=True).to(F64)
    x = torch.randn(T, B, D, dtype=F64)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    results = {}
    for impl in ("reference", "fused"):
        layer.impl = impl
        out, (h, c) = layer(packed)
        single, _ = layer(x[:, 0])
        results[impl] = (out.data, h, c, single)
    for a, b in zip(results["reference"], results["fused"], strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)
