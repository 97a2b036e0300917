"""The stand-alone cells match torch.nn.LSTMCell / GRUCell / RNNCell in float64 (copied weights)."""

from __future__ import annotations

import pytest
import torch

import lstmkit.nn as lnn

F64 = torch.float64
D, H, B = 3, 5, 4
TOL = 1e-12

PAIRS = {
    "LSTM": (lnn.LSTMCell, torch.nn.LSTMCell, {}),
    "GRU": (lnn.GRUCell, torch.nn.GRUCell, {}),
    "tanh": (lnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "relu": (lnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
}


def _as_tuple(s):
    return s if isinstance(s, tuple) else (s,)


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", list(PAIRS))
def test_cell_matches_torch(kind, bias, batched, with_state):
    ours_cls, theirs_cls, kw = PAIRS[kind]
    torch.manual_seed(0)
    theirs = theirs_cls(D, H, bias=bias, dtype=F64, **kw)
    ours = ours_cls(D, H, bias=bias, dtype=F64, **kw)
    ours.load_state_dict(theirs.state_dict())
    lead = (B,) if batched else ()
    x = torch.randn(*lead, D, dtype=F64, requires_grad=True)
    state = None
    if with_state:
        n = 2 if kind == "LSTM" else 1
        parts = tuple(torch.randn(*lead, H, dtype=F64, requires_grad=True) for _ in range(n))
        state = parts if kind == "LSTM" else parts[0]

    theirs_out = _as_tuple(theirs(x, state))  # (h, c) or (h,)
    h, new_state = ours(x, state)
    ours_out = _as_tuple(new_state)
    assert torch.equal(h, ours_out[0])
    assert len(ours_out) == len(theirs_out)
    for a, b in zip(theirs_out, ours_out, strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max() < TOL

    # Gradients w.r.t. input, state and weights.
    inputs = [x, *(_as_tuple(state) if with_state else ())]
    gs = [torch.randn_like(t) for t in theirs_out]

    def grads(outs, module):
        loss = sum((o * g).sum() for o, g in zip(outs, gs, strict=True))
        return torch.autograd.grad(loss, inputs + list(module.parameters()))

    for a, b in zip(grads(theirs_out, theirs), grads(ours_out, ours), strict=True):
        assert (a - b).abs().max() < TOL


def test_cell_default_state_is_zeros():
    torch.manual_seed(0)
    cell = lnn.LSTMCell(D, H, proj_size=2, dtype=F64)
    x = torch.randn(B, D, dtype=F64)
    h, (h2, c) = cell(x)
    zeros = (torch.zeros(B, 2, dtype=F64), torch.zeros(B, H, dtype=F64))
    h_ref, (_, c_ref) = cell(x, zeros)
    assert h.shape == (B, 2) and c.shape == (B, H)
    assert torch.equal(h, h_ref) and torch.equal(c, c_ref) and torch.equal(h, h2)
