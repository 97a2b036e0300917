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
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError

SCHEMES = ("xavier", "he", "torch")


def check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ConfigError(f"init must be one of {', '.join(map(repr, SCHEMES))}, got {scheme!r}")
    return scheme


def _by_block(
    weight: Tensor, num_blocks: int, scheme: str, hidden_size: int, init_block: Callable
) -> None:
    """``init_block`` on each gate block of ``weight`` on its own; with ``"torch"``, torch's
    uniform over the whole matrix instead."""
    if scheme == "torch":
        _torch_uniform(weight, hidden_size)
        return
    for block in weight.chunk(num_blocks, dim=0):
        init_block(block)


@torch.no_grad()
def init_input_weight(weight: Tensor, num_blocks: int, scheme: str, hidden_size: int) -> None:
    if scheme == "he":
        init_block = partial(nn.init.kaiming_normal_, nonlinearity="relu")
    else:
        init_block = nn.init.xavier_uniform_
    _by_block(weight, num_blocks, scheme, hidden_size, init_block)


@torch.no_grad()
def init_recurrent_weight(weight: Tensor, num_blocks: int, scheme: str, hidden_size: int) -> None:
    _by_block(weight, num_blocks, scheme, hidden_size, nn.init.orthogonal_)


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
