"""Batches of token ids: padding with lengths, a dataset of id sequences and its collate function.

The lengths go to the recurrent layer (``lengths=``), which stops each sequence at its own end, so
padding costs no recurrent compute; :class:`lstmkit.data.BucketBatchSampler` groups similar
lengths so there is little padding to begin with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lstmkit.errors import DataError


def pad_ids(
    seqs: Sequence[Sequence[int]], pad_id: int = 0, *, allow_empty: bool = False
) -> tuple[Tensor, Tensor]:
    """``(ids (B, T_max) int64, lengths (B,) int64)``; positions past a sequence's end hold
    ``pad_id``. A zero-length sequence is an error unless ``allow_empty``."""
    seqs = list(seqs)
    if not seqs:
        raise DataError("pad_ids needs at least one sequence, got none")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    if not allow_empty and bool((lengths == 0).any()):
        i = int((lengths == 0).nonzero()[0])
        raise DataError(f"sequence {i} is empty (no tokens); an empty text cannot be encoded")
    ids = torch.full((len(seqs), max(int(lengths.max()), 1)), int(pad_id), dtype=torch.int64)
    for row, seq in enumerate(seqs):
        if len(seq):
            ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.int64)
    return ids, lengths


class TokenDataset(Dataset):
    """Id sequences with optional targets (one per sequence: a label, or a sequence of tags)."""

    def __init__(self, ids: Sequence[Sequence[int]], targets: Sequence[Any] | None = None) -> None:
        self.ids = [list(s) for s in ids]
        if targets is not None and len(targets) != len(self.ids):
            raise DataError(
                f"{len(self.ids)} sequences but {len(targets)} targets; expected one each"
            )
        self.targets = None if targets is None else list(targets)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> tuple[list[int], Any]:
        return self.ids[index], None if self.targets is None else self.targets[index]

    @property
    def lengths(self) -> list[int]:
        """Sequence lengths, for :class:`lstmkit.data.BucketBatchSampler`."""
        return [len(s) for s in self.ids]


def collate_tokens(pad_id: int = 0, target_pad: int = -100) -> Callable[[list[Any]], tuple]:
    """A ``collate_fn`` giving ``(ids (B, T), lengths (B,), targets)``.

    Targets: numbers become a tensor ``(B,)``; sequences (tags) are padded with ``target_pad``
    (cross-entropy's ``ignore_index``) to ``(B, T)``; no targets give ``None``.
    """

    def collate(batch: list[Any]) -> tuple:
        ids, lengths = pad_ids([item[0] for item in batch], pad_id)
        targets = [item[1] for item in batch]
        if targets[0] is None:
            return ids, lengths, None
        if isinstance(targets[0], Sequence | Tensor) and not isinstance(targets[0], str):
            out, _ = pad_ids([list(t) for t in targets], target_pad, allow_empty=True)
            return ids, lengths, out[:, : ids.shape[1]]
        return ids, lengths, torch.as_tensor(targets)

    return collate
