"""Running a sequence in chunks, passing the final state on, equals running it whole.

Holds for every layer type and cell option, unidirectional layers (stacked ones included). Options
that are random in training (recurrent_dropout, zoneout, dropout) run in eval mode here: in training
each call draws its own masks (recurrent dropout's mask is per call, not per sequence across calls),
so chunked and whole runs are not meant to agree there. Bidirectional layers are not chunkable (the
reverse direction needs the future) and are not tested.

With ``lengths``: chunking is only exact when every sequence covers all earlier chunks in full, so
the padding is in the last chunk only. The whole run then has lengths ``T_before + l`` where ``l``
are the last chunk's lengths; outputs past each length are zeros and the final state is taken at
each sequence's own last step, in both runs.
"""

from __future__ import annotations

import pytest
import torch

import lstmkit.nn as lnn

F64 = torch.float64
D, H, B = 3, 4, 3
CHUNKS = [2, 1, 4]  # T = 7
TOL = 1e-12

CASES = {
    "lstm": ("LSTM", {}),
    "lstm_stacked": ("LSTM", {"num_layers": 2}),
    "lstm_peephole": ("LSTM", {"peephole": True}),
    "lstm_coupled": ("LSTM", {"coupled_gates": True}),
    "lstm_layer_norm": ("LSTM", {"layer_norm": True}),
    "lstm_no_forget_gate": ("LSTM", {"forget_gate": False, "num_layers": 2}),
    "lstm_no_forget_gate_peephole_ln": (
        "LSTM",
        {"forget_gate": False, "peephole": True, "layer_norm": True, "batch_first": True},
    ),
    "lstm_proj": ("LSTM", {"proj_size": 2, "num_layers": 2}),
    "lstm_random_options_eval": (
        "LSTM",
        {"recurrent_dropout": 0.5, "zoneout": 0.5, "dropout": 0.5, "num_layers": 2},
    ),
    "lstm_all": (
        "LSTM",
        {
            "peephole": True,
            "coupled_gates": True,
            "layer_norm": True,
            "proj_size": 3,
            "num_layers": 2,
            "batch_first": True,
        },
    ),
    "gru": ("GRU", {}),
    "gru_stacked": ("GRU", {"num_layers": 2, "batch_first": True}),
    "gru_random_options_eval": ("GRU", {"recurrent_dropout": 0.5, "zoneout": 0.5}),
    "rnn_tanh": ("RNN", {"nonlinearity": "tanh", "num_layers": 2}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    "rnn_random_options_eval": ("RNN", {"recurrent_dropout": 0.5, "zoneout": 0.5}),
}


def make(kind, kw, impl):
    cls = {"LSTM": lnn.LSTM, "GRU": lnn.GRU, "RNN": lnn.RNN}[kind]
    torch.manual_seed(0)
    layer = cls(D, H, dtype=F64, impl=impl, **kw)
    layer.eval()
    return layer


def plain(kw) -> bool:
    variant = any(kw.get(k) for k in ("peephole", "coupled_gates", "layer_norm"))
    return not variant and kw.get("forget_gate", True)


def time_dim(layer) -> int:
    return 1 if layer.batch_first else 0


def chunked(layer, x, lengths_last=None):
    dim = time_dim(layer)
    outs, state = [], None
    pieces = x.split(CHUNKS, dim=dim)
    for k, piece in enumerate(pieces):
        lengths = lengths_last if k == len(pieces) - 1 else None
        out, state = layer(piece, state, lengths=lengths)
        outs.append(out)
    return torch.cat(outs, dim=dim), state


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def engine_cases(names):
    """(case, impl) pairs: every case on the reference engine, plain ones on native too."""
    return [
        (name, impl)
        for name in names
        for impl in ("reference", "native")
        if impl == "reference" or plain(CASES[name][1])
    ]


@pytest.mark.parametrize(("case", "impl"), engine_cases(CASES))
def test_chunked_equals_whole(case, impl):
    kind, kw = CASES[case]
    layer = make(kind, kw, impl)
    t = sum(CHUNKS)
    x = torch.randn((B, t, D) if layer.batch_first else (t, B, D), dtype=F64)
    whole_out, whole_state = layer(x)
    out, state = chunked(layer, x)
    assert (out - whole_out).abs().max() < TOL
    for a, b in zip(as_tuple(state), as_tuple(whole_state), strict=True):
        assert (a - b).abs().max() < TOL


@pytest.mark.parametrize(
    ("case", "impl"),
    engine_cases(["lstm_stacked", "lstm_all", "lstm_no_forget_gate", "gru_stacked", "rnn_tanh"]),
)
def test_chunked_with_lengths_in_last_chunk(case, impl):
    kind, kw = CASES[case]
    layer = make(kind, kw, impl)
    t = sum(CHUNKS)
    x = torch.randn((B, t, D) if layer.batch_first else (t, B, D), dtype=F64)
    last = torch.tensor([4, 1, 3])  # lengths inside the last chunk (of 4 steps)
    whole_lengths = last + (t - CHUNKS[-1])
    whole_out, whole_state = layer(x, lengths=whole_lengths)
    out, state = chunked(layer, x, lengths_last=last)
    assert (out - whole_out).abs().max() < TOL
    for a, b in zip(as_tuple(state), as_tuple(whole_state), strict=True):
        assert (a - b).abs().max() < TOL
    # Outputs past each length are zeros.
    out_tm = out.transpose(0, 1) if layer.batch_first else out
    for b, n in enumerate(whole_lengths.tolist()):
        assert torch.all(out_tm[n:, b] == 0)
        assert torch.all(out_tm[:n, b] != 0)


def test_step_by_step_equals_whole_for_cells():
    """The layer over T steps equals T calls of the stand-alone cell with the same weights."""
    torch.manual_seed(0)
    layer = lnn.LSTM(D, H, dtype=F64, peephole=True, layer_norm=True, proj_size=2, impl="reference")
    cell = lnn.LSTMCell(D, H, dtype=F64, peephole=True, layer_norm=True, proj_size=2)
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in layer.state_dict().items()})
    x = torch.randn(5, B, D, dtype=F64)
    out, (h_n, c_n) = layer(x)
    state = None
    for t in range(5):
        h, state = cell(x[t], state)
        assert (h - out[t]).abs().max() < TOL
    assert (state[0] - h_n[0]).abs().max() < TOL
    assert (state[1] - c_n[0]).abs().max() < TOL
