"""Linear-chain conditional random field over per-token tag scores.

A tag sequence ``y_1..y_n`` of a sentence with emission scores ``E`` (from, e.g., a BiLSTM) scores

    s(y) = start[y_1] + E[1, y_1] + sum_{t=2..n} (trans[y_{t-1}, y_t] + E[t, y_t]) + end[y_n]

and ``p(y | E) = exp(s(y)) / Z`` with ``Z`` the sum of ``exp(s)`` over every tag path of length
``n``. :meth:`CRF.nll` is ``log Z - s(gold)``, with ``log Z`` from the forward algorithm in log
space; :meth:`CRF.decode` is the Viterbi path ``argmax_y s(y)``. Both are batched over padded
sequences with their ``lengths``: steps past a sequence's length change nothing.

Optional constraints (:func:`transition_constraints`, e.g. BIO: ``I-X`` only after ``B-X`` or
``I-X``) forbid some transitions, first tags and last tags. A forbidden one gets a fixed score of
:data:`FORBIDDEN` (a large negative number rather than ``-inf``, so that a gold path that breaks
a constraint gives a large but finite loss instead of NaN gradients).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lstmkit._checks import choice, positive_int
from lstmkit.errors import ConfigError, ShapeError

FORBIDDEN = -1.0e4
SCHEMES = ("BIO", "IOBES")


def _split_tag(tag: str) -> tuple[str, str]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", "")``."""
    if tag == "O":
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if not sep or not kind:
        return "", tag
    return prefix, kind


def transition_constraints(
    tags: Sequence[str], scheme: str = "BIO"
) -> tuple[Tensor, Tensor, Tensor]:
    """Which transitions, first tags and last tags a tagging ``scheme`` allows.

    Args:
        tags: the tag names, in id order (``"O"``, ``"B-PER"``, ``"I-PER"``, ...).
        scheme: ``"BIO"`` (IOB2: ``I-X`` only after ``B-X`` or ``I-X``, never first) or
            ``"IOBES"`` (``I-X``/``E-X`` only after ``B-X``/``I-X``; after ``B-X``/``I-X`` only
            ``I-X``/``E-X``; the first tag is ``O``, ``B-*`` or ``S-*``, the last ``O``, ``E-*`` or
            ``S-*``).

    Returns:
        ``(allowed (K, K), start_allowed (K,), end_allowed (K,))`` bool tensors; ``allowed[i, j]``
        says whether tag ``j`` may follow tag ``i``.

    Raises:
        ConfigError: for an unknown scheme or a tag that is not ``O`` or ``P-TYPE`` with a prefix
            ``P`` of the scheme.
    """
    choice("scheme", scheme, SCHEMES)
    prefixes = set(scheme) - {"O"}
    parts = [_split_tag(t) for t in tags]
    bad = [t for t, (p, _) in zip(tags, parts, strict=True) if p != "O" and p not in prefixes]
    if bad:
        raise ConfigError(
            f"tags {bad[:5]} do not follow the {scheme} scheme: expected 'O' or "
            f"{'/'.join(sorted(prefixes))}-TYPE tags such as 'B-PER'"
        )
    k = len(tags)
    allowed = torch.ones(k, k, dtype=torch.bool)
    start = torch.ones(k, dtype=torch.bool)
    end = torch.ones(k, dtype=torch.bool)
    inside = ("I",) if scheme == "BIO" else ("I", "E")
    for j, (pj, tj) in enumerate(parts):
        if pj in inside:
            start[j] = False
            for i, (pi, ti) in enumerate(parts):
                allowed[i, j] = pi in ("B", "I") and ti == tj
        if scheme == "IOBES" and pj in ("B", "I"):
            end[j] = False
            # after B-X or I-X only I-X or E-X may come
            for i, (pi, ti) in enumerate(parts):
                allowed[j, i] = pi in ("I", "E") and ti == tj
    return allowed, start, end


def bio_constraints(tags: Sequence[str]) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`transition_constraints` for the BIO (IOB2) scheme."""
    return transition_constraints(tags, "BIO")


class CRF(nn.Module):
    """Linear-chain CRF with learned transition, start and end scores.

    Args:
        num_tags: K, the number of tags.
        constraints: optional ``(allowed (K, K), start_allowed (K,), end_allowed (K,))`` bool
            tensors, e.g. from :func:`bio_constraints`; forbidden entries score :data:`FORBIDDEN`
            in both the loss and decoding.

    Parameters: ``transitions`` ``(K, K)`` (``[i, j]``: score of tag ``j`` after tag ``i``),
    ``start_transitions`` and ``end_transitions`` ``(K,)``. Inputs are batch-first: emissions
    ``(B, T, K)``, tags ``(B, T)``, lengths ``(B,)`` with ``1 <= lengths[b] <= T`` (``None``: all
    ``T``). Tags past a sequence's length are ignored (any value).
    """

    def __init__(
        self,
        num_tags: int,
        constraints: tuple[Tensor, Tensor, Tensor] | None = None,
    ) -> None:
        super().__init__()
        positive_int("num_tags", num_tags)
        self.num_tags = num_tags
        # Small random start so that tags are not tied at initialisation.
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        # Additive penalties (0 or FORBIDDEN); buffers, so they move with .to() but are not saved
        # (the task rebuilds them from its tags and scheme).
        k = num_tags
        pen_trans, pen_start, pen_end = torch.zeros(k, k), torch.zeros(k), torch.zeros(k)
        if constraints is not None:
            allowed, start_ok, end_ok = (torch.as_tensor(c, dtype=torch.bool) for c in constraints)
            if allowed.shape != (k, k) or start_ok.shape != (k,) or end_ok.shape != (k,):
                raise ShapeError(
                    f"constraints must be ((K, K), (K,), (K,)) bool tensors with K={k}, got "
                    f"{tuple(allowed.shape)}, {tuple(start_ok.shape)}, {tuple(end_ok.shape)}"
                )
            pen_trans[~allowed] = FORBIDDEN
            pen_start[~start_ok] = FORBIDDEN
            pen_end[~end_ok] = FORBIDDEN
        self.register_buffer("_pen_trans", pen_trans, persistent=False)
        self.register_buffer("_pen_start", pen_start, persistent=False)
        self.register_buffer("_pen_end", pen_end, persistent=False)
        self.constrained = constraints is not None

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}, constrained={self.constrained}"

    # --- scores with constraints applied ---------------------------------------------------------

    def _scores(self, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
        trans = self.transitions.to(dtype) + self._pen_trans.to(dtype)
        start = self.start_transitions.to(dtype) + self._pen_start.to(dtype)
        end = self.end_transitions.to(dtype) + self._pen_end.to(dtype)
        return trans, start, end

    def _check(self, emissions: Tensor, lengths: Tensor | Sequence[int] | None) -> Tensor:
        """Validate shapes; return lengths as a long tensor on the emissions' device."""
        if emissions.dim() != 3 or emissions.shape[2] != self.num_tags:
            raise ShapeError(
                f"emissions must be (batch, time, num_tags={self.num_tags}), got "
                f"{tuple(emissions.shape)}"
            )
        b, t = int(emissions.shape[0]), int(emissions.shape[1])
        if t == 0:
            raise ShapeError("emissions have zero time steps; every sequence needs a length >= 1")
        if lengths is None:
            return torch.full((b,), t, dtype=torch.long, device=emissions.device)
        lengths = torch.as_tensor(lengths, dtype=torch.long).to(emissions.device)
        if lengths.shape != (b,):
            raise ShapeError(f"lengths must have shape ({b},), got {tuple(lengths.shape)}")
        if bool((lengths < 1).any()) or bool((lengths > t).any()):
            raise ShapeError(
                f"lengths must lie in 1..{t} (the time dimension), got {lengths.tolist()}"
            )
        return lengths

    @staticmethod
    def _mask(lengths: Tensor, t: int) -> Tensor:
        return torch.arange(t, device=lengths.device)[None, :] < lengths[:, None]  # (B, T)

    # --- loss ------------------------------------------------------------------------------------

    def log_partition(
        self, emissions: Tensor, lengths: Tensor | Sequence[int] | None = None
    ) -> Tensor:
        """``log Z`` per sequence, ``(B,)``, by the forward algorithm in log space."""
        lengths = self._check(emissions, lengths)
        return self._log_partition(emissions, self._mask(lengths, emissions.shape[1]))

    def _log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        trans, start, end = self._scores(emissions.dtype)
        alpha = start + emissions[:, 0]  # (B, K): log-sum of all paths ending in each tag
        for t in range(1, emissions.shape[1]):
            # (B, K_prev, 1) + (K_prev, K) + (B, 1, K) -> sum out K_prev
            step = torch.logsumexp(alpha[:, :, None] + trans + emissions[:, t, None, :], dim=1)
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def score(
        self, emissions: Tensor, tags: Tensor, lengths: Tensor | Sequence[int] | None = None
    ) -> Tensor:
        """``s(tags)`` per sequence, ``(B,)``."""
        lengths = self._check(emissions, lengths)
        return self._score(emissions, self._tags(tags, emissions), lengths)

    def _tags(self, tags: Tensor, emissions: Tensor) -> Tensor:
        if tags.shape != emissions.shape[:2]:
            raise ShapeError(
                f"tags must be (batch, time) = {tuple(emissions.shape[:2])}, "
                f"got {tuple(tags.shape)}"
            )
        return tags.long()

    def _score(self, emissions: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        trans, start, end = self._scores(emissions.dtype)
        b, t = tags.shape
        mask = self._mask(lengths, t)
        # Padding may hold any value (e.g. -100); point it at tag 0 and mask its scores out.
        safe = torch.where(mask, tags, torch.zeros_like(tags))
        if bool(((safe < 0) | (safe >= self.num_tags)).any()):
            raise ShapeError(f"tags must lie in 0..{self.num_tags - 1} within each length")
        emit = emissions.gather(2, safe[:, :, None]).squeeze(2)  # (B, T)
        pair = trans[safe[:, :-1], safe[:, 1:]]  # (B, T-1)
        maskf = mask.to(emissions.dtype)
        total = start[safe[:, 0]] + (emit * maskf).sum(1) + (pair * maskf[:, 1:]).sum(1)
        last = safe.gather(1, (lengths - 1)[:, None]).squeeze(1)
        return total + end[last]

    def nll(
        self, emissions: Tensor, tags: Tensor, lengths: Tensor | Sequence[int] | None = None
    ) -> Tensor:
        """Negative log-likelihood ``log Z - s(tags)`` of each sequence, ``(B,)``."""
        lengths = self._check(emissions, lengths)
        tags = self._tags(tags, emissions)
        mask = self._mask(lengths, emissions.shape[1])
        return self._log_partition(emissions, mask) - self._score(emissions, tags, lengths)

    def forward(
        self, emissions: Tensor, tags: Tensor, lengths: Tensor | Sequence[int] | None = None
    ) -> Tensor:
        """Same as :meth:`nll`: per-sequence negative log-likelihood ``(B,)``."""
        return self.nll(emissions, tags, lengths)

    # --- decoding --------------------------------------------------------------------------------

    @torch.no_grad()
    def decode(
        self, emissions: Tensor, lengths: Tensor | Sequence[int] | None = None
    ) -> list[list[int]]:
        """The Viterbi (highest-scoring) tag path of each sequence, cut to its length."""
        paths, _ = self.viterbi(emissions, lengths)
        return paths

    @torch.no_grad()
    def viterbi(
        self, emissions: Tensor, lengths: Tensor | Sequence[int] | None = None
    ) -> tuple[list[list[int]], Tensor]:
        """``(paths, best scores (B,))`` by the Viterbi algorithm."""
        lengths = self._check(emissions, lengths)
        b, t, k = emissions.shape
        mask = self._mask(lengths, t)
        trans, start, end = self._scores(emissions.dtype)
        delta = start + emissions[:, 0]  # (B, K): best score of a path ending in each tag
        keep = torch.arange(k, device=emissions.device).expand(b, k)
        pointers = []
        for step in range(1, t):
            cand = delta[:, :, None] + trans  # (B, K_prev, K)
            best, arg = cand.max(dim=1)
            on = mask[:, step, None]
            delta = torch.where(on, best + emissions[:, step], delta)
            # Past a sequence's end the pointer is the identity, so backtracking from step T-1
            # carries the sequence's own last tag back to its last real step unchanged.
            pointers.append(torch.where(on, arg, keep))
        final = delta + end
        scores, last = final.max(dim=1)  # (B,)
        out = torch.empty(b, t, dtype=torch.long, device=emissions.device)
        out[:, t - 1] = last
        tag = last
        for step in range(t - 2, -1, -1):
            tag = pointers[step].gather(1, tag[:, None]).squeeze(1)
            out[:, step] = tag
        rows = out.cpu().tolist()
        lens = lengths.cpu().tolist()
        return [row[:n] for row, n in zip(rows, lens, strict=True)], scores


__all__ = ["CRF", "FORBIDDEN", "SCHEMES", "bio_constraints", "transition_constraints"]
