"""The regularisers of the AWD-LSTM line of work (Merity, Keskar & Socher, 2018) as blocks.

* :func:`embedding_dropout` — drops whole rows of the embedding matrix, i.e. every occurrence of a
  word type in the batch at once (Gal & Ghahramani, 2016), scaling the kept rows by ``1/(1-p)``.
* :class:`LockedDropout` — variational dropout on a sequence: one mask per sequence, the same at
  every time step (for inputs, between layers and on outputs).
* :class:`WeightDrop` — DropConnect on the recurrent weights (``weight_hh``) of an
  :class:`lstmkit.nn.LSTM` (or GRU/RNN): one mask on the weight matrix per forward pass, shared by
  every step and sequence of the batch, so the recurrence itself is regularised while every engine
  (``reference``, ``fused``, ``native``) still runs the standard recurrence.
* :func:`activation_regularization` (AR: L2 on the dropped outputs of the last layer) and
  :func:`temporal_activation_regularization` (TAR: L2 on the step-to-step change of its undropped
  outputs).

All are identity (or zero) in eval mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit._checks import number, probability
from lstmkit.errors import ConfigError, ShapeError


def embedding_dropout(
    embedding: nn.Embedding,
    ids: Tensor,
    p: float,
    training: bool,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Look up ``ids`` in ``embedding`` with whole word types dropped with probability ``p``.

    One keep/drop draw per row of the embedding matrix (per vocabulary entry), so a dropped word
    is zero wherever it occurs in the batch; kept rows are scaled by ``1 / (1 - p)`` so that the
    expectation is unchanged. In eval mode (``training=False``) or with ``p == 0`` this is the
    plain lookup.
    """
    p = probability("embedding dropout p", p)
    weight = embedding.weight
    if training and p > 0:
        keep = 1.0 - p
        mask = torch.empty(weight.shape[0], 1, dtype=weight.dtype, device=weight.device)
        mask.bernoulli_(keep, generator=generator).div_(keep)
        weight = weight * mask
    return F.embedding(
        ids,
        weight,
        embedding.padding_idx,
        embedding.max_norm,
        embedding.norm_type,
        embedding.scale_grad_by_freq,
        embedding.sparse,
    )


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence, reused at every time step (variational dropout).

    ``forward(x)`` takes ``(B, T, F)`` when ``batch_first`` (the default) or ``(T, B, F)``; the
    mask is ``(B, 1, F)`` (or ``(1, B, F)``) with kept entries scaled by ``1 / (1 - p)``.
    """

    def __init__(self, p: float = 0.5, *, batch_first: bool = True) -> None:
        super().__init__()
        self.p = probability("LockedDropout p", p)
        self.batch_first = bool(batch_first)

    def forward(self, x: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        if not self.training or self.p == 0:
            return x
        if x.dim() != 3:
            raise ShapeError(
                f"LockedDropout expects a 3-D sequence tensor, got shape {tuple(x.shape)}"
            )
        shape = (x.shape[0], 1, x.shape[2]) if self.batch_first else (1, x.shape[1], x.shape[2])
        keep = 1.0 - self.p
        mask = x.new_empty(shape).bernoulli_(keep, generator=generator).div_(keep)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}" + ("" if self.batch_first else ", batch_first=False")


def recurrent_weight_names(layer: nn.Module) -> list[str]:
    """The names of the recurrent weight matrices of an lstmkit (or torch) recurrent layer."""
    return [
        name for name, _ in layer.named_parameters(recurse=False) if name.startswith("weight_hh")
    ]


class WeightDrop(nn.Module):
    """DropConnect (Wan et al., 2013) on some weights of ``module``, one mask per forward pass.

    By default the weights are every ``weight_hh*`` matrix of a recurrent layer, as in AWD-LSTM.
    In training mode each forward draws a fresh dropout mask per weight (entries dropped with
    probability ``p``, kept ones scaled by ``1 / (1 - p)``) and runs ``module`` with the dropped
    matrices in place of its parameters; the parameters themselves are untouched, stay registered
    (``state_dict`` keys, optimiser and saving are exactly those of ``module``) and receive the
    gradient through the mask. In eval mode, or with ``p == 0``, ``module`` runs as is.

    The swap works with every engine of :class:`lstmkit.nn.LSTM` because each reads the weights
    from the layer's attributes at call time; torch's fused op (``impl="native"``) then receives a
    non-leaf weight tensor and backpropagates into it like any other op. Not thread-safe: two
    threads calling the same wrapped module at once would see each other's masks.
    """

    def __init__(self, module: nn.Module, p: float, names: Sequence[str] | None = None) -> None:
        super().__init__()
        self.module = module
        self.p = probability("weight_drop p", p)
        names = list(recurrent_weight_names(module) if names is None else names)
        params = dict(module.named_parameters(recurse=False))
        missing = [n for n in names if n not in params]
        if missing or not names:
            raise ConfigError(
                f"WeightDrop: {module.__class__.__name__} has no parameter(s) "
                f"{missing or names}; its own parameters are {sorted(params)}"
            )
        self.names = names

    def dropped_weights(self) -> dict[str, Tensor]:
        """A freshly masked copy of each weight (what one training forward uses)."""
        return {
            name: F.dropout(getattr(self.module, name), self.p, training=True)
            for name in self.names
        }

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not self.training or self.p == 0:
            return self.module(*args, **kwargs)
        params = self.module._parameters
        saved: dict[str, nn.Parameter] = {}
        dropped = self.dropped_weights()
        try:
            for name, weight in dropped.items():
                saved[name] = params.pop(name)
                # A plain tensor attribute (not a Parameter) shadows the weight for this call.
                object.__setattr__(self.module, name, weight)
            return self.module(*args, **kwargs)
        finally:
            for name, param in saved.items():
                self.module.__dict__.pop(name, None)
                params[name] = param

    def extra_repr(self) -> str:
        return f"p={self.p}, names={self.names}"


def activation_regularization(output: Tensor, alpha: float) -> Tensor:
    """AR: ``alpha * mean(output ** 2)`` over the (dropped) outputs of the last layer."""
    alpha = number("alpha (AR)", alpha)
    if alpha == 0:
        return output.new_zeros(())
    return alpha * output.pow(2).mean()


def temporal_activation_regularization(
    output: Tensor, beta: float, *, batch_first: bool = True
) -> Tensor:
    """TAR: ``beta * mean((h_t - h_{t-1}) ** 2)`` over the (undropped) outputs of the last layer.

    Zero for a single time step.
    """
    beta = number("beta (TAR)", beta)
    if output.dim() != 3:
        raise ShapeError(f"TAR expects a 3-D sequence tensor, got shape {tuple(output.shape)}")
    dim = 1 if batch_first else 0
    if beta == 0 or output.shape[dim] < 2:
        return output.new_zeros(())
    diff = output.narrow(dim, 1, output.shape[dim] - 1) - output.narrow(
        dim, 0, output.shape[dim] - 1
    )
    return beta * diff.pow(2).mean()
