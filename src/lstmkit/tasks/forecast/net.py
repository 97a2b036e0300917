"""The network behind :class:`~lstmkit.tasks.Forecaster`: an LSTM encoder and a multi-step head.

Shapes (batch first): ``past`` ``(B, L, F_in)`` holds the scaled targets (first ``n_targets``
columns), past covariates and known-future covariates over the lookback; ``future``
``(B, H, F_fut)`` the known-future covariates over the horizon; the output is
``(B, H, n_targets, n_quantiles)`` (``n_quantiles`` is 1 for point forecasts).

Heads (``decoder=``):

* ``"direct"`` — one linear map from the encoder's last hidden state (and the horizon's future
  covariates, flattened) to all H steps at once.
* ``"autoregressive"`` — an LSTM decoder started from the encoder's final state, fed at each step
  its previous prediction (the median, for quantiles) and that step's future covariates; in
  training the true previous value is fed instead with probability ``teacher_forcing``.

The targets arrive normalised per window (:mod:`lstmkit.data.window_norm`); with ``affine`` the
network learns RevIN's affine map on top: the past targets become ``x * gamma + beta`` and the
output is mapped back by ``(y - beta) / gamma``, one ``gamma, beta`` per target column.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lstmkit._checks import choice
from lstmkit.nn import LSTM

DECODERS = ("direct", "autoregressive")


class ForecastNet(nn.Module):
    def __init__(
        self,
        *,
        n_inputs: int,
        n_targets: int,
        n_future: int,
        horizon: int,
        n_quantiles: int,
        point_index: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        decoder: str,
        teacher_forcing: float,
        lstm_options: dict[str, Any],
        affine: bool = False,
    ) -> None:
        super().__init__()
        choice("decoder", decoder, DECODERS)
        self.n_targets = n_targets
        self.n_future = n_future
        self.horizon = horizon
        self.n_quantiles = n_quantiles
        self.point_index = point_index
        self.decoder_kind = decoder
        self.teacher_forcing = float(teacher_forcing)
        self.affine = affine
        if affine:
            self.gamma = nn.Parameter(torch.ones(n_targets))
            self.beta = nn.Parameter(torch.zeros(n_targets))
        layer_dropout = dropout if num_layers > 1 else 0.0
        self.encoder = LSTM(
            n_inputs,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=layer_dropout,
            **lstm_options,
        )
        width = self.encoder.output_size
        self.drop = nn.Dropout(dropout)
        if decoder == "direct":
            self.head = nn.Linear(width + horizon * n_future, horizon * n_targets * n_quantiles)
        else:
            self.decoder = LSTM(
                n_targets + n_future,
                hidden_size,
                num_layers,
                batch_first=True,
                dropout=layer_dropout,
                **lstm_options,
            )
            self.head = nn.Linear(width, n_targets * n_quantiles)

    def forward(self, past: Tensor, future: Tensor, y_teacher: Tensor | None = None) -> Tensor:
        if not self.affine:
            return self._forward(past, future, y_teacher)
        n_t = self.n_targets
        past = torch.cat([past[..., :n_t] * self.gamma + self.beta, past[..., n_t:]], -1)
        if y_teacher is not None:
            y_teacher = y_teacher * self.gamma + self.beta
        out = self._forward(past, future, y_teacher)  # (B, H, T, Q)
        gamma = self.gamma.abs().clamp_min(1e-4) * torch.where(self.gamma < 0, -1.0, 1.0)
        return (out - self.beta[:, None]) / gamma[:, None]

    def _forward(self, past: Tensor, future: Tensor, y_teacher: Tensor | None) -> Tensor:
        batch = past.shape[0]
        out, state = self.encoder(past)  # out: (B, L, width)
        if self.decoder_kind == "direct":
            features = self.drop(out[:, -1])  # (B, width)
            if self.n_future:
                features = torch.cat([features, future.reshape(batch, -1).to(features.dtype)], 1)
            return self.head(features).view(batch, self.horizon, self.n_targets, self.n_quantiles)
        return self._decode(past, future, state, y_teacher)

    def _decode(self, past: Tensor, future: Tensor, state: Any, y_teacher: Tensor | None) -> Tensor:
        batch, dtype = past.shape[0], self.decoder.weight_ih_l0.dtype
        last = past[:, -1:, : self.n_targets]  # (B, 1, T): the last observed targets
        use_teacher = (
            y_teacher is not None
            and self.training
            and self.teacher_forcing > 0
            and (self.teacher_forcing >= 1 or torch.rand(()) < self.teacher_forcing)
        )
        if use_teacher:
            assert y_teacher is not None
            inputs = torch.cat([last, y_teacher[:, :-1]], 1)  # (B, H, T): shifted by one step
            if self.n_future:
                inputs = torch.cat([inputs, future], 2)
            out, _ = self.decoder(inputs.to(dtype), state)
            q = self.head(self.drop(out))  # (B, H, T*Q)
            return q.view(batch, self.horizon, self.n_targets, self.n_quantiles)
        steps = []
        prev = last
        for h in range(self.horizon):
            step_in = prev if not self.n_future else torch.cat([prev, future[:, h : h + 1]], 2)
            out, state = self.decoder(step_in.to(dtype), state)
            q = self.head(self.drop(out)).view(batch, 1, self.n_targets, self.n_quantiles)
            steps.append(q)
            prev = q[..., self.point_index]
        return torch.cat(steps, 1)


def pinball_loss(pred: Tensor, target: Tensor, quantiles: Tensor) -> Tensor:
    """Mean quantile (pinball) loss.

    ``pred`` ``(..., Q)``, ``target`` ``(...)``, ``quantiles`` ``(Q,)``.
    """
    diff = target.unsqueeze(-1) - pred
    return torch.maximum(quantiles * diff, (quantiles - 1) * diff).mean()
