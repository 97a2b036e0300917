"""Every cell option exports to ONNX with a dynamic batch and time axis: onnxruntime's outputs match
eager float32 within 1e-5, and a float64 run of the same weights, at two lengths and two batch
sizes that differ from the export example's, with padded sequences (true lengths) too."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import lstmkit
from lstmkit.export import route
from lstmkit.export.writer import write_onnx

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

IN, HID = 3, 5
CASES = {
    "plain": ("LSTM", {}),
    "peephole": ("LSTM", {"peephole": True}),
    "coupled_gates": ("LSTM", {"coupled_gates": True}),
    "layer_norm": ("LSTM", {"layer_norm": True}),
    "projection": ("LSTM", {"proj_size": 2}),
    "no_forget_gate": ("LSTM", {"forget_gate": False}),
    "zoneout": ("LSTM", {"zoneout": 0.3}),
    "recurrent_dropout": ("LSTM", {"recurrent_dropout": 0.3}),
    "bidirectional": ("LSTM", {"bidirectional": True}),
    "stacked": ("LSTM", {"num_layers": 2, "dropout": 0.2}),
    "variants_stacked_bidirectional": (
        "LSTM",
        {
            "num_layers": 2,
            "bidirectional": True,
            "peephole": True,
            "layer_norm": True,
            "proj_size": 2,
            "zoneout": 0.1,
        },
    ),
    "coupled_peephole_bidirectional": (
        "LSTM",
        {"coupled_gates": True, "peephole": True, "bidirectional": True},
    ),
    "fused_no_forget_gate_peephole": (
        "LSTM",
        {"forget_gate": False, "peephole": True, "impl": "fused"},
    ),
    "gru_bidirectional_stacked": ("GRU", {"num_layers": 2, "bidirectional": True}),
    "gru_zoneout": ("GRU", {"zoneout": 0.2, "recurrent_dropout": 0.2}),
    "rnn_tanh": ("RNN", {"bidirectional": True}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
}
EXPECTED_ROUTE = {
    "plain": "onnx-op", "zoneout": "onnx-op", "recurrent_dropout": "onnx-op",
    "bidirectional": "onnx-op", "stacked": "onnx-op", "peephole": "onnx-op",
    "coupled_gates": "onnx-loop", "layer_norm": "onnx-loop", "projection": "onnx-loop",
    "no_forget_gate": "onnx-loop",
}  # fmt: skip


class Net(nn.Module):
    """The layer's output and final state, as one flat tuple; ``lengths`` only when given."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x, *lengths):
        out, state = self.layer(x, lengths=lengths[0] if lengths else None)
        return (out, *(state if isinstance(state, tuple) else (state,)))


@pytest.mark.parametrize("name", sorted(EXPECTED_ROUTE))
def test_route(name):
    kind, options = CASES[name]
    assert route(getattr(lstmkit, kind)(IN, HID, **options)) == EXPECTED_ROUTE[name]


@pytest.mark.parametrize("with_lengths", [False, True], ids=["no-lengths", "padded"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_matches_eager_at_two_lengths_and_batches(name, with_lengths, tmp_path):
    kind, options = CASES[name]
    torch.manual_seed(0)
    layer = getattr(lstmkit, kind)(IN, HID, batch_first=True, **options)
    net = Net(layer).eval()
    n_out = 3 if kind == "LSTM" else 2
    outputs = ["y", "h_n", "c_n"][:n_out]
    axes = {"x": {0: "b", 1: "t"}, "lengths": {0: "b"}, "y": {0: "b", 1: "t"}}
    axes.update({o: {1: "b"} for o in outputs[1:]})
    inputs = ["x", "lengths"] if with_lengths else ["x"]
    example = (torch.randn(2, 5, IN), torch.tensor([5, 3]))[: len(inputs)]
    path = write_onnx(net, example, tmp_path / "m.onnx", input_names=inputs,
                      output_names=outputs, dynamic_axes=axes)  # fmt: skip
    session = ort.InferenceSession(str(path))
    reference = copy.deepcopy(net).double()  # the same weights in float64
    generator = torch.Generator().manual_seed(1)
    for batch in (1, 4):
        for steps in (3, 9):
            x = torch.randn(batch, steps, IN, generator=generator)
            lengths = torch.tensor([steps, 1, steps - 1, 2][:batch])
            feeds = (x, lengths)[: len(inputs)]
            got = session.run(None, {n: t.numpy() for n, t in zip(inputs, feeds, strict=True)})
            with torch.no_grad():
                eager = net(*feeds)
                exact = reference(x.double(), *feeds[1:])
            for name_out, g, e, r in zip(outputs, got, eager, exact, strict=True):
                where = f"{name_out} at batch {batch}, length {steps}"
                assert g.shape == tuple(e.shape), where
                np.testing.assert_allclose(g, e.numpy(), rtol=0, atol=1e-5, err_msg=where)
                np.testing.assert_allclose(g, r.numpy(), rtol=0, atol=1e-5, err_msg=where)
