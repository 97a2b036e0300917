"""Gradient flow: exact per-step gradients of the loss with respect to h_t and c_t."""

from __future__ import annotations

import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.experiments.models import SequenceModel
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.viz.gradient_flow import (
    GradientFlow,
    model_gradient_flow,
    plot_gradient_flow,
    state_gradients,
)

PNG = b"\x89PNG\r\n\x1a\n"


def test_rnn_gradients_follow_the_backward_recurrence_in_float64():
    torch.manual_seed(0)
    layer = RNN(3, 5).double()
    x = torch.randn(8, 3, dtype=torch.float64)
    flow = state_gradients(layer, x, lambda out: out[0, -1].sum())
    # by hand: dL/dh_T = 1, dL/dh_{t-1} = W_hh^T ((1 - h_t^2) dL/dh_t)
    out, _ = layer(x.unsqueeze(1))
    h = out[:, 0].detach()
    grad = torch.ones(5, dtype=torch.float64)
    expected = [grad.norm()]
    for t in range(7, 0, -1):
        grad = layer.weight_hh_l0.detach().T @ ((1 - h[t] ** 2) * grad)
        expected.append(grad.norm())
    torch.testing.assert_close(flow.h, torch.stack(expected[::-1]))
    assert flow.c is None


def test_lstm_cell_gradient_at_the_last_step_by_hand():
    torch.manual_seed(1)
    layer = LSTM(2, 4).double()
    x = torch.randn(6, 2, dtype=torch.float64)
    flow = state_gradients(layer, x, lambda out: out[0, -1].sum())
    _, _, trace = layer(x.unsqueeze(1), return_trace=True)
    o, c = trace["o"][0, 0, -1, 0], trace["c"][0, 0, -1, 0]
    # c_T reaches the loss only through h_T = o tanh(c_T)
    torch.testing.assert_close(flow.c[-1], (o * (1 - torch.tanh(c) ** 2)).norm())
    torch.testing.assert_close(flow.h[-1], torch.tensor(2.0, dtype=torch.float64))  # ‖ones(4)‖


def test_contracting_rnn_gradient_vanishes_geometrically():
    torch.manual_seed(2)
    layer = RNN(2, 6).double()
    with torch.no_grad():
        layer.weight_hh_l0.copy_(0.5 * torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64))[0])
    flow = state_gradients(layer, torch.randn(40, 2, dtype=torch.float64))
    # ‖∂h_t/∂h_{t-1}‖ <= ‖W_hh‖ max|tanh'| <= 0.5
    ratios = flow.h[:-1] / flow.h[1:]
    assert bool((ratios <= 0.5 + 1e-12).all())
    assert float(flow.h[0] / flow.h[-1]) < 0.5**39 * 1.0000001


def test_default_loss_reads_the_last_step_of_every_layer_stack():
    layer = GRU(2, 3, num_layers=2, batch_first=True)
    batch = torch.randn(4, 10, 2)
    top = state_gradients(layer, batch)
    bottom = state_gradients(layer, batch, layer_index=0)
    assert top.h.shape == bottom.h.shape == (10,)
    # default loss: mean over the batch of h_T · u with ‖u‖ = 1 -> ‖dL/dh_T‖ = 1/B per sequence
    torch.testing.assert_close(top.h[-1], torch.tensor(0.25))
    assert float(bottom.h[-1]) > 0


def test_model_flow_uses_its_head_and_plot(tmp_path):
    model = SequenceModel("lstm-nofg", 2, 5, 1, "last")
    flow = model_gradient_flow(model, torch.randn(12, 2), lambda y: y.square().sum())
    assert flow.h.shape == flow.c.shape == (12,)
    path = plot_gradient_flow({"a": flow, "b": GradientFlow(flow.h * 0)}, tmp_path / "f.png")
    assert path.read_bytes()[:8] == PNG


def test_errors():
    with pytest.raises(ConfigError, match="unidirectional layers only"):
        state_gradients(LSTM(2, 3, bidirectional=True), torch.randn(4, 2))
    with pytest.raises(ConfigError, match="LSTM is not an lstmkit recurrent layer"):
        state_gradients(torch.nn.LSTM(2, 3), torch.randn(4, 2))
    with pytest.raises(ConfigError, match="flows must hold at least one"):
        plot_gradient_flow({}, "unused.png")
