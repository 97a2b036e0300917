"""Choosing the next token from a model's logits: temperature, top-k and nucleus (top-p) sampling.

:func:`sample_next` is the whole recipe: logits are divided by the temperature (0 means greedy:
the argmax), then :func:`filter_logits` keeps the ``top_k`` most likely tokens and, of those, the
smallest set whose probability mass reaches ``top_p`` (Holtzman et al., 2020); the rest get
``-inf``. The draw uses the given ``torch.Generator``, so a seeded generator gives the same text.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch import Tensor

from lstmkit._checks import positive_int_or_none
from lstmkit.errors import ConfigError, ShapeError


def check_sampling(
    temperature: Any, top_k: Any, top_p: Any
) -> tuple[float, int | None, float | None]:
    """Validate the sampling options; returns them as ``(float, int | None, float | None)``."""
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, numbers.Real)
        or not math.isfinite(float(temperature))
        or float(temperature) < 0
    ):
        raise ConfigError(
            f"temperature must be a finite number >= 0 (0 = always the most likely token), "
            f"got {temperature!r}"
        )
    positive_int_or_none("top_k", top_k)
    if top_p is not None and (
        isinstance(top_p, bool)
        or not isinstance(top_p, numbers.Real)
        or not 0.0 < float(top_p) <= 1.0
    ):
        raise ConfigError(f"top_p must be a number in (0, 1] or None, got {top_p!r}")
    return (
        float(temperature),
        None if top_k is None else int(top_k),
        None if top_p is None else float(top_p),
    )


def filter_logits(
    logits: Tensor, *, top_k: int | None = None, top_p: float | None = None
) -> Tensor:
    """``logits`` (..., V) with every token outside the top-k / nucleus set at ``-inf``.

    ``top_k`` keeps exactly the k largest logits (ties broken by ``torch.topk``); ``top_p`` then
    keeps, of the renormalised remaining distribution, the smallest set of most likely tokens whose
    mass is >= ``top_p`` (at least one token).
    """
    _, top_k, top_p = check_sampling(1.0, top_k, top_p)
    out = logits.clone()
    vocab = out.shape[-1]
    if top_k is not None and top_k < vocab:
        kept = torch.topk(out, top_k, dim=-1).indices
        mask = torch.ones_like(out, dtype=torch.bool).scatter_(-1, kept, False)
        out = out.masked_fill(mask, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(out, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        # mass of the tokens strictly before each one; a token is kept while that is < top_p
        before = torch.cumsum(probs, dim=-1) - probs
        drop_sorted = before >= top_p
        drop_sorted[..., 0] = False
        drop = torch.zeros_like(drop_sorted).scatter_(-1, order, drop_sorted)
        out = out.masked_fill(drop, float("-inf"))
    return out


def sample_next(
    logits: Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw the next token id from ``logits`` ``(V,)`` or ``(B, V)``; returns ``()`` or ``(B,)``.

    ``temperature`` 0 returns the argmax; otherwise the logits are divided by it (below 1 sharper,
    above 1 flatter) and filtered by ``top_k`` / ``top_p`` (see :func:`filter_logits`) before
    drawing from the softmax with ``generator``.
    """
    temperature, top_k, top_p = check_sampling(temperature, top_k, top_p)
    if not isinstance(logits, Tensor) or logits.dim() not in (1, 2) or logits.shape[-1] == 0:
        got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ShapeError(f"logits must be a (V,) or (B, V) tensor with V >= 1, got {got}")
    if not logits.is_floating_point():
        raise ShapeError(f"logits must be floating point, got dtype {logits.dtype}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    scaled = filter_logits(logits.double() / temperature, top_k=top_k, top_p=top_p)
    probs = torch.softmax(scaled, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    drawn = torch.multinomial(flat, 1, generator=generator).squeeze(-1)
    return drawn.reshape(probs.shape[:-1])
