"""Gate heatmaps: the trace of one sequence, drawn from the layer's own return_trace."""

from __future__ import annotations

import pytest
import torch

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.viz.gates import gate_trace, plot_gates

PNG = b"\x89PNG\r\n\x1a\n"


def test_trace_of_one_sequence_matches_the_layer_and_the_cell_equations():
    torch.manual_seed(0)
    layer = LSTM(3, 4, num_layers=2, batch_first=True).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    trace = gate_trace(layer, x, layer_index=1, sample=1)
    _, _, full = layer(x, return_trace=True)
    assert set(trace) == {"i", "f", "g", "o", "c", "h"}
    for key, value in trace.items():
        assert value.shape == (6, 4)
        torch.testing.assert_close(value, full[key][1, 0, 1])
    # c_t = f c_{t-1} + i g and h_t = o tanh(c_t) hold for the drawn quantities
    c_prev = torch.cat([torch.zeros(1, 4, dtype=torch.float64), trace["c"][:-1]])
    torch.testing.assert_close(trace["c"], trace["f"] * c_prev + trace["i"] * trace["g"])
    torch.testing.assert_close(trace["h"], trace["o"] * torch.tanh(trace["c"]))


def test_one_unbatched_sequence_time_major_layer():
    layer = GRU(2, 3)
    trace = gate_trace(layer, torch.randn(5, 2))
    assert set(trace) == {"r", "z", "n", "h"} and trace["h"].shape == (5, 3)


@pytest.mark.parametrize(
    "layer",
    [
        LSTM(2, 5, batch_first=True),
        GRU(2, 5),
        RNN(2, 5),
        LSTM(2, 5, batch_first=True, forget_gate=False),
        LSTM(2, 5, peephole=True, coupled_gates=True, bidirectional=True),
    ],
)
def test_plot_writes_a_png(tmp_path, layer):
    path = plot_gates(
        layer, torch.randn(20, 2), tmp_path / "g.png", input_labels=["value", "marker"]
    )
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 5000


def test_errors_name_the_bad_value():
    layer = LSTM(2, 3, batch_first=True)
    with pytest.raises(ConfigError, match=r"sample must be in \[0, 2\), got 5"):
        gate_trace(layer, torch.randn(2, 4, 2), sample=5)
    with pytest.raises(ConfigError, match=r"layer_index must be in \[0, 1\), got 1"):
        gate_trace(layer, torch.randn(4, 2), layer_index=1)
    with pytest.raises(ConfigError, match=r"direction must be in \[0, 1\), got 1"):
        gate_trace(layer, torch.randn(4, 2), direction=1)
    with pytest.raises(ShapeError, match="inputs must be one sequence"):
        gate_trace(layer, torch.randn(4))
    with pytest.raises(
        ConfigError, match="LSTM cannot return a trace of its gates; use an lstmkit"
    ):
        gate_trace(torch.nn.LSTM(2, 3), torch.randn(4, 2))
    with pytest.raises(ConfigError, match="max_units must be a positive int, got 0"):
        plot_gates(layer, torch.randn(4, 2), "unused.png", max_units=0)
