"""Variable-length sequences: padding, a DataLoader ``collate_fn``, a length-bucketing sampler."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch.nn.utils.rnn import pad_sequence

from lstmkit._checks import positive_int
from lstmkit.errors import ShapeError


def pad_sequences(
    seqs: Sequence[torch.Tensor], padding_value: float = 0.0, batch_first: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad tensors ``(T_i, ...)`` to ``(B, T_max, ...)`` (or ``(T_max, B, ...)``).

    Returns ``(padded, lengths)`` with ``lengths`` int64 ``(B,)`` on the CPU (what
    ``pack_padded_sequence`` wants). The trailing dimensions and dtypes must agree.
    """
    seqs = list(seqs)
    if not seqs:
        raise ShapeError("pad_sequences needs at least one sequence, got none")
    for i, s in enumerate(seqs):
        if not isinstance(s, torch.Tensor) or s.dim() < 1:
            raise ShapeError(
                f"sequence {i} must be a tensor of shape (T, ...), got "
                f"{type(s).__name__ if not isinstance(s, torch.Tensor) else tuple(s.shape)}"
            )
        if s.shape[1:] != seqs[0].shape[1:]:
            raise ShapeError(
                f"sequence {i} has feature shape {tuple(s.shape[1:])} but sequence 0 has "
                f"{tuple(seqs[0].shape[1:])}; only the first (time) dimension may differ"
            )
    lengths = torch.tensor([s.shape[0] for s in seqs], dtype=torch.int64)
    padded = pad_sequence(seqs, batch_first=batch_first, padding_value=padding_value)
    return padded, lengths


def _stack_targets(targets: list[Any]) -> Any:
    first = targets[0]
    if isinstance(first, torch.Tensor):
        try:
            return torch.stack(targets)
        except RuntimeError as err:
            raise ShapeError(f"targets of a batch must have equal shapes to stack: {err}") from None
    if isinstance(first, (bool, int, float)):
        return torch.tensor(targets)
    return targets  # anything else (strings, dicts) is passed through as a list


def collate_padded(
    batch: Sequence[tuple[torch.Tensor, object]],
) -> tuple[torch.Tensor, torch.Tensor, object]:
    """``collate_fn`` for a DataLoader over ``(sequence, target)`` pairs.

    Returns ``(padded inputs (B, T_max, ...), lengths int64 (B,), targets)``; tensor targets
    are stacked, numbers become a tensor, anything else stays a list.
    """
    batch = list(batch)
    if not batch:
        raise ShapeError("collate_padded got an empty batch")
    if not all(isinstance(item, (tuple, list)) and len(item) == 2 for item in batch):
        raise ShapeError("collate_padded takes a batch of (sequence, target) pairs")
    seqs = [item[0] for item in batch]
    targets = [item[1] for item in batch]
    padded, lengths = pad_sequences(seqs)
    return padded, lengths, _stack_targets(targets)


class BucketBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches of indices whose sequences have similar lengths, so less compute goes to padding.

    With ``shuffle`` the indices are shuffled, cut into pools of ``pool_factor * batch_size``,
    sorted by length inside each pool, cut into batches, and the batches shuffled; each pass
    (epoch) draws a new order from ``seed`` and the epoch number, so a run is reproducible. Call
    ``set_epoch`` to pick the epoch explicitly (otherwise every ``iter`` moves to the next).
    Without ``shuffle`` the batches are consecutive in length order (ties in index order).
    Only the last batch may be smaller than ``batch_size``; ``drop_last`` drops it.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        pool_factor: int = 50,
    ) -> None:
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.int64)
        if self.lengths.dim() != 1:
            raise ShapeError("lengths must be a flat sequence of ints, one per item")
        if (self.lengths < 0).any():
            raise ShapeError("lengths must be >= 0")
        self.batch_size = positive_int("batch_size", batch_size)
        self.pool_factor = positive_int("pool_factor", pool_factor)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self._next_epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next pass's order (and count on from it)."""
        self._next_epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.lengths)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self, generator: torch.Generator | None) -> torch.Tensor:
        n = len(self.lengths)
        if generator is None:
            return torch.sort(self.lengths, stable=True).indices
        perm = torch.randperm(n, generator=generator)
        pool = self.batch_size * self.pool_factor
        parts = []
        for start in range(0, n, pool):
            chunk = perm[start : start + pool]
            parts.append(chunk[torch.sort(self.lengths[chunk], stable=True).indices])
        return torch.cat(parts) if parts else perm

    def __iter__(self) -> Iterator[list[int]]:
        self.epoch = self._next_epoch
        self._next_epoch += 1
        generator = None
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = self._order(generator).tolist()
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if generator is not None:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator)]
        yield from batches
