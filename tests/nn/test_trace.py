"""return_trace: keys, shapes and content of the trace of every gate, c and h.

Run on the reference engine (the spec); other engines' traces are compared with it in their own
tests.
"""

from __future__ import annotations

import pytest
import torch

import lstmkit.nn as lnn

F64 = torch.float64
D, H, T, B, L = 3, 4, 5, 3, 2
LENGTHS = [5, 2, 3]

KINDS = {
    "LSTM": (lambda **kw: lnn.LSTM(D, H, **kw), ("i", "f", "g", "o", "c", "h")),
    "LSTM_proj": (lambda **kw: lnn.LSTM(D, H, proj_size=2, **kw), ("i", "f", "g", "o", "c", "h")),
    "LSTM_variants": (
        lambda **kw: lnn.LSTM(D, H, peephole=True, coupled_gates=True, layer_norm=True, **kw),
        ("i", "f", "g", "o", "c", "h"),
    ),
    "LSTM_no_forget_gate": (
        lambda **kw: lnn.LSTM(D, H, forget_gate=False, peephole=True, **kw),
        ("i", "f", "g", "o", "c", "h"),
    ),
    "GRU": (lambda **kw: lnn.GRU(D, H, **kw), ("r", "z", "n", "h")),
    "RNN": (lambda **kw: lnn.RNN(D, H, **kw), ("h",)),
}


def sizes(kind: str) -> dict[str, int]:
    p = 2 if kind == "LSTM_proj" else H
    return {"h": p, **{k: H for k in ("i", "f", "g", "o", "c", "r", "z", "n")}}


@pytest.mark.parametrize("uneven", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", list(KINDS))
def test_trace_keys_shapes_and_content(kind, bidirectional, batch_first, uneven):
    make, keys = KINDS[kind]
    torch.manual_seed(0)
    layer = make(
        num_layers=L,
        bidirectional=bidirectional,
        batch_first=batch_first,
        dtype=F64,
        return_trace=True,
        impl="reference",
    )
    dirs = 2 if bidirectional else 1
    x = torch.randn((B, T, D) if batch_first else (T, B, D), dtype=F64)
    lengths = torch.tensor(LENGTHS) if uneven else None
    out, state, trace = layer(x, lengths=lengths)
    assert tuple(trace) == keys
    for key, value in trace.items():
        tb = (B, T) if batch_first else (T, B)
        assert value.shape == (L, dirs, *tb, sizes(kind)[key]), key

    # The last layer's h, directions side by side, is the output.
    h = trace["h"][-1]  # (dirs, T, B, P) or (dirs, B, T, P)
    assert torch.equal(torch.cat(list(h), dim=-1), out)

    # Time-major view for the checks below.
    tm = {k: (v.transpose(2, 3) if batch_first else v) for k, v in trace.items()}
    h_n = state[0] if isinstance(state, tuple) else state
    lens = LENGTHS if uneven else [T] * B
    for k in range(L):
        for d in range(dirs):
            for b, n in enumerate(lens):
                # Final state: forward direction at the sequence's last step, reverse at step 0.
                t_last = n - 1 if d == 0 else 0
                assert torch.equal(tm["h"][k, d, t_last, b], h_n[k * dirs + d, b])
                if "c" in tm:
                    assert torch.equal(tm["c"][k, d, t_last, b], state[1][k * dirs + d, b])
                # Zeros past the length, for every key.
                for key in keys:
                    assert torch.all(tm[key][k, d, n:, b] == 0), key
                    assert torch.all(tm["f" if "f" in tm else "h"][k, d, :n, b] != 0)

    if "i" in tm:
        # Gate values are in range; coupled gates have i = 1 - f.
        assert torch.all((tm["f"] >= 0) & (tm["f"] <= 1))
        if kind == "LSTM_variants":
            for b, n in enumerate(lens):
                i, f = tm["i"][:, :, :n, b], tm["f"][:, :, :n, b]
                assert torch.allclose(i, 1 - f, atol=1e-15)
        if kind == "LSTM_no_forget_gate":
            # f ≡ 1 inside each sequence (and zero past its length, like every key).
            for b, n in enumerate(lens):
                assert torch.all(tm["f"][:, :, :n, b] == 1)


@pytest.mark.parametrize("impl", ["auto", "reference"])
def test_trace_override_per_call(impl):
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, dtype=F64, impl=impl)
    x = torch.randn(T, B, D, dtype=F64)
    out, state = layer(x)
    out2, state2, trace = layer(x, return_trace=True)
    assert torch.allclose(out, out2, atol=1e-12)
    assert torch.allclose(trace["h"][0, 0], out, atol=1e-12)
    layer.return_trace = True
    assert len(layer(x)) == 3
    assert len(layer(x, return_trace=False)) == 2


def test_trace_gates_match_the_equations():
    """One step of the layer's trace recomputed from the weights (plain LSTM, first step)."""
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, dtype=F64, return_trace=True, init="torch", impl="reference")
    x = torch.randn(T, B, D, dtype=F64)
    _, _, trace = layer(x)
    z = x[0] @ layer.weight_ih_l0.T + layer.bias_ih_l0 + layer.bias_hh_l0  # h0 = 0
    zi, zf, zg, zo = z.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c = i * g
    expected = {"i": i, "f": f, "g": g, "o": o, "c": c, "h": o * torch.tanh(c)}
    for key, value in expected.items():
        assert torch.allclose(trace[key][0, 0, 0], value, atol=1e-14), key


def test_trace_without_forget_gate_is_the_1997_cell():
    """f is ones, and c accumulates i ⊙ g with nothing forgotten: c_t - c_{t-1} = i_t ⊙ g_t."""
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, forget_gate=False, dtype=F64, return_trace=True, impl="reference")
    x = torch.randn(T, B, D, dtype=F64)
    c0 = torch.randn(1, B, H, dtype=F64)
    _, (_, c_n), trace = layer(x, (torch.zeros(1, B, H, dtype=F64), c0))
    tr = {k: v[0, 0] for k, v in trace.items()}  # (T, B, H)
    assert torch.equal(tr["f"], torch.ones_like(tr["f"]))
    c_prev = torch.cat([c0, tr["c"][:-1]])
    torch.testing.assert_close(tr["c"] - c_prev, tr["i"] * tr["g"], rtol=0, atol=1e-14)
    torch.testing.assert_close(c_n[0], c0[0] + (tr["i"] * tr["g"]).sum(0), rtol=0, atol=1e-13)


def test_unbatched_trace():
    torch.manual_seed(0)
    layer = lnn.GRU(
        D, H, num_layers=2, bidirectional=True, dtype=F64, return_trace=True, impl="reference"
    )
    out, _, trace = layer(torch.randn(T, D, dtype=F64))
    assert trace["h"].shape == (2, 2, T, H)
    assert torch.equal(torch.cat([trace["h"][-1, 0], trace["h"][-1, 1]], dim=-1), out)


def test_packed_trace_follows_batch_first():
    """With a PackedSequence the output is packed, but the trace still honours batch_first."""
    torch.manual_seed(0)
    x = torch.randn(B, T, D, dtype=F64)
    lengths = torch.tensor(LENGTHS)
    layer = lnn.LSTM(D, H, batch_first=True, dtype=F64, impl="reference")
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        x, lengths, batch_first=True, enforce_sorted=False
    )
    _, _, trace_packed = layer(packed, return_trace=True)
    _, _, trace_padded = layer(x, lengths=lengths, return_trace=True)
    assert trace_packed["h"].shape == (1, 1, B, T, H)
    for key, value in trace_padded.items():
        torch.testing.assert_close(trace_packed[key], value, rtol=0, atol=1e-12)
