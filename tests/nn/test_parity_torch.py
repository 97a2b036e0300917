"""Parity with torch.nn.LSTM / GRU / RNN in float64: outputs, final states and every gradient.

Weights are moved by ``state_dict`` in both directions (torch -> ours and ours -> torch), so the
test also pins the parameter names and shapes. Each case runs ours with ``impl="reference"`` and
``impl="native"``. With ``lengths`` torch's side is a ``PackedSequence`` (enforce_sorted=False),
unpacked to the padded layout.
"""

from __future__ import annotations

import itertools
import zlib

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstmkit.nn as lnn

F64 = torch.float64
TOL = 1e-10
D, H, T, B, PROJ = 3, 4, 5, 3, 2
UNEVEN = [5, 2, 4]  # unsorted on purpose; the longest equals T

# (kind, proj_size): LSTM with and without projection, GRU, RNN tanh and relu
KINDS = [("LSTM", 0), ("LSTM", PROJ), ("GRU", 0), ("tanh", 0), ("relu", 0)]


def make_pair(kind: str, proj: int, impl: str, torch_first: bool = True, **kw):
    """A torch module and ours with the same weights (copied one way or the other)."""
    kw = {"dtype": F64, **kw}
    if kind == "LSTM":
        theirs = torch.nn.LSTM(D, H, proj_size=proj, **kw)
        ours = lnn.LSTM(D, H, proj_size=proj, impl=impl, **kw)
    elif kind == "GRU":
        theirs = torch.nn.GRU(D, H, **kw)
        ours = lnn.GRU(D, H, impl=impl, **kw)
    else:
        theirs = torch.nn.RNN(D, H, nonlinearity=kind, **kw)
        ours = lnn.RNN(D, H, nonlinearity=kind, impl=impl, **kw)
    if torch_first:
        ours.load_state_dict(theirs.state_dict())
    else:
        theirs.load_state_dict(ours.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return theirs, ours


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def max_diff(a, b) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))


def compare(theirs, ours, x, hx, ours_kwargs, run_theirs):
    """Run both, check outputs and states, then gradients of one random projection of all."""
    t_out, t_state = run_theirs(theirs, x, hx)
    o_out, o_state = ours(x, hx, **ours_kwargs)
    t_state, o_state = as_tuple(t_state), as_tuple(o_state)
    assert o_out.shape == t_out.shape
    err_out = max_diff([t_out], [o_out])
    err_state = max_diff(t_state, o_state)
    assert err_out < TOL
    assert err_state < TOL

    inputs = [x, *as_tuple(hx)]
    g_out = torch.randn_like(t_out)
    g_state = [torch.randn_like(s) for s in t_state]

    def grads(out, state, module):
        loss = (out * g_out).sum() + sum((s * g).sum() for s, g in zip(state, g_state, strict=True))
        return torch.autograd.grad(loss, inputs + list(module.parameters()))

    t_grads = grads(t_out, t_state, theirs)
    o_grads = grads(o_out, o_state, ours)
    assert len(t_grads) == len(o_grads)
    err_grad = max_diff(t_grads, o_grads)
    assert err_grad < TOL


def random_inputs(kind, proj, num_layers, bidirectional, batch_first, batch=B):
    dirs = 2 if bidirectional else 1
    x = torch.randn((batch, T, D) if batch_first else (T, batch, D), dtype=F64, requires_grad=True)
    h0 = torch.randn(num_layers * dirs, batch, proj or H, dtype=F64, requires_grad=True)
    if kind == "LSTM":
        c0 = torch.randn(num_layers * dirs, batch, H, dtype=F64, requires_grad=True)
        return x, (h0, c0)
    return x, h0


GRID = list(
    itertools.product(
        KINDS,
        [1, 2],  # num_layers
        [False, True],  # bidirectional
        [False, True],  # batch_first
        [True, False],  # bias
        [False, True],  # uneven lengths
        ["reference", "native"],
    )
)


@pytest.mark.parametrize(
    ("kind_proj", "num_layers", "bidirectional", "batch_first", "bias", "uneven", "impl"),
    GRID,
    ids=[
        f"{k}{p or ''}-L{n}-{'bi' if bd else 'uni'}-{'bf' if bf else 'tf'}-"
        f"{'bias' if b else 'nobias'}-{'len' if u else 'full'}-{impl}"
        for (k, p), n, bd, bf, b, u, impl in GRID
    ],
)
def test_parity_grid(kind_proj, num_layers, bidirectional, batch_first, bias, uneven, impl):
    kind, proj = kind_proj
    seed = zlib.crc32(
        repr((kind, proj, num_layers, bidirectional, batch_first, bias, uneven)).encode()
    )
    torch.manual_seed(seed)
    kw = dict(
        num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias
    )
    # Alternate the direction the weights are copied in.
    theirs, ours = make_pair(kind, proj, impl, torch_first=bool(seed % 2), **kw)
    x, hx = random_inputs(kind, proj, num_layers, bidirectional, batch_first)

    if uneven:
        lengths = torch.tensor(UNEVEN)

        def run_theirs(module, x, hx):
            packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
            out, state = module(packed, hx)
            out, out_lengths = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
            assert out_lengths.tolist() == UNEVEN
            return out, state

        compare(theirs, ours, x, hx, {"lengths": lengths}, run_theirs)
    else:
        compare(theirs, ours, x, hx, {}, lambda m, x, hx: m(x, hx))


@pytest.mark.parametrize("kind_proj", KINDS, ids=[f"{k}{p or ''}" for k, p in KINDS])
@pytest.mark.parametrize("impl", ["reference", "native"])
@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_sequence_in_packed_sequence_out(kind_proj, impl, enforce_sorted, batch_first):
    """Our layer takes a PackedSequence and returns one with torch's exact layout.

    A PackedSequence has no batch_first layout of its own; the flag must not change anything.
    """
    kind, proj = kind_proj
    torch.manual_seed(1)
    theirs, ours = make_pair(
        kind, proj, impl, num_layers=2, bidirectional=True, batch_first=batch_first
    )
    x, hx = random_inputs(kind, proj, 2, True, batch_first=False)
    lengths = sorted(UNEVEN, reverse=True) if enforce_sorted else UNEVEN
    packed = pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    t_out, t_state = theirs(packed, hx)
    o_out, o_state = ours(packed, hx)
    assert isinstance(o_out, torch.nn.utils.rnn.PackedSequence)
    assert torch.equal(o_out.batch_sizes, t_out.batch_sizes)
    for name in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(o_out, name), getattr(t_out, name)
        assert (a is None and b is None) or torch.equal(a, b), name
    assert o_out.data.shape == t_out.data.shape
    assert max_diff([t_out.data], [o_out.data]) < TOL
    assert max_diff(as_tuple(t_state), as_tuple(o_state)) < TOL
    # Gradients flow back through the packed data the same way.
    g = torch.randn_like(t_out.data)
    t_grads = torch.autograd.grad((t_out.data * g).sum(), [x, *as_tuple(hx)], retain_graph=True)
    o_grads = torch.autograd.grad((o_out.data * g).sum(), [x, *as_tuple(hx)])
    assert max_diff(t_grads, o_grads) < TOL


@pytest.mark.parametrize("kind_proj", KINDS, ids=[f"{k}{p or ''}" for k, p in KINDS])
@pytest.mark.parametrize("impl", ["reference", "native"])
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_input(kind_proj, impl, with_state):
    """2-D (T, D) input with 2-D state, as torch accepts it (batch_first does not apply)."""
    kind, proj = kind_proj
    torch.manual_seed(2)
    theirs, ours = make_pair(kind, proj, impl, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(T, D, dtype=F64, requires_grad=True)
    if with_state:
        h0 = torch.randn(4, proj or H, dtype=F64, requires_grad=True)
        hx = (h0, torch.randn(4, H, dtype=F64, requires_grad=True)) if kind == "LSTM" else h0
    else:
        hx = None
    t_out, t_state = theirs(x, hx)
    o_out, o_state = ours(x, hx)
    assert o_out.shape == t_out.shape == (T, 2 * (proj or H))
    for a, b in zip(as_tuple(t_state), as_tuple(o_state), strict=True):
        assert a.shape == b.shape
    assert max_diff([t_out], [o_out]) < TOL
    assert max_diff(as_tuple(t_state), as_tuple(o_state)) < TOL
    inputs = [x] + (list(as_tuple(hx)) if with_state else [])
    g = torch.randn_like(t_out)
    t_grads = torch.autograd.grad((t_out * g).sum(), inputs + list(theirs.parameters()))
    o_grads = torch.autograd.grad((o_out * g).sum(), inputs + list(ours.parameters()))
    assert max_diff(t_grads, o_grads) < TOL


@pytest.mark.parametrize("impl", ["reference", "native"])
def test_default_zero_state_matches_torch(impl):
    torch.manual_seed(3)
    theirs, ours = make_pair("LSTM", 0, impl, num_layers=2)
    x = torch.randn(T, B, D, dtype=F64)
    (t_out, t_state), (o_out, o_state) = theirs(x), ours(x)
    assert max_diff([t_out, *t_state], [o_out, *o_state]) < TOL
