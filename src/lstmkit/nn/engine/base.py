"""What every engine shares: the random masks of one call, and the loop over layers and directions.

An engine that runs one direction of one layer at a time (``reference``, ``fused``) hands a
``run_direction`` function to :func:`run_stack`; stacking, dropout between layers and collecting the
final states and traces happen here once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor


class EngineLayer(Protocol):
    """What an engine reads from a recurrent layer (``lstmkit.nn.LSTM``, ``GRU``, ``RNN``)."""

    mode: str  # torch's name of the op: "LSTM", "GRU", "RNN_TANH", "RNN_RELU" (native only)
    cell: Any  # the cell class; its ``kind`` ("lstm", "gru", "rnn") is the dispatch key
    num_layers: int
    bidirectional: bool
    bias: bool
    dropout: float
    recurrent_dropout: float
    zoneout: float
    training: bool

    @property
    def num_directions(self) -> int: ...

    @property
    def options(self) -> Any: ...  # LSTM only: its LSTMOptions, read when not ``is_plain``

    @property
    def step_options(self) -> Any: ...  # what the cell's ``step`` takes as ``options``

    @property
    def is_plain(self) -> bool: ...

    @property
    def flat_weights(self) -> list[Tensor]: ...

    def direction_weights(self, layer: int, direction: int) -> Any: ...

    def parameters(self) -> Iterator[Tensor]: ...


class Engine(Protocol):
    """An engine (a module): its name, what it cannot run, and the run itself."""

    NAME: str

    def unsupported(self, layer: EngineLayer, want_trace: bool) -> str | None: ...

    def run(
        self,
        layer: EngineLayer,
        x: Tensor,
        state: tuple[Tensor, ...],
        lengths: Tensor | None,
        masks: Masks,
        want_trace: bool,
    ) -> tuple[Tensor, tuple[Tensor, ...], dict[str, Tensor] | None]: ...


@dataclass
class Masks:
    """The random masks of one forward call, drawn by the layer so that every engine sees the same.

    * ``dropout[k]`` — ``(T, B, features)`` scaled keep-mask on layer k's output (k < L-1), or None.
    * ``recurrent[i]`` — ``(B, P)`` scaled keep-mask on ``h_{t-1}`` for layer-direction i, or None.
    * ``zoneout[i]`` — a bool ``(T, B, size)`` per state tensor (h, then c), True where the unit
      keeps its previous value, for layer-direction i; or None.
    """

    dropout: list[Tensor | None] = field(default_factory=list)
    recurrent: list[Tensor | None] = field(default_factory=list)
    zoneout: list[tuple[Tensor, ...] | None] = field(default_factory=list)

    @classmethod
    def empty(cls, num_layers: int, num_stacked: int) -> Masks:
        return cls([None] * num_layers, [None] * num_stacked, [None] * num_stacked)


DirectionResult = tuple[Tensor, tuple[Tensor, ...], dict[str, Tensor] | None]


@dataclass(frozen=True)
class Direction:
    """One direction of one layer, as :func:`run_stack` hands it to an engine."""

    cell: Any  # the cell class: its ``step`` is the spec, its ``kind`` the dispatch key
    weights: Any  # the cell's weights tuple (LSTMWeights, GRUWeights, RNNWeights)
    options: Any  # what the cell's ``step`` takes as ``options``
    lengths: Tensor | None  # (B,)
    reverse: bool
    h_mask: Tensor | None  # (B, P), scaled keep-mask on h_{t-1} (recurrent dropout)
    zoneout: tuple[Tensor, ...] | None  # each (T, B, size), True = keep previous
    want_trace: bool
    impl: str = ""  # the layer's impl: "fused:numba" / "fused:torch" force fused's path
    #: ``(t, state) -> state`` applied to the previous state before step ``t`` (the reference
    #: engine only: GRU-D's hidden-state decay, :class:`lstmkit.nn.HiddenDecay`); past a
    #: sequence's end the state still stays as it was before the hook
    before_step: Callable[[int, tuple[Tensor, ...]], tuple[Tensor, ...]] | None = None

    def valid(self, x: Tensor) -> Tensor | None:
        """(T, B, 1): True where step t of ``x`` is inside sequence b; None without lengths."""
        if self.lengths is None:
            return None
        steps = x.shape[0]
        return (torch.arange(steps)[:, None] < self.lengths[None, :]).to(x.device)[..., None]


# run_direction(x, state, direction): one direction over time-major x (T, B, D) from state (each
# (B, size)) -> (output (T, B, P), final state, trace or None).
RunDirection = Callable[[Tensor, tuple[Tensor, ...], Direction], DirectionResult]


def run_stack(
    layer: Any,
    x: Tensor,
    state: tuple[Tensor, ...],
    lengths: Tensor | None,
    masks: Masks,
    want_trace: bool,
    *,
    run_direction: RunDirection,
) -> tuple[Tensor, tuple[Tensor, ...], dict[str, Tensor] | None]:
    """Run every layer and direction of ``layer`` over time-major ``x`` (T, B, D).

    ``run_direction(x, state0, direction)`` returns ``(output (T, B, P), final state, trace or
    None)`` for one :class:`Direction`. An engine that runs one direction at a time has
    ``run = functools.partial(run_stack, run_direction=its_run_direction)``.
    """
    num_dirs = layer.num_directions
    finals: list[list[Tensor]] = [[] for _ in state]
    traces: list[dict[str, Tensor] | None] = []
    layer_input = x
    for k in range(layer.num_layers):
        outputs = []
        for d in range(num_dirs):
            idx = k * num_dirs + d
            direction = Direction(
                layer.cell,
                layer.direction_weights(k, d),
                layer.step_options,
                lengths,
                d == 1,
                masks.recurrent[idx],
                masks.zoneout[idx],
                want_trace,
                getattr(layer, "impl", ""),
            )
            out, final, trace = run_direction(layer_input, tuple(s[idx] for s in state), direction)
            outputs.append(out)
            for acc, s in zip(finals, final, strict=True):
                acc.append(s)
            traces.append(trace)
        layer_input = outputs[0] if num_dirs == 1 else torch.cat(outputs, dim=-1)
        if masks.dropout[k] is not None:
            layer_input = layer_input * masks.dropout[k]
    final_state = tuple(torch.stack(acc) for acc in finals)
    return layer_input, final_state, _stack_traces(traces, layer.num_layers, num_dirs)


def _stack_traces(
    traces: list[dict[str, Tensor] | None], num_layers: int, num_dirs: int
) -> dict[str, Tensor] | None:
    """Per-direction traces (T, B, size) -> one dict of (L, D, T, B, size)."""
    if not traces or traces[0] is None:
        return None
    return {
        key: torch.stack(
            [
                torch.stack([traces[k * num_dirs + d][key] for d in range(num_dirs)])
                for k in range(num_layers)
            ]
        )
        for key in traces[0]
    }
