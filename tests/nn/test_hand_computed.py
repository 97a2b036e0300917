"""A 1-unit LSTM cell against numbers worked out by hand from the equations.

The expected values are computed here with plain Python floats and math.exp / math.tanh, one gate
at a time, following the equations in LSTMCell's docstring; the library is only called to produce
the values under test.
"""

from __future__ import annotations

import math

import pytest
import torch

import lstmkit.nn as lnn

F64 = torch.float64


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def one_unit_cell(w_ih, w_hh, **options) -> lnn.LSTMCell:
    """A 1-unit cell with the given per-gate weights (in the cell's gate order), zero biases."""
    cell = lnn.LSTMCell(1, 1, dtype=F64, **options)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(w_ih, dtype=F64).reshape(-1, 1))
        cell.weight_hh.copy_(torch.tensor(w_hh, dtype=F64).reshape(-1, 1))
        cell.bias_ih.zero_()  # the cell adds forget_bias here at init; zero it
        cell.bias_hh.zero_()
    return cell


def test_three_steps_all_weights_half():
    """Weights 0.5, biases 0, h0 = c0 = 0, inputs 1, 0.5, -1."""
    cell = one_unit_cell([0.5] * 4, [0.5] * 4)

    # Step 1: x = 1, h = 0, c = 0. Every gate sees 0.5*1 + 0.5*0 = 0.5.
    z1 = 0.5 * 1.0 + 0.5 * 0.0  # 0.5
    i1 = f1 = o1 = sigmoid(z1)  # 1/(1+e^-0.5) = 0.622459...
    g1 = math.tanh(z1)  # 0.462117...
    c1 = f1 * 0.0 + i1 * g1  # 0.287649...
    h1 = o1 * math.tanh(c1)  # 0.174269...
    # Step 2: x = 0.5. Pre-activation 0.5*0.5 + 0.5*h1.
    z2 = 0.5 * 0.5 + 0.5 * h1
    i2 = f2 = o2 = sigmoid(z2)
    g2 = math.tanh(z2)
    c2 = f2 * c1 + i2 * g2
    h2 = o2 * math.tanh(c2)
    # Step 3: x = -1. Pre-activation 0.5*(-1) + 0.5*h2.
    z3 = 0.5 * -1.0 + 0.5 * h2
    i3 = f3 = o3 = sigmoid(z3)
    g3 = math.tanh(z3)
    c3 = f3 * c2 + i3 * g3
    h3 = o3 * math.tanh(c3)

    # A few of the intermediate numbers, written out, so a reader can follow along.
    assert i1 == pytest.approx(0.6224593312, abs=1e-10)
    assert g1 == pytest.approx(0.4621171573, abs=1e-10)
    assert c1 == pytest.approx(0.2876491366, abs=1e-10)
    assert h1 == pytest.approx(0.1742697187, abs=1e-10)

    state = None
    got = []
    for x in (1.0, 0.5, -1.0):
        h, state = cell(torch.tensor([[x]], dtype=F64), state)
        got.append((h.item(), state[1].item()))
    expected = [(h1, c1), (h2, c2), (h3, c3)]
    for (h_got, c_got), (h_exp, c_exp) in zip(got, expected, strict=True):
        assert h_got == pytest.approx(h_exp, abs=1e-12)
        assert c_got == pytest.approx(c_exp, abs=1e-12)

    # The layer (reference and native engines) runs the same numbers over the sequence.
    for impl in ("reference", "native"):
        layer = lnn.LSTM(1, 1, dtype=F64, impl=impl)
        layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()}, strict=True)
        out, (h_n, c_n) = layer(torch.tensor([[[1.0]], [[0.5]], [[-1.0]]], dtype=F64))
        assert out.flatten().tolist() == pytest.approx([h1, h2, h3], abs=1e-12)
        assert h_n.item() == pytest.approx(h3, abs=1e-12)
        assert c_n.item() == pytest.approx(c3, abs=1e-12)


def test_one_peephole_step():
    """Distinct weights per gate (order i, f, g, o) and per peephole, from a non-zero state."""
    cell = one_unit_cell([0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], peephole=True)
    with torch.no_grad():
        cell.weight_ci.fill_(0.25)
        cell.weight_cf.fill_(-0.5)
        cell.weight_co.fill_(0.75)
    x, h0, c0 = 2.0, 0.3, -0.6

    # Input and forget gates look at the previous cell state c0.
    i = sigmoid(0.1 * x + 0.5 * h0 + 0.25 * c0)  # sigmoid(0.2 + 0.15 - 0.15) = sigmoid(0.2)
    f = sigmoid(0.2 * x + 0.6 * h0 - 0.5 * c0)  # sigmoid(0.4 + 0.18 + 0.3) = sigmoid(0.88)
    g = math.tanh(0.3 * x + 0.7 * h0)  # tanh(0.6 + 0.21) = tanh(0.81), no peephole
    c = f * c0 + i * g
    # The output gate looks at the new cell state c.
    o = sigmoid(0.4 * x + 0.8 * h0 + 0.75 * c)
    h = o * math.tanh(c)
    assert i == pytest.approx(sigmoid(0.2), abs=1e-15)
    assert f == pytest.approx(sigmoid(0.88), abs=1e-15)

    state = (torch.tensor([[h0]], dtype=F64), torch.tensor([[c0]], dtype=F64))
    h_got, (_, c_got) = cell(torch.tensor([[x]], dtype=F64), state)
    assert c_got.item() == pytest.approx(c, abs=1e-12)
    assert h_got.item() == pytest.approx(h, abs=1e-12)
    # The gates themselves, through the static step.
    _, gates = lnn.LSTMCell.step(
        torch.tensor([[x]], dtype=F64), state, cell.weights(), cell.options
    )
    for name, value in {"i": i, "f": f, "g": g, "o": o}.items():
        assert gates[name].item() == pytest.approx(value, abs=1e-12), name


def test_one_coupled_gate_step():
    """Coupled input-forget gate: three gate rows f, g, o and i = 1 - f."""
    cell = one_unit_cell([0.2, 0.3, 0.4], [0.6, 0.7, 0.8], coupled_gates=True)
    assert cell.weight_ih.shape == (3, 1)
    x, h0, c0 = 2.0, 0.3, -0.6

    f = sigmoid(0.2 * x + 0.6 * h0)  # sigmoid(0.58)
    i = 1.0 - f  # no input gate of its own
    g = math.tanh(0.3 * x + 0.7 * h0)  # tanh(0.81)
    o = sigmoid(0.4 * x + 0.8 * h0)  # sigmoid(1.04)
    c = f * c0 + i * g
    h = o * math.tanh(c)

    state = (torch.tensor([[h0]], dtype=F64), torch.tensor([[c0]], dtype=F64))
    h_got, (_, c_got) = cell(torch.tensor([[x]], dtype=F64), state)
    assert c_got.item() == pytest.approx(c, abs=1e-12)
    assert h_got.item() == pytest.approx(h, abs=1e-12)
    _, gates = lnn.LSTMCell.step(
        torch.tensor([[x]], dtype=F64), state, cell.weights(), cell.options
    )
    for name, value in {"i": i, "f": f, "g": g, "o": o}.items():
        assert gates[name].item() == pytest.approx(value, abs=1e-12), name


def test_one_step_without_forget_gate():
    """No forget gate (the 1997 cell): three gate rows i, g, o and c_t = c_prev + i * g exactly."""
    cell = one_unit_cell([0.2, 0.3, 0.4], [0.6, 0.7, 0.8], forget_gate=False)
    assert cell.weight_ih.shape == (3, 1) and cell.weight_hh.shape == (3, 1)
    x, h0, c0 = 2.0, 0.3, -0.6

    i = sigmoid(0.2 * x + 0.6 * h0)  # sigmoid(0.58)
    g = math.tanh(0.3 * x + 0.7 * h0)  # tanh(0.81)
    o = sigmoid(0.4 * x + 0.8 * h0)  # sigmoid(1.04)
    c = c0 + i * g  # nothing of c0 is forgotten
    h = o * math.tanh(c)
    assert i == pytest.approx(0.6410674063, abs=1e-10)
    assert g == pytest.approx(0.6695902596, abs=1e-10)
    assert c == pytest.approx(-0.1707475090, abs=1e-10)

    x_t = torch.tensor([[x]], dtype=F64)
    state = (torch.tensor([[h0]], dtype=F64), torch.tensor([[c0]], dtype=F64))
    h_got, (_, c_got) = cell(x_t, state)
    (_, c_step), gates = lnn.LSTMCell.step(x_t, state, cell.weights(), cell.options)
    # Exactly c_prev + i * g, in the library's own float64 gate values: no f * c_prev term.
    assert c_step.item() == c0 + gates["i"].item() * gates["g"].item()
    assert c_got.item() == pytest.approx(c, abs=1e-12)
    assert h_got.item() == pytest.approx(h, abs=1e-12)
    for name, value in {"i": i, "f": 1.0, "g": g, "o": o}.items():
        assert gates[name].item() == pytest.approx(value, abs=1e-12), name

    # The layer on the reference engine: the same numbers, the same state_dict names.
    layer = lnn.LSTM(1, 1, dtype=F64, forget_gate=False, impl="reference")
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()}, strict=True)
    out, (h_n, c_n) = layer(x_t[None], tuple(s[None] for s in state))
    assert out.item() == pytest.approx(h, abs=1e-12) and c_n.item() == pytest.approx(c, abs=1e-12)


def test_one_peephole_step_without_forget_gate():
    """Peepholes without a forget gate: w_ci into i and w_co into o, and no w_cf."""
    cell = one_unit_cell([0.1, 0.3, 0.4], [0.5, 0.7, 0.8], forget_gate=False, peephole=True)
    assert [n for n, _ in cell.named_parameters()] == [
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
        "weight_ci",
        "weight_co",
    ]
    with torch.no_grad():
        cell.weight_ci.fill_(0.25)
        cell.weight_co.fill_(0.75)
    x, h0, c0 = 2.0, 0.3, -0.6

    i = sigmoid(0.1 * x + 0.5 * h0 + 0.25 * c0)  # sigmoid(0.2)
    g = math.tanh(0.3 * x + 0.7 * h0)  # tanh(0.81)
    c = c0 + i * g
    o = sigmoid(0.4 * x + 0.8 * h0 + 0.75 * c)
    h = o * math.tanh(c)

    state = (torch.tensor([[h0]], dtype=F64), torch.tensor([[c0]], dtype=F64))
    h_got, (_, c_got) = cell(torch.tensor([[x]], dtype=F64), state)
    assert c_got.item() == pytest.approx(c, abs=1e-12)
    assert h_got.item() == pytest.approx(h, abs=1e-12)
