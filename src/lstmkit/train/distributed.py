"""Training on several processes (Lightning's DDP): global batches split among the ranks, and
the helpers that keep files and output on rank 0.

The rule: ``batch_size`` is the *global* batch. Every optimiser step sees the same examples as a
single process with the same ``batch_size`` and seed would: the loader's batches are drawn exactly
as on one process, and each batch is cut into one consecutive share per rank (B/N rows each when
N ranks divide B). Each rank's mean loss is weighted by its share of the batch, so the gradient
DDP averages over the ranks is the gradient of the mean over the whole global batch, and the
logged epoch losses are means over every example. See ``docs/scaling.md``.

torch is imported here (not Lightning), so the tasks can ask for the rank without Lightning's
start-up time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from lstmkit.errors import ModelFileError

T = TypeVar("T")


def _initialized() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def world_size() -> int:
    """How many training processes there are (1 outside distributed training)."""
    if _initialized():
        return int(torch.distributed.get_world_size())
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def global_rank() -> int:
    """This process's rank among all training processes (0 outside distributed training).

    From the process group when there is one, else from the launcher's environment: ``RANK``
    (torchrun), or ``NODE_RANK`` and ``LOCAL_RANK`` (Lightning's launcher, which sets no ``RANK``;
    there the rank on a node after the first is a guess, but never 0)."""
    if _initialized():
        return int(torch.distributed.get_rank())
    if os.environ.get("RANK"):
        return int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK") or 0)
    node = int(os.environ.get("NODE_RANK") or 0)
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE") or 1)
    return node * max(per_node, local + 1) + local


def is_main_process() -> bool:
    """True on rank 0 (and always outside distributed training): the process that prints and
    writes files. Guard a script's own prints with it after a DDP ``fit``."""
    return global_rank() == 0


def on_main_process(write: Callable[[], T], what: str) -> T | None:
    """Run ``write`` on rank 0 only; every rank returns after rank 0 has finished.

    Outside distributed training this is just ``write()``. Within it the other ranks wait at a
    barrier, so when any rank returns the file is complete on rank 0's disk; if rank 0 failed,
    rank 0 raises its error and the others raise a :class:`ModelFileError` naming ``what``.
    """
    if not _initialized() or torch.distributed.get_world_size() == 1:
        return write()
    result: T | None = None
    error: BaseException | None = None
    if torch.distributed.get_rank() == 0:
        try:
            result = write()
        except BaseException as err:  # reported to every rank below
            error = err
    status = [None if error is None else f"{type(error).__name__}: {error}"]
    torch.distributed.broadcast_object_list(status, src=0)
    if error is not None:
        raise error
    if status[0] is not None:
        raise ModelFileError(f"rank 0 failed to write {what}: {status[0]}")
    return result


# --- global batches split among the ranks -------------------------------------------------------


class ShardBatch(NamedTuple):
    """One rank's share of a global batch: the collated ``data``, how many of the global batch's
    rows it holds (``count``; 0 for a placeholder row when the batch has fewer rows than ranks),
    the global batch's size ``total`` and the number of ranks ``world``."""

    data: Any
    count: int
    total: int
    world: int

    @property
    def weight(self) -> float:
        """The factor on this rank's mean loss that makes DDP's average of the ranks' gradients
        the gradient of the mean over the global batch."""
        return self.count * self.world / self.total


class _Share(list):  # type: ignore[type-arg]
    """A rank's indices of one global batch, with the batch's bookkeeping."""

    count: int
    total: int
    world: int


class GlobalBatchShards:
    """Wraps a batch sampler of global batches and yields this rank's consecutive share of each.

    The rank and world size are read when iterating (inside the training processes), so the
    wrapped loader can be built before Lightning starts them. Every rank yields the same number
    of batches, so no rank waits for a gradient that never comes.
    """

    def __init__(self, batches: Any) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def set_epoch(self, epoch: int) -> None:
        for holder in (self.batches, getattr(self.batches, "sampler", None)):
            if callable(getattr(holder, "set_epoch", None)):
                holder.set_epoch(epoch)  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[_Share]:
        world, rank = world_size(), global_rank()
        for batch in self.batches:
            indices = list(batch)
            total = len(indices)
            share = _Share(indices[rank * total // world : (rank + 1) * total // world])
            share.count = len(share)
            if not share:  # fewer rows than ranks: a placeholder row that weighs nothing
                share.append(indices[0])
            share.total, share.world = total, world
            yield share


class ShardedRows(Dataset):
    """The dataset of a sharded loader: fetches one share and collates it as the original loader
    would, wrapped in a :class:`ShardBatch`."""

    def __init__(self, dataset: Any, collate: Callable[[Any], Any]) -> None:
        self.dataset = dataset
        self.collate = collate

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index]

    def __getitems__(self, share: _Share) -> ShardBatch:
        indices = list(share)
        getitems = getattr(self.dataset, "__getitems__", None)
        items = getitems(indices) if getitems else [self.dataset[i] for i in indices]
        return ShardBatch(self.collate(items), share.count, share.total, share.world)


def _as_is(batch: Any) -> Any:
    return batch


def can_shard(loader: DataLoader) -> bool:
    """Whether :func:`shard_loader` can split this loader's batches (a map-style dataset cut into
    batches by a batch sampler)."""
    return not isinstance(loader.dataset, IterableDataset) and loader.batch_sampler is not None


def shard_loader(loader: DataLoader) -> DataLoader:
    """The same loader, yielding this rank's :class:`ShardBatch` of each of its batches."""
    workers = loader.num_workers
    return DataLoader(
        ShardedRows(loader.dataset, loader.collate_fn),
        batch_sampler=GlobalBatchShards(loader.batch_sampler),
        collate_fn=_as_is,
        num_workers=workers,
        generator=loader.generator,
        pin_memory=loader.pin_memory,
        worker_init_fn=loader.worker_init_fn,
        persistent_workers=loader.persistent_workers if workers > 0 else False,
    )
