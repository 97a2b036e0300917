"""torch.autograd.gradcheck of the reference engine in float64, every option alone and combined.

Gradients are checked with respect to the input, the initial state and every parameter (the
parameters are gradcheck inputs, swapped into the layer with ``torch.func.functional_call``).
Each LSTM variant alone and the one-layer GRU/RNN cases get the full element-by-element gradcheck;
the rest gradcheck's ``fast_mode`` (random projections of the Jacobian), for time.
Random options (recurrent_dropout, zoneout, dropout) run in training mode; the layer draws its masks
from torch's global RNG at each call, so the function handed to gradcheck re-seeds the RNG first
and every evaluation sees the same masks.
"""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck
from torch.func import functional_call

import lstmkit.nn as lnn

F64 = torch.float64
T, B, D, H = 3, 2, 2, 3
SEED = 13  # chosen so that every random option below drops or zones out something


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def check_layer(layer, *, lengths=None, with_state=True, seed=SEED, fast=True, unbatched=False):
    torch.manual_seed(0)
    x_shape = (T, D) if unbatched else ((B, T, D) if layer.batch_first else (T, B, D))
    x = torch.randn(x_shape, dtype=F64, requires_grad=True)
    stack = layer.num_layers * layer.num_directions
    sizes = layer.state_sizes
    state = ()
    if with_state:
        state = tuple(
            torch.randn((stack, s) if unbatched else (stack, B, s), dtype=F64, requires_grad=True)
            for s in sizes
        )
    names = [n for n, _ in layer.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in layer.parameters())
    n_state = len(state)

    def fn(x, *rest):
        st, ps = rest[:n_state], rest[n_state:]
        hx = None
        if with_state:
            hx = st if len(sizes) == 2 else st[0]
        torch.manual_seed(seed)  # the same random masks at every evaluation
        kwargs = {} if lengths is None else {"lengths": lengths}
        out, final = functional_call(layer, dict(zip(names, ps, strict=True)), (x, hx), kwargs)
        return (out, *_as_tuple(final))

    # The forward is deterministic (same masks) before we trust gradcheck's verdict...
    drawn = []
    sample = layer._sample_masks
    layer._sample_masks = lambda *args: drawn.append(sample(*args)) or drawn[-1]
    a, b = fn(x, *state, *params), fn(x, *state, *params)
    del layer._sample_masks
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    # ...and the masks of this seed really drop or zone out some units, and keep others.
    masks = drawn[0]
    for m in [*masks.recurrent, *masks.dropout[:-1]]:
        if m is not None:
            assert (m == 0).any() and (m != 0).any()
    for pair in masks.zoneout:
        for m in pair or ():
            assert m.any() and not m.all()
    assert gradcheck(fn, (x, *state, *params), eps=1e-6, atol=1e-7, fast_mode=fast)


def lstm(**kw):
    return lnn.LSTM(D, H, dtype=F64, impl="reference", **kw)


LSTM_CASES = {
    "plain": {},
    "peephole": {"peephole": True},
    "coupled_gates": {"coupled_gates": True},
    "layer_norm": {"layer_norm": True},
    "no_forget_gate": {"forget_gate": False},
    "proj_size": {"proj_size": 2},
    "recurrent_dropout": {"recurrent_dropout": 0.4},
    "zoneout": {"zoneout": 0.4},
    "bidirectional": {"bidirectional": True},
    "stacked": {"num_layers": 2},
    "stacked_dropout": {"num_layers": 2, "dropout": 0.3},
    "no_bias": {"bias": False},
    "batch_first": {"batch_first": True},
    "peephole_coupled": {"peephole": True, "coupled_gates": True},
    "peephole_layer_norm_proj": {"peephole": True, "layer_norm": True, "proj_size": 2},
    "coupled_layer_norm_proj": {"coupled_gates": True, "layer_norm": True, "proj_size": 1},
    "no_forget_gate_peephole": {"forget_gate": False, "peephole": True},
    "no_forget_gate_layer_norm": {"forget_gate": False, "layer_norm": True},
    "no_forget_gate_peephole_layer_norm_proj": {
        "forget_gate": False,
        "peephole": True,
        "layer_norm": True,
        "proj_size": 2,
    },
    "rdrop_zoneout": {"recurrent_dropout": 0.3, "zoneout": 0.3, "proj_size": 2},
}


FULL_CHECK = {
    "peephole",
    "coupled_gates",
    "layer_norm",
    "no_forget_gate",
    "no_forget_gate_peephole",
    "no_forget_gate_layer_norm",
    "proj_size",
    "recurrent_dropout",
    "zoneout",
}


@pytest.mark.parametrize("case", list(LSTM_CASES))
def test_lstm_option_alone(case):
    layer = lstm(**LSTM_CASES[case])
    layer.train()
    # Full (element by element) gradcheck for each variant alone, fast mode (random projections
    # of the Jacobian) for the rest to keep the suite quick.
    check_layer(layer, fast=case not in FULL_CHECK)


@pytest.mark.parametrize(
    "case", ["plain", "peephole", "coupled_gates", "layer_norm", "no_forget_gate", "zoneout"]
)
def test_lstm_with_uneven_lengths(case):
    layer = lstm(bidirectional=True, **LSTM_CASES[case])
    layer.train()
    check_layer(layer, lengths=torch.tensor([2, 3]))


def test_lstm_without_initial_state():
    check_layer(lstm(peephole=True, num_layers=2), with_state=False)


def test_lstm_unbatched():
    check_layer(lstm(layer_norm=True, bidirectional=True), unbatched=True)


def test_lstm_everything_combined():
    """Every option at once, stacked and bidirectional with lengths (fast-mode gradcheck)."""
    layer = lstm(
        num_layers=2,
        bidirectional=True,
        dropout=0.2,
        proj_size=2,
        peephole=True,
        coupled_gates=True,
        layer_norm=True,
        recurrent_dropout=0.3,
        zoneout=0.3,
        batch_first=True,
    )
    layer.train()
    check_layer(layer, lengths=torch.tensor([3, 1]), fast=True)


def test_lstm_everything_combined_without_forget_gate():
    """As above with forget_gate=False in place of coupled_gates (the two exclude each other)."""
    layer = lstm(
        num_layers=2,
        bidirectional=True,
        dropout=0.2,
        proj_size=2,
        peephole=True,
        forget_gate=False,
        layer_norm=True,
        recurrent_dropout=0.3,
        zoneout=0.3,
    )
    layer.train()
    check_layer(layer, lengths=torch.tensor([3, 1]), fast=True)


def test_lstm_everything_combined_eval():
    """The random options off (eval mode) with every structural variant, stacked, with lengths."""
    layer = lstm(
        num_layers=2,
        bidirectional=True,
        proj_size=2,
        peephole=True,
        layer_norm=True,
        recurrent_dropout=0.3,
        zoneout=0.3,
    )
    layer.eval()
    check_layer(layer, lengths=torch.tensor([1, 3]))


SINGLE_STATE_CASES = {
    "plain": {},
    "no_bias": {"bias": False},
    "recurrent_dropout": {"recurrent_dropout": 0.4},
    "zoneout": {"zoneout": 0.4},
    "bidirectional": {"bidirectional": True},
    "stacked_dropout": {"num_layers": 2, "dropout": 0.3},
    "combined": {
        "num_layers": 2,
        "bidirectional": True,
        "recurrent_dropout": 0.3,
        "zoneout": 0.3,
        "batch_first": True,
    },
}


def gru(**kw):
    return lnn.GRU(D, H, dtype=F64, impl="reference", **kw)


def rnn(nonlinearity, **kw):
    return lnn.RNN(D, H, nonlinearity=nonlinearity, dtype=F64, impl="reference", **kw)


@pytest.mark.parametrize("case", list(SINGLE_STATE_CASES))
@pytest.mark.parametrize("kind", ["GRU", "tanh", "relu"])
def test_gru_rnn_options(kind, case):
    kw = SINGLE_STATE_CASES[case]
    layer = gru(**kw) if kind == "GRU" else rnn(kind, **kw)
    layer.train()
    check_layer(layer, fast=layer.num_layers * layer.num_directions > 1)


@pytest.mark.parametrize("kind", ["GRU", "tanh", "relu"])
def test_gru_rnn_lengths(kind):
    layer = gru(bidirectional=True, zoneout=0.3) if kind == "GRU" else rnn(kind, bidirectional=True)
    layer.train()
    check_layer(layer, lengths=[3, 2])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "tanh"])
def test_stand_alone_cells(kind):
    """The cells' ``forward`` (one step) w.r.t. input, state and weights."""
    torch.manual_seed(0)
    if kind == "LSTM":
        cell = lnn.LSTMCell(D, H, peephole=True, layer_norm=True, proj_size=2, dtype=F64)
        state = (torch.randn(B, 2, dtype=F64), torch.randn(B, H, dtype=F64))
    elif kind == "GRU":
        cell = lnn.GRUCell(D, H, dtype=F64)
        state = (torch.randn(B, H, dtype=F64),)
    else:
        cell = lnn.RNNCell(D, H, nonlinearity=kind, dtype=F64)
        state = (torch.randn(B, H, dtype=F64),)
    state = tuple(s.requires_grad_() for s in state)
    x = torch.randn(B, D, dtype=F64, requires_grad=True)
    names = [n for n, _ in cell.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in cell.parameters())
    n = len(state)

    def fn(x, *rest):
        st, ps = rest[:n], rest[n:]
        hx = st if n == 2 else st[0]
        h, new = functional_call(cell, dict(zip(names, ps, strict=True)), (x, hx))
        return (h, *_as_tuple(new))

    assert gradcheck(fn, (x, *state, *params), eps=1e-6, atol=1e-7)
