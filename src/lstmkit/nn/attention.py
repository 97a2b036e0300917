"""Attention over a sequence of keys: additive (Bahdanau) and multiplicative (Luong) scoring.

Both modules share one contract::

    context, weights = attn(query, keys, mask)
    # query (B, Q), keys (B, S, K), mask (B, S) bool (True = a real position)
    # context (B, K) = sum_s weights[b, s] * keys[b, s]; weights (B, S), each row sums to 1

Masked positions get a score of -inf before the softmax, so their weight is exactly zero and they
add nothing to the context. Every row needs at least one unmasked position.

The part of the score that depends on the keys only is the same at every decoder step, so it can
be computed once per source sequence with :meth:`project_keys` and passed back in as
``projected=``; the result is identical to recomputing it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from lstmkit._checks import choice, positive_int
from lstmkit.errors import ConfigError, ShapeError

MULTIPLICATIVE_KINDS = ("general", "dot")


class _Attention(nn.Module):
    query_size: int
    key_size: int

    def project_keys(self, keys: Tensor) -> Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def scores(self, query: Tensor, projected: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def _check(self, query: Tensor, keys: Tensor, mask: Tensor | None) -> None:
        if query.dim() != 2 or query.shape[1] != self.query_size:
            raise ShapeError(
                f"query must have shape (batch, {self.query_size}), got {tuple(query.shape)}"
            )
        if keys.dim() != 3 or keys.shape[2] != self.key_size or keys.shape[0] != query.shape[0]:
            raise ShapeError(
                f"keys must have shape ({query.shape[0]}, steps, {self.key_size}), "
                f"got {tuple(keys.shape)}"
            )
        if keys.shape[1] == 0:
            raise ShapeError("keys have 0 steps; attention needs at least one position")
        if mask is not None:
            if mask.dtype != torch.bool or tuple(mask.shape) != tuple(keys.shape[:2]):
                raise ShapeError(
                    f"mask must be a bool tensor of shape {tuple(keys.shape[:2])}, got "
                    f"{mask.dtype} {tuple(mask.shape)}"
                )
            empty = ~mask.any(dim=1)
            if bool(empty.any()):
                row = int(empty.nonzero()[0, 0])
                raise ShapeError(
                    f"mask row {row} has no unmasked position; every row needs at least one"
                )

    def forward(
        self,
        query: Tensor,
        keys: Tensor,
        mask: Tensor | None = None,
        *,
        projected: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """``(context (B, K), weights (B, S))`` for ``query (B, Q)`` over ``keys (B, S, K)``.

        ``mask (B, S)``, bool, True where a position is real; ``projected``: the output of
        :meth:`project_keys` for these keys (computed here when omitted).
        """
        self._check(query, keys, mask)
        if projected is None:
            projected = self.project_keys(keys)
        scores = self.scores(query, projected)  # (B, S)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (B, K)
        return context, weights


class AdditiveAttention(_Attention):
    r"""Bahdanau et al. (2015): ``score(q, k_s) = v^T tanh(W q + U k_s + b)``.

    ``W`` is ``(attn_size, query_size)`` (``query_proj``, no bias), ``U`` is
    ``(attn_size, key_size)`` with the bias ``b`` (``key_proj``), ``v`` is ``(attn_size,)``
    (``v.weight`` of shape ``(1, attn_size)``). :meth:`project_keys` returns ``U k + b``.
    """

    def __init__(self, query_size: int, key_size: int, attn_size: int) -> None:
        super().__init__()
        self.query_size = positive_int("query_size", query_size)
        self.key_size = positive_int("key_size", key_size)
        self.attn_size = positive_int("attn_size", attn_size)
        self.query_proj = nn.Linear(query_size, attn_size, bias=False)
        self.key_proj = nn.Linear(key_size, attn_size, bias=True)
        self.v = nn.Linear(attn_size, 1, bias=False)

    def project_keys(self, keys: Tensor) -> Tensor:
        """``U k + b`` for every key: ``(B, S, attn_size)``."""
        return self.key_proj(keys)

    def scores(self, query: Tensor, projected: Tensor) -> Tensor:
        hidden = torch.tanh(projected + self.query_proj(query).unsqueeze(1))  # (B, S, A)
        return self.v(hidden).squeeze(2)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, attn_size={self.attn_size}"


class MultiplicativeAttention(_Attention):
    r"""Luong et al. (2015): ``"general"``: ``score(q, k_s) = q^T W k_s``; ``"dot"``:
    ``score(q, k_s) = q^T k_s`` (needs ``query_size == key_size``).

    With ``scaled=True`` the score is divided by ``sqrt(query_size)`` (Vaswani et al., 2017),
    which keeps the softmax from saturating for large sizes; off by default, as in Luong.
    ``W`` is ``key_proj.weight`` of shape ``(query_size, key_size)``; :meth:`project_keys`
    returns ``W k`` (the keys themselves for ``"dot"``).
    """

    def __init__(
        self, query_size: int, key_size: int, kind: str = "general", *, scaled: bool = False
    ) -> None:
        super().__init__()
        self.query_size = positive_int("query_size", query_size)
        self.key_size = positive_int("key_size", key_size)
        choice("kind", kind, MULTIPLICATIVE_KINDS)
        if kind == "dot" and query_size != key_size:
            raise ConfigError(
                f"dot attention needs query_size == key_size, got {query_size} and {key_size}; "
                "use kind='general' to learn a map between them"
            )
        self.kind = kind
        self.scaled = bool(scaled)
        self.key_proj = nn.Linear(key_size, query_size, bias=False) if kind == "general" else None

    def project_keys(self, keys: Tensor) -> Tensor:
        """``W k`` for every key (``"general"``), the keys themselves (``"dot"``): (B, S, Q)."""
        return keys if self.key_proj is None else self.key_proj(keys)

    def scores(self, query: Tensor, projected: Tensor) -> Tensor:
        scores = torch.bmm(projected, query.unsqueeze(2)).squeeze(2)  # (B, S)
        return scores / math.sqrt(self.query_size) if self.scaled else scores

    def extra_repr(self) -> str:
        return (
            f"query_size={self.query_size}, key_size={self.key_size}, kind={self.kind!r}, "
            f"scaled={self.scaled}"
        )


__all__ = ["AdditiveAttention", "MultiplicativeAttention"]
