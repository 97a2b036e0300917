"""The experiments' vanishing-gradient figure of fresh models on the adding problem."""

from __future__ import annotations

from lstmkit.experiments.vanishing import vanishing_gradient_plot

PNG = b"\x89PNG\r\n\x1a\n"


def test_vanishing_gradient_plot(tmp_path):
    flows = vanishing_gradient_plot(tmp_path / "v.png", T=30, hidden_size=8)
    assert set(flows) == {"LSTM", "LSTM (no forget gate)", "vanilla RNN"}
    assert (tmp_path / "v.png").read_bytes()[:8] == PNG
