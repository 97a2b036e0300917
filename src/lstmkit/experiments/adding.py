"""The adding problem of Hochreiter & Schmidhuber (1997), generated in one vectorised pass.

Source: S. Hochreiter and J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8),
1735-1780, 1997, Section 5.4 (Experiment 4: adding problem), stated in the same words in their NIPS
paper "LSTM can solve hard long time lag problems" (NIPS 9, 1997), Experiment 1. The definition
there, and how each clause is implemented here (steps are numbered from 0 in the code):

* Each element of a sequence is a pair. The first component is a real value drawn uniformly from
  [-1, 1] (``torch.rand`` draws from [0, 1), so the values here lie in [-1, 1)). The second
  component is a marker: 1.0, 0.0 or -1.0.
* The length of a sequence is an integer drawn uniformly from [T, T + T/10] (both ends included;
  T/10 rounded down). With ``variable_length=False`` every sequence has length exactly T instead:
  a deviation from the paper, made for experiments that want one length (such as the demo).
* Exactly two pairs are marked with 1.0: first one of the first ten pairs, chosen uniformly (its
  value is X1); then one of the first T/2 - 1 still unmarked pairs, chosen uniformly (its value is
  X2). "T/2" is taken as ``T // 2`` for odd T, and it is the nominal T, not the sequence's own
  length. So X2's step is uniform over ``{0, ..., T//2 - 1}`` without X1's step.
* The markers of the other pairs are 0.0, except the first and the final pair (the sequence's own
  last step), whose markers are -1.0.
* "X1 is set to zero in the rare case where the first pair of the sequence got marked": when X1's
  step is step 0, that pair is marked (marker 1.0, it is no longer one of "the remaining pairs"
  that get -1.0) and its value in the input is 0.0, so it adds nothing. The paper names only X1
  for this rule; when X2 falls on step 0 (possible when X1 does not), that pair keeps its value
  and marker 1.0 like any marked pair.
* The target, seen only at the end of the sequence, is ``0.5 + (X1 + X2) / 4``, the sum scaled to
  [0, 1]. A sequence counts as processed correctly when the absolute error at its end is below
  0.04 (:data:`SOLVED_ERROR`).

Padding (variable lengths only): steps past a sequence's length are zeros in both components and
the tensor is ``(N, T + T//10, 2)``; ``lengths`` says where each sequence ends, which is where the
network's output is read (``lstmkit.LSTM(..., batch_first=True)(x, lengths=lengths)`` gives the
final state at each sequence's own last step).

The paper's net also saw no other inputs and learned online; how to train is up to the caller.

Statistics of the target: X1 is 0 with probability 1/10 and otherwise uniform on [-1, 1], X2 is
uniform on [-1, 1], so the target has mean 0.5 and variance ``(0.9/3 + 1/3) / 16 = 0.0395833…``
(:data:`TARGET_VARIANCE`): the mean squared error of always predicting 0.5, the baseline a network
that learned nothing reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError

#: A sequence is solved when the absolute error of the prediction at its end is below this.
SOLVED_ERROR = 0.04
#: Variance of the target (also the MSE of always predicting its mean, 0.5); see module docstring.
TARGET_VARIANCE = (0.9 / 3 + 1 / 3) / 16
#: The smallest T for which the definition holds (the final pair must lie after the first ten).
MIN_T = 11
FIRST_MARK_WITHIN = 10


@dataclass(frozen=True)
class AddingBatch:
    """Sequences of the adding problem.

    ``inputs``: ``(N, steps, 2)`` float, ``[..., 0]`` the values and ``[..., 1]`` the markers.
    ``targets``: ``(N,)`` float, ``0.5 + (X1 + X2) / 4``. ``lengths``: ``(N,)`` int64, each
    sequence's length (all equal to T unless variable lengths were asked for).
    ``marked``: ``(N, 2)`` int64, the steps of X1 and X2 (0-based).
    """

    inputs: Tensor
    targets: Tensor
    lengths: Tensor
    marked: Tensor


def adding_problem(
    num_sequences: int,
    T: int,
    *,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    variable_length: bool = True,
    dtype: torch.dtype = torch.float32,
) -> AddingBatch:
    """Draw ``num_sequences`` sequences of the adding problem with length parameter ``T``.

    Pass either ``seed`` (a fresh generator) or ``generator`` (drawn from, so successive calls give
    fresh batches); with neither, a generator seeded with 0 is used. The same seed gives the same
    sequences. See the module docstring for the exact definition.
    """
    positive_int("num_sequences", num_sequences)
    if isinstance(T, bool) or not isinstance(T, int) or T < MIN_T:
        raise ConfigError(f"T must be an int >= {MIN_T}, got {T!r}")
    if seed is not None and generator is not None:
        raise ConfigError("pass seed or generator, not both")
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))

    n = num_sequences
    rows = torch.arange(n)
    extra = T // 10 if variable_length else 0
    steps = T + extra
    if variable_length:
        lengths = T + torch.randint(0, extra + 1, (n,), generator=generator)
    else:
        lengths = torch.full((n,), T, dtype=torch.int64)

    values = torch.rand(n, steps, generator=generator, dtype=dtype).mul_(2.0).sub_(1.0)
    first = torch.randint(0, FIRST_MARK_WITHIN, (n,), generator=generator)
    # The k-th (0-based) still unmarked pair among the first T//2 - 1 of them.
    k = torch.randint(0, T // 2 - 1, (n,), generator=generator)
    second = k + (k >= first).long()

    inside = torch.arange(steps) < lengths[:, None]  # (N, steps)
    values = values * inside
    values[rows, first] = torch.where(first == 0, 0.0, values[rows, first])
    markers = torch.zeros(n, steps, dtype=dtype)
    markers[:, 0] = -1.0
    markers[rows, lengths - 1] = -1.0
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0

    targets = 0.5 + (values[rows, first] + values[rows, second]) / 4.0
    inputs = torch.stack((values, markers), dim=-1)
    return AddingBatch(inputs, targets, lengths, torch.stack((first, second), dim=1))


def solved_share(predictions: Tensor, targets: Tensor) -> float:
    """Share of sequences whose absolute error is below :data:`SOLVED_ERROR`."""
    return float(((predictions - targets).abs() < SOLVED_ERROR).double().mean())
