"""Weight initialisation schemes for recurrent weights stacked in gate blocks.

``"xavier"`` (default)
    Input weights Glorot-uniform, recurrent weights orthogonal, biases zero (the Keras default;
    Glorot & Bengio 2010, Saxe et al. 2014). Each gate block is initialised on its own, so every
    gate sees a well-conditioned matrix.
``"he"``
    Input weights He-normal (fan-in), recurrent weights orthogonal, biases zero; for ReLU RNNs.
``"torch"``
    Every weight and bias uniform in ±1/√hidden_size, as ``torch.nn.LSTM`` does.

The LSTM's forget-gate bias is added on top by the cell (``forget_bias``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError

SCHEMES = ("xavier", "he", "torch")


def check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ConfigError(f"init must be one of {', '.join(map(repr, SCHEMES))}, got {scheme!r}")
    return scheme


def _blocks(weight: Tensor, num_blocks: int) -> tuple[Tensor, ...]:
    return weight.chunk(num_blocks, dim=0)


@torch.no_grad()
def init_input_weight(weight: Tensor, num_blocks: int, scheme: str, hidden_size: int) -> None:
    if scheme == "torch":
        _torch_uniform(weight, hidden_size)
        return
    for block in _blocks(weight, num_blocks):
        if scheme == "he":
            nn.init.kaiming_normal_(block, nonlinearity="relu")
        else:
            nn.init.xavier_uniform_(block)


@torch.no_grad()
def init_recurrent_weight(weight: Tensor, num_blocks: int, scheme: str, hidden_size: int) -> None:
    if scheme == "torch":
        _torch_uniform(weight, hidden_size)
        return
    for block in _blocks(weight, num_blocks):
        nn.init.orthogonal_(block)


@torch.no_grad()
def init_bias(bias: Tensor | None, scheme: str, hidden_size: int) -> None:
    if bias is None:
        return
    if scheme == "torch":
        _torch_uniform(bias, hidden_size)
    else:
        bias.zero_()


def _torch_uniform(t: Tensor, hidden_size: int) -> None:
    bound = 1.0 / math.sqrt(hidden_size)
    t.uniform_(-bound, bound)
