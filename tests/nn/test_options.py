"""Options of the layers: forget_bias, init schemes, zoneout, recurrent dropout, engine choice."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import lstmkit.nn as lnn
from lstmkit.nn import engine

F64 = torch.float64
D, H, T, B = 3, 4, 6, 5


# --- forget_bias -------------------------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("coupled", [False, True])
def test_forget_bias_lands_in_forget_rows(coupled, bidirectional):
    layer = lnn.LSTM(
        D, H, num_layers=2, bidirectional=bidirectional, coupled_gates=coupled, forget_bias=2.5
    )
    f = 0 if coupled else 1  # coupled gates: blocks f, g, o; else i, f, g, o
    gates = 3 if coupled else 4
    for name, value in layer.named_parameters():
        if name.startswith("bias_ih"):
            expected = torch.zeros(gates * H)
            expected[f * H : (f + 1) * H] = 2.5
            assert torch.equal(value.detach(), expected), name
        elif name.startswith("bias_hh"):
            assert torch.equal(value.detach(), torch.zeros(gates * H)), name


@pytest.mark.parametrize("coupled", [False, True])
def test_forget_bias_with_layer_norm_goes_to_the_shift(coupled):
    layer = lnn.LSTM(D, H, layer_norm=True, coupled_gates=coupled, forget_bias=-1.5)
    f = 0 if coupled else 1
    gates = 3 if coupled else 4
    expected = torch.zeros(gates * H)
    expected[f * H : (f + 1) * H] = -1.5
    assert torch.equal(layer.ln_gates_bias_l0.detach(), expected)
    assert torch.equal(layer.bias_ih_l0.detach(), torch.zeros(gates * H))
    assert torch.equal(layer.ln_gates_weight_l0.detach(), torch.ones(gates * H))


def test_forget_bias_on_top_of_torch_init_and_in_the_cell():
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, init="torch", forget_bias=3.0)
    b = layer.bias_ih_l0.detach()
    bound = 1 / math.sqrt(H)
    assert torch.all(b[H : 2 * H] >= 3.0 - bound) and torch.all(b[H : 2 * H] <= 3.0 + bound)
    others = torch.cat([b[:H], b[2 * H :]])
    assert torch.all(others.abs() <= bound)
    cell = lnn.LSTMCell(D, H, forget_bias=0.75)
    assert torch.equal(cell.bias_ih[H : 2 * H].detach(), torch.full((H,), 0.75))
    assert torch.equal(cell.bias_ih[:H].detach(), torch.zeros(H))
    # forget_bias=0 with torch's init is torch.nn.LSTM's initialisation (same ranges).
    plain = lnn.LSTM(D, H, init="torch", forget_bias=0.0)
    assert all(p.abs().max() <= bound for p in plain.parameters())


def test_forget_bias_without_forget_gate_is_ignored_and_warns_when_set():
    # The default (1.0) says nothing: there is no forget gate, so nothing to warn about.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = lnn.LSTM(D, H, forget_gate=False)
        lnn.LSTMCell(D, H, forget_gate=False)
    # Every bias is the init scheme's zero: no rows were shifted.
    assert torch.equal(layer.bias_ih_l0.detach(), torch.zeros(3 * H))
    for make in (lnn.LSTM, lnn.LSTMCell):
        with pytest.warns(
            UserWarning,
            match=r"forget_bias=2\.5 is ignored with forget_gate=False: there is no forget gate",
        ) as record:
            made = make(D, H, forget_gate=False, layer_norm=True, forget_bias=2.5)
        assert record[0].filename == __file__  # points at the caller, not into lstmkit
        for name, value in made.named_parameters():
            if "bias" in name:
                assert torch.equal(value.detach(), torch.zeros_like(value)), name


# --- forget_gate=False: parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]),
        (
            {"peephole": True, "proj_size": 2},
            ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr", "weight_ci", "weight_co"],
        ),
        (
            {"layer_norm": True, "bias": False},
            ["weight_ih", "weight_hh", "ln_gates_weight", "ln_gates_bias", "ln_cell_weight"]
            + ["ln_cell_bias"],
        ),
    ],
)
def test_no_forget_gate_parameter_names_and_shapes(kw, expected):
    p = kw.get("proj_size") or H
    shapes = {
        "weight_ih": (3 * H, D),
        "weight_hh": (3 * H, p),
        "bias_ih": (3 * H,),
        "bias_hh": (3 * H,),
        "weight_hr": (p, H),
        "weight_ci": (H,),
        "weight_co": (H,),
        "ln_gates_weight": (3 * H,),
        "ln_gates_bias": (3 * H,),
        "ln_cell_weight": (H,),
        "ln_cell_bias": (H,),
    }
    cell = lnn.LSTMCell(D, H, forget_gate=False, **kw)
    assert cell.options.gate_names == ("i", "g", "o") and cell.options.num_gates == 3
    assert not cell.options.is_plain
    assert [(n, tuple(v.shape)) for n, v in cell.named_parameters()] == [
        (n, shapes[n]) for n in expected
    ]
    layer = lnn.LSTM(D, H, num_layers=2, bidirectional=True, forget_gate=False, **kw)
    state = layer.state_dict()
    for suffix in ("_l0", "_l0_reverse", "_l1", "_l1_reverse"):
        for name in expected:
            shape = state[name + suffix].shape
            if name == "weight_ih" and suffix.startswith("_l1"):
                assert shape == (3 * H, 2 * p), name + suffix
            else:
                assert shape == shapes[name], name + suffix
    assert len(state) == 4 * len(expected)


def test_lstm_options_keep_their_positional_order():
    """forget_gate is the last field, so LSTMOptions(peephole, coupled, ln, proj) still works."""
    options = lnn.LSTMOptions(True, False, True, 2)
    assert options.forget_gate and options.gate_names == ("i", "f", "g", "o")
    assert lnn.LSTMOptions(True, False, False, 0, False).gate_names == ("i", "g", "o")
    assert lnn.LSTMOptions().is_plain and not lnn.LSTMOptions(forget_gate=False).is_plain


# --- init schemes ------------------------------------------------------------------------------


def _orthonormal(block: torch.Tensor) -> bool:
    rows, cols = block.shape
    gram = block.T @ block if rows >= cols else block @ block.T
    return torch.allclose(gram, torch.eye(min(rows, cols), dtype=block.dtype), atol=1e-10)


@pytest.mark.parametrize("scheme", ["xavier", "he"])
@pytest.mark.parametrize(
    "kind", ["LSTM", "LSTM_proj", "LSTM_coupled", "LSTM_no_forget_gate", "GRU", "RNN"]
)
def test_recurrent_blocks_orthogonal_and_biases_zero(kind, scheme):
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True, dtype=F64, init=scheme)
    layer, gates = {
        "LSTM": lambda: (lnn.LSTM(D, H, **kw), 4),
        "LSTM_proj": lambda: (lnn.LSTM(D, H, proj_size=2, forget_bias=0.0, **kw), 4),
        "LSTM_coupled": lambda: (lnn.LSTM(D, H, coupled_gates=True, forget_bias=0.0, **kw), 3),
        "LSTM_no_forget_gate": lambda: (lnn.LSTM(D, H, forget_gate=False, **kw), 3),
        "GRU": lambda: (lnn.GRU(D, H, **kw), 3),
        "RNN": lambda: (lnn.RNN(D, H, **kw), 1),
    }[kind]()
    for name, value in layer.named_parameters():
        value = value.detach()
        if name.startswith("weight_hh"):
            blocks = value.chunk(gates, dim=0)
            assert len(blocks) == gates
            assert all(_orthonormal(b) for b in blocks), name
        elif name.startswith("bias_") and kind not in ("LSTM",):
            assert torch.equal(value, torch.zeros_like(value)), name


def test_xavier_input_blocks_in_glorot_range():
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, num_layers=2, proj_size=2, init="xavier", dtype=F64)
    for name, gates in (("weight_ih_l0", 4), ("weight_ih_l1", 4), ("weight_hr_l0", 1)):
        for block in getattr(layer, name).detach().chunk(gates, dim=0):
            fan_out, fan_in = block.shape
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            assert block.abs().max() <= bound, name


def test_he_input_weights_have_fan_in_variance():
    torch.manual_seed(0)
    fan_in, hidden = 400, 300
    layer = lnn.RNN(fan_in, hidden, init="he", dtype=F64)
    w = layer.weight_ih_l0.detach()
    assert abs(w.mean().item()) < 0.01 * math.sqrt(2 / fan_in) * 10
    assert w.std().item() == pytest.approx(math.sqrt(2.0 / fan_in), rel=0.02)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_torch_scheme_in_torch_range(kind):
    torch.manual_seed(0)
    hidden = 16
    kw = dict(num_layers=2, bidirectional=True, init="torch")
    if kind == "LSTM":
        layer = lnn.LSTM(D, hidden, proj_size=3, peephole=True, forget_bias=0.0, **kw)
    else:
        layer = {"GRU": lnn.GRU, "RNN": lnn.RNN}[kind](D, hidden, **kw)
    bound = 1 / math.sqrt(hidden)
    for name, value in layer.named_parameters():
        assert value.abs().max() <= bound, name
        # Actually spread over the range, not all zeros or constant.
        assert value.abs().max() > bound / 4, name


def test_reset_parameters_reinitialises():
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, peephole=True, layer_norm=True, dtype=F64)
    with torch.no_grad():
        for p in layer.parameters():
            p.fill_(7.0)
    layer.reset_parameters()
    assert torch.equal(layer.ln_gates_weight_l0, torch.ones(4 * H, dtype=F64))
    assert layer.weight_ci_l0.abs().max() <= 1 / math.sqrt(H)
    assert _orthonormal(layer.weight_hh_l0.detach()[:H])


# --- zoneout and recurrent dropout -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_zoneout_and_recurrent_dropout_identity_in_eval(kind):
    cls = {"LSTM": lnn.LSTM, "GRU": lnn.GRU, "RNN": lnn.RNN}[kind]
    torch.manual_seed(0)
    noisy = cls(D, H, num_layers=2, zoneout=0.5, recurrent_dropout=0.5, dtype=F64, impl="reference")
    clean = cls(D, H, num_layers=2, dtype=F64, impl="reference")
    clean.load_state_dict(noisy.state_dict())
    x = torch.randn(T, B, D, dtype=F64)
    noisy.eval()
    a, b = noisy(x), clean(x)
    assert torch.equal(a[0], b[0])
    # ...and they do act in training mode.
    noisy.train()
    assert not torch.allclose(noisy(x)[0], b[0])


def test_zoneout_keeps_previous_values():
    """In training, each unit of h and c either takes its new value or keeps the previous one."""
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, zoneout=0.5, dtype=F64, return_trace=True, impl="reference")
    clean = lnn.LSTM(D, H, dtype=F64)
    clean.load_state_dict(layer.state_dict())
    x = torch.randn(T, B, D, dtype=F64)
    _, _, trace = layer(x)
    for key in ("h", "c"):
        seq = trace[key][0, 0]  # (T, B, H)
        prev = torch.cat([torch.zeros_like(seq[:1]), seq[:-1]])
        kept = seq == prev
        frac = kept[1:].double().mean().item()
        assert 0.3 < frac < 0.7, (key, frac)


def test_recurrent_dropout_uses_one_mask_for_every_step():
    """An RNN built so that a dropped unit is visible at each step on its own.

    weight_hh = I, weight_ih = 1, no bias, ReLU, input 1 and h0 = 1: with the recurrent mask m
    (0 or 1/keep), h_t = relu(1 + m * h_{t-1}), so h_t == 1 exactly where the unit was dropped at
    step t and h_t > 1 where it was kept. The dropped set must be the same at every step.
    """
    hidden, batch, steps = 64, 4, 6
    layer = lnn.RNN(
        1,
        hidden,
        nonlinearity="relu",
        bias=False,
        recurrent_dropout=0.5,
        dtype=F64,
        impl="reference",
    )
    with torch.no_grad():
        layer.weight_ih_l0.fill_(1.0)
        layer.weight_hh_l0.copy_(torch.eye(hidden, dtype=F64))
    layer.train()
    torch.manual_seed(3)
    x = torch.ones(steps, batch, 1, dtype=F64)
    out, _ = layer(x, torch.ones(1, batch, hidden, dtype=F64))
    dropped = out == 1.0  # (T, B, H)
    assert torch.all((out == 1.0) | (out > 1.5))
    assert torch.equal(dropped, dropped[:1].expand_as(dropped))  # same mask at every step
    frac = dropped[0].double().mean().item()
    assert 0.3 < frac < 0.7
    assert not torch.equal(dropped[0, 0], dropped[0, 1])  # one mask per sequence
    # Kept units grow as 1 + 2 * h_{t-1} (scaled by 1/keep = 2).
    kept = ~dropped[0]
    expected = torch.tensor([3.0])
    for t in range(steps):
        assert torch.all(out[t][kept] == expected)
        expected = 1 + 2 * expected
    # A new call draws a new mask.
    out2, _ = layer(x, torch.ones(1, batch, hidden, dtype=F64))
    assert not torch.equal(out2 == 1.0, dropped)


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, num_layers=2, dropout=0.5, dtype=F64, impl="reference")
    x = torch.randn(T, B, D, dtype=F64)
    layer.eval()
    a = layer(x)[0]
    assert torch.equal(a, layer(x)[0])
    layer.train()
    assert not torch.allclose(layer(x)[0], a)


def test_dropout_warns_with_one_layer():
    with pytest.warns(UserWarning, match="dropout=0.3 acts between stacked layers only"):
        lnn.GRU(D, H, dropout=0.3)


# --- engine choice -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: lnn.LSTM(D, H),
        lambda: lnn.LSTM(D, H, num_layers=2, bidirectional=True, proj_size=2, dropout=0.2),
        lambda: lnn.RNN(D, H, nonlinearity="relu"),
    ],
)
def test_auto_is_native_for_plain_configs(make):
    layer = make()
    assert engine.resolve("auto", layer).NAME == "native"
    layer.eval()
    assert engine.resolve("auto", layer).NAME == "native"
    # A trace needs an engine that records the gates.
    assert engine.resolve("auto", layer, want_trace=True).NAME != "native"


def test_auto_prefers_fused_for_the_gru_on_cpu():
    # torch's CPU GRU op is slower than the fused engine at every benchmarked shape.
    torch.manual_seed(0)
    for kw in ({"zoneout": 0.2}, {"recurrent_dropout": 0.2}):
        for training in (True, False):
            assert engine.resolve("auto", lnn.GRU(D, H, **kw).train(training)).NAME == "fused"
    layer = lnn.GRU(D, H, bidirectional=True, dtype=F64)
    for training in (True, False):
        layer.train(training)
        assert engine.resolve("auto", layer).NAME == "fused"
        assert engine.resolve("native", layer).NAME == "native"  # still there when asked for
    x = torch.randn(T, B, D, dtype=F64)
    layer.impl = "auto"
    out, h = layer(x)
    layer.impl = "native"
    ref, h_ref = layer(x)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h, h_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [{"peephole": True}, {"coupled_gates": True}, {"layer_norm": True}])
def test_auto_is_not_native_for_variants(kw):
    layer = lnn.LSTM(D, H, **kw)
    assert engine.resolve("auto", layer).NAME in ("fused", "reference")
    layer.eval()
    assert engine.resolve("auto", layer).NAME in ("fused", "reference")


@pytest.mark.parametrize("kw", [{}, {"peephole": True, "layer_norm": True}, {"zoneout": 0.2}])
def test_auto_runs_fused_without_forget_gate(kw):
    """torch has no cell without a forget gate (native refuses it): auto picks fused."""
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, forget_gate=False, dtype=F64, impl="auto", **kw)
    for training in (True, False):
        layer.train(training)
        assert engine.resolve("auto", layer).NAME == "fused"
        assert engine.resolve("auto", layer, want_trace=True).NAME == "fused"
    spec = lnn.LSTM(D, H, forget_gate=False, dtype=F64, impl="reference", **kw)
    spec.load_state_dict(layer.state_dict())
    spec.eval()
    x = torch.randn(T, B, D, dtype=F64)
    torch.testing.assert_close(layer(x)[0], spec(x)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [{"zoneout": 0.2}, {"recurrent_dropout": 0.2}])
@pytest.mark.parametrize("cls", [lnn.LSTM, lnn.RNN])  # the GRU: fused first on CPU (above)
def test_auto_random_options_native_only_in_eval(cls, kw):
    layer = cls(D, H, **kw)
    assert engine.resolve("auto", layer).NAME != "native"
    layer.eval()
    assert engine.resolve("auto", layer).NAME == "native"


def test_resolve_explicit_impls():
    layer = lnn.LSTM(D, H, peephole=True)
    assert engine.resolve("reference", layer).NAME == "reference"
    with pytest.raises(ValueError, match="impl='native' does not support this configuration"):
        engine.resolve("native", layer)
    with pytest.raises(ValueError, match="impl must be one of"):
        engine.resolve("fast", layer)


def test_extra_repr_lists_non_defaults():
    text = repr(lnn.LSTM(D, H, num_layers=2, peephole=True, zoneout=0.1, impl="reference"))
    for part in ("3, 4", "num_layers=2", "peephole=True", "zoneout=0.1", "impl='reference'"):
        assert part in text
    assert "bias" not in text
    assert "forget_gate" not in text
    assert "forget_gate=False" in repr(lnn.LSTM(D, H, forget_gate=False))
    assert repr(lnn.LSTMCell(D, H, peephole=True, forget_gate=False)) == (
        "LSTMCell(3, 4, peephole=True, forget_gate=False)"
    )
