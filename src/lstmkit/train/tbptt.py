"""Truncated backpropagation through time (TBPTT) over one long token stream.

A language model reads a corpus as one stream of ids. For training, the stream is cut into ``B``
parallel streams (:func:`batchify`: row ``b`` holds the ``b``-th contiguous part), and those are
read left to right in consecutive windows of ``bptt`` steps. Batch ``i`` holds window ``i`` of
every stream, so the state a window ends with is the state the next window starts from: the loss
function carries it over (detached, so gradients stop at the window boundary) with a
:class:`CarriedState`, and resets it when a pass over the stream begins again.

Pieces:

* :func:`batchify` — ``(N,)`` ids to ``(B, N // B)`` streams (the remainder is dropped).
* :func:`window_bounds` — where the windows start and end: fixed ``bptt`` steps, or variable
  lengths as in AWD-LSTM (Merity et al., 2018), redrawn every epoch.
* :class:`StreamWindows` + :func:`stream_loader` — a Dataset of the windows and a DataLoader that
  yields them IN ORDER; hand the loader to :func:`lstmkit.train.fit`, which uses it as is. Each
  batch is ``(inputs (B, t), targets (B, t), first (bool scalar))``, targets being the inputs
  shifted by one step and ``first`` marking the first window of a pass.
* :class:`CarriedState` — keeps the detached state between batches, one slot for training and one
  for evaluation (Lightning validates between training epochs; the two must not mix).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from lstmkit._checks import positive_int
from lstmkit.errors import DataError, ShapeError

# AWD-LSTM's variable window: bptt steps with probability 0.95, else bptt / 2, then N(len, 5).
_AWD_FULL_PROB = 0.95
_AWD_STD = 5.0
_AWD_MIN_LEN = 5


def batchify(ids: Tensor | Sequence[int], batch_size: int) -> Tensor:
    """Cut a 1-D id stream into ``batch_size`` contiguous streams: ``(B, N // B)`` int64.

    Row ``b`` is ``ids[b * L:(b + 1) * L]`` with ``L = N // B``; the last ``N % B`` ids are dropped.
    Raises DataError when the stream is too short for two ids per stream (one input, one target).
    """
    batch_size = positive_int("batch_size", batch_size)
    stream = torch.as_tensor(ids, dtype=torch.long)
    if stream.dim() != 1:
        raise ShapeError(f"ids must be a 1-D stream, got shape {tuple(stream.shape)}")
    length = stream.numel() // batch_size
    if length < 2:
        raise DataError(
            f"a stream of {stream.numel()} tokens is too short for {batch_size} parallel "
            f"stream(s): each needs at least 2 tokens (an input and its target)"
        )
    return stream[: length * batch_size].view(batch_size, length)


def window_bounds(
    length: int, bptt: int, *, variable: bool = False, seed: int = 0, epoch: int = 0
) -> list[tuple[int, int]]:
    """``(start, stop)`` of the input windows over a stream of ``length`` ids.

    The windows tile positions ``0 .. length - 2`` exactly (the last id is only ever a target).
    Fixed windows are ``bptt`` long (the last one shorter). With ``variable=True`` each window's
    length is drawn as in AWD-LSTM (``bptt`` with probability 0.95, else ``bptt / 2``, plus
    N(0, 5) jitter, at least 5), from a generator seeded by ``(seed, epoch)`` so the cut points
    move from epoch to epoch, and then scaled by one common factor so that there are exactly as
    many windows as with fixed ones: the training loop sizes an epoch once, from the loader's
    length.
    """
    length = positive_int("length", length)
    bptt = positive_int("bptt", bptt)
    steps = length - 1  # input positions
    if steps < 1:
        raise DataError(f"a stream of {length} token(s) has no (input, target) pair")
    count = -(-steps // bptt)
    if not variable or count == 1:
        return [(s, min(s + bptt, steps)) for s in range(0, steps, bptt)]
    rng = np.random.default_rng([int(seed), int(epoch)])
    base = np.where(rng.random(count) < _AWD_FULL_PROB, bptt, bptt / 2.0)
    drawn = np.maximum(_AWD_MIN_LEN, rng.normal(base, _AWD_STD))
    ends = np.rint(np.cumsum(drawn) * (steps / drawn.sum())).astype(np.int64)
    ends[-1] = steps
    starts = np.concatenate([[0], ends[:-1]])
    if np.any(ends <= starts):  # rounding merged two cut points (tiny streams): fall back
        return [(s, min(s + bptt, steps)) for s in range(0, steps, bptt)]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


class StreamWindows(Dataset):
    """The TBPTT windows of ``(B, L)`` streams; item ``(epoch, i)`` is window ``i`` of that epoch.

    An item is ``(inputs (B, t), targets (B, t), first)``: ``targets`` are the inputs shifted one
    step ahead and ``first`` is a bool tensor, True for window 0 (where the carried state resets).
    Indexing by ``(epoch, i)`` (see :class:`_EpochSampler`) keeps variable windows correct with
    worker processes too, since every worker can compute the layout of any epoch.
    """

    def __init__(
        self, streams: Tensor, bptt: int, *, variable: bool = False, seed: int = 0
    ) -> None:
        if not isinstance(streams, Tensor) or streams.dim() != 2:
            got = tuple(streams.shape) if isinstance(streams, Tensor) else type(streams).__name__
            raise ShapeError(f"streams must be a 2-D (B, L) tensor (see batchify), got {got}")
        self.streams = streams
        self.bptt = positive_int("bptt", bptt)
        self.variable = bool(variable)
        self.seed = int(seed)
        self._fixed = window_bounds(streams.shape[1], self.bptt)
        self._cache: tuple[int, list[tuple[int, int]]] = (0, self.bounds(0))

    def bounds(self, epoch: int) -> list[tuple[int, int]]:
        """The windows of ``epoch`` (the same for every epoch unless ``variable``)."""
        if not self.variable:
            return self._fixed
        return window_bounds(
            self.streams.shape[1], self.bptt, variable=True, seed=self.seed, epoch=epoch
        )

    def __len__(self) -> int:
        return len(self._fixed)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[Tensor, Tensor, Tensor]:
        epoch, index = (0, key) if isinstance(key, int | np.integer) else key
        if self._cache[0] != epoch:
            self._cache = (epoch, self.bounds(epoch))
        bounds = self._cache[1]
        if not 0 <= index < len(bounds):
            raise IndexError(f"window {index} out of range (0..{len(bounds) - 1})")
        start, stop = bounds[index]
        inputs = self.streams[:, start:stop]
        targets = self.streams[:, start + 1 : stop + 1]
        return inputs, targets, torch.tensor(index == 0)


class _EpochSampler(Sampler):
    """Yields ``(epoch, 0), (epoch, 1), ...`` in order; the epoch counts the passes made."""

    def __init__(self, dataset: StreamWindows) -> None:
        self.dataset = dataset
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        self.epoch += 1
        return iter([(epoch, i) for i in range(len(self.dataset))])


def stream_loader(
    ids: Tensor | Sequence[int],
    *,
    batch_size: int,
    bptt: int,
    variable: bool = False,
    seed: int = 0,
) -> DataLoader:
    """A DataLoader over the TBPTT windows of ``ids``, in order (pass it to ``fit`` as is).

    ``batch_size`` parallel streams, windows of ``bptt`` steps (variable, AWD-style, if asked;
    redrawn each pass from ``seed`` and the pass number).
    """
    windows = StreamWindows(batchify(ids, batch_size), bptt, variable=variable, seed=seed)
    return DataLoader(windows, batch_size=None, sampler=_EpochSampler(windows))


class CarriedState:
    """The recurrent state carried from one TBPTT window to the next, detached.

    One slot per mode (``model.training`` True or False), so validation between training epochs
    neither sees nor disturbs the training stream's state. Typical loss function::

        carry = CarriedState()

        def loss_fn(model, batch):
            inputs, targets, first = batch
            state = carry.get(model.training, reset=bool(first))
            logits, state = model(inputs, state)
            carry.put(model.training, state)
            return cross_entropy(logits, targets)

    The state may be any nesting of tuples/lists of tensors (or None).
    """

    def __init__(self) -> None:
        self._slots: dict[bool, Any] = {}

    def get(self, training: bool, *, reset: bool = False) -> Any:
        """The state to start this window from; None (zeros) at a reset or before any window."""
        if reset:
            self._slots.pop(bool(training), None)
        return self._slots.get(bool(training))

    def put(self, training: bool, state: Any) -> None:
        """Keep ``state`` (detached: gradients stop at the window boundary)."""
        self._slots[bool(training)] = detach_state(state)

    def clear(self) -> None:
        self._slots.clear()


def detach_state(state: Any) -> Any:
    """``state`` with every tensor detached (tuples and lists kept as they are)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple | list):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"a recurrent state holds tensors, tuples or lists, got {type(state).__name__}")
