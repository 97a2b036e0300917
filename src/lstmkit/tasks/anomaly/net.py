"""The two networks behind :class:`~lstmkit.tasks.AnomalyDetector`.

* :class:`NextStepNet` (``method="prediction"``) — a one-step-ahead LSTM: at step t it reads
  ``x_t`` with the carried state ``(h_{t-1}, c_{t-1})`` and predicts ``x_{t+1}`` from ``h_t``. Run
  over a whole series in one pass it gives every prediction at once; run one step at a time with
  the state carried (:meth:`NextStepNet.step`) it gives the same predictions, which is what makes
  streaming O(1) per step and equal to batch scoring. :meth:`NextStepNet.step` is
  ``torch.lstm_cell``, so it serves the plain cell (:attr:`NextStepNet.steps_with_cell`); with a
  cell variant (layer norm, peepholes, ...) or a projection a stream runs the layer itself, one row
  at a time.
* :class:`WindowAutoencoder` (``method="reconstruction"``) — an LSTM encoder-decoder over windows:
  the encoder's last hidden state, repeated at every step, is the decoder's input, and a linear
  head maps the decoder's outputs back to the channels (a simplification of Malhotra et al.'s
  EncDec-AD, 2016, which decodes in reverse order from its own previous outputs).

Both pass ``lstm_options`` (the task's ``**lstm_options``) to every LSTM they hold.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.nn import LSTM


class NextStepNet(nn.Module):
    """``x (B, T, C) -> predictions of x[:, 1:] (B, T, C)``; output t predicts input t+1."""

    def __init__(
        self,
        n_channels: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        lstm_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.lstm = LSTM(
            n_channels,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            **(lstm_options or {}),
        )
        self.head = nn.Linear(self.lstm.output_size, n_channels)

    @property
    def steps_with_cell(self) -> bool:
        """Whether :meth:`step` (``torch.lstm_cell``) is this layer's arithmetic: a plain cell
        without projection (dropout, zoneout and the initialisation do not matter when scoring)."""
        return self.lstm.is_plain and not self.lstm.proj_size

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        out, state = self.lstm(x, state)  # out: (B, T, H)
        return self.head(out), state

    def step_weights(self) -> list[tuple[Tensor, Tensor, Tensor, Tensor]]:
        """Detached ``(w_ih, w_hh, b_ih, b_hh)`` of each layer, for :meth:`step`."""
        return [
            tuple(
                getattr(self.lstm, f"{name}_l{k}").detach()
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            )
            for k in range(self.lstm.num_layers)
        ]  # type: ignore[return-value]

    @staticmethod
    def step(
        x_t: Tensor,
        h: list[Tensor],
        c: list[Tensor],
        weights: list[tuple[Tensor, Tensor, Tensor, Tensor]],
        head_w: Tensor,
        head_b: Tensor,
    ) -> Tensor:
        """One step for one sequence: ``x_t (1, C)``; ``h``/``c`` lists of ``(1, H)`` per layer,
        updated in place. Returns the prediction of the next input ``(1, C)``.

        ``torch.lstm_cell`` is the same gate arithmetic as the layer (gate order i, f, g, o); the
        layer's dropout between layers is off in evaluation, so none is applied here.
        """
        inp = x_t
        for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
            h[k], c[k] = torch.lstm_cell(inp, (h[k], c[k]), w_ih, w_hh, b_ih, b_hh)
            inp = h[k]
        return torch.addmm(head_b, inp, head_w.t())


class WindowAutoencoder(nn.Module):
    """``x (B, W, C) -> reconstruction (B, W, C)`` through a ``hidden_size`` bottleneck."""

    def __init__(
        self,
        n_channels: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        lstm_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        layer_dropout = dropout if num_layers > 1 else 0.0
        options = lstm_options or {}
        self.encoder = LSTM(
            n_channels, hidden_size, num_layers, batch_first=True, dropout=layer_dropout, **options
        )
        self.decoder = LSTM(
            self.encoder.output_size,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=layer_dropout,
            **options,
        )
        self.head = nn.Linear(self.decoder.output_size, n_channels)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.encoder(x)
        code = out[:, -1:].expand(-1, x.shape[1], -1)  # (B, W, H): the summary at every step
        dec, _ = self.decoder(code.contiguous())
        return self.head(dec)


__all__ = ["NextStepNet", "WindowAutoencoder"]
