"""GRU-D's hidden-state decay (Che et al. 2018, "Recurrent neural networks for multivariate time
series with missing values", Sci. Rep. 8:6085) around lstmkit's LSTM and GRU layers.

Before each step the previous hidden state decays, the more the longer ago the inputs were seen::

    γ_t     = exp(-max(0, W_γ δ_t + b_γ))        W_γ (H, F), b_γ (H,), one pair per layer and
    h_{t-1} <- γ_t ⊙ h_{t-1}                      direction; δ_t (F,) the time since each
                                                  channel's last observation before step t

then the cell's own step runs (:meth:`lstmkit.nn.LSTMCell.step`, :meth:`lstmkit.nn.GRUCell.step`,
so every cell variant the wrapped layer has is kept). With ``W_γ = 0``, ``b_γ = 0`` (or δ = 0 and
``b_γ <= 0``) γ is 1 and the layer is the wrapped one.

LSTM: only ``h`` decays by default, as GRU-D's one state does. ``h`` is what the gates read from
the past; ``c`` is the memory the forget gate already scales at every step, and decaying it too
would make a long gap erase what the cell chose to keep. ``decay_cell=True`` decays ``c`` by the
same γ as well, for those who want the gap to reach the memory.

Backward direction: it reads the sequence from its end, so its δ is the mirror of GRU-D's: the
time from step t to the channel's next observation after t (to the sequence's last step when
there is none, and 0 at the last step). :func:`backward_deltas` computes it from the observed
mask and the forward δ.

The loop over time is the reference engine's (:func:`lstmkit.nn.engine.reference.run_direction`,
a Python loop, autograd for gradients), with the decay as its ``before_step``: the state is
changed between steps, which the fused kernels and torch's native op do not allow, so this layer
runs at the reference engine's speed whatever the wrapped layer's ``impl`` says.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn.engine import reference
from lstmkit.nn.engine.base import Direction
from lstmkit.nn.recurrent import GRU, LSTM


def backward_deltas(mask: Tensor, deltas: Tensor, lengths: Tensor | None = None) -> Tensor:
    """The backward direction's δ: time from step t to each channel's next observation.

    ``mask`` and ``deltas`` are ``(B, T, F)``: the observed mask (1 observed) and GRU-D's
    forward δ (``δ_0 = 0``; ``δ_t = s_t - s_{t-1}`` after an observed step, ``s_t - s_{t-1} +
    δ_{t-1}`` after a missing one). The time between steps is recovered from them
    (``s_{t+1} - s_t = δ_{t+1} - (1 - m_t) δ_t``), so any scaling of δ carries over. The mirror
    definition, with ``L`` each sequence's length: ``δ'_{L-1} = 0``; ``δ'_t = s_{t+1} - s_t``
    before an observed step, ``s_{t+1} - s_t + δ'_{t+1}`` before a missing one; 0 past ``L``.
    """
    if mask.shape != deltas.shape or deltas.dim() != 3:
        raise ShapeError(
            f"mask and deltas must both be (batch, time, features), got {tuple(mask.shape)} and "
            f"{tuple(deltas.shape)}"
        )
    steps = deltas.shape[1]
    missing = 1.0 - mask.to(deltas.dtype)
    gap = deltas[:, 1:] - missing[:, :-1] * deltas[:, :-1]  # s_{t+1} - s_t, (B, T-1, F)
    last = torch.full((deltas.shape[0],), steps - 1, dtype=torch.int64, device=deltas.device)
    if lengths is not None:
        last = torch.as_tensor(lengths, device=deltas.device).to(torch.int64) - 1
    out: list[Tensor] = [deltas.new_zeros(deltas.shape[0], deltas.shape[2])] * steps
    for t in range(steps - 2, -1, -1):
        following = gap[:, t] + missing[:, t + 1] * out[t + 1]
        before_end = (t < last).unsqueeze(-1)
        out[t] = torch.where(before_end, following, torch.zeros_like(following))
    return torch.stack(out, dim=1)


class HiddenDecay(nn.Module):
    """A GRU-D hidden-state decay around a one-directional or bidirectional ``LSTM`` or ``GRU``.

    ``layer(x, deltas, lengths=None, deltas_backward=None)`` with ``x (B, T, input_size)``,
    ``deltas (B, T, n_deltas)`` (and, bidirectional, ``deltas_backward`` the same shape, see
    :func:`backward_deltas`) returns what the wrapped layer returns: ``(output, (h_n, c_n))``
    for the LSTM, ``(output, h_n)`` for the GRU, ``output (B, T, directions * size)``, zero
    past each sequence's length, ``h_n`` at each sequence's own last step (the backward
    direction's after step 0), shaped ``(num_layers * directions, B, size)``.

    Args:
        rnn: the layer whose weights, cell variant, sizes and direction are used (its weights
            stay under its own names, ``rnn.weight_ih_l0`` …). Batch-first or not, the input
            here is batch-first. ``zoneout`` is not supported; ``recurrent_dropout`` and the
            dropout between layers act as in the layer.
        n_deltas: channels ``F`` of δ.
        decay_cell: LSTM only: decay ``c`` by the same γ as ``h`` (module docstring).
        init_weight: ``W_γ`` starts uniform in ``[0, 2 init_weight / F]`` (mean ``init_weight /
            F``, so ``W_γ δ`` is about ``init_weight`` per unit of δ) and ``b_γ`` at 0. Positive so
            that ``W_γ δ + b_γ > 0`` where ``δ > 0`` and the decay gets a gradient from the
            start (``max(0, ·)`` has none below 0).
    """

    def __init__(
        self,
        rnn: LSTM | GRU,
        n_deltas: int,
        *,
        decay_cell: bool = False,
        init_weight: float = 0.1,
    ) -> None:
        super().__init__()
        if not isinstance(rnn, LSTM | GRU):
            raise ConfigError(f"rnn must be an lstmkit.nn.LSTM or GRU, got {type(rnn).__name__}")
        n_deltas = positive_int("n_deltas", n_deltas)
        if rnn.zoneout > 0:
            raise ConfigError(
                f"HiddenDecay does not support zoneout (the layer has zoneout={rnn.zoneout}); "
                "use recurrent_dropout or dropout"
            )
        if decay_cell and not isinstance(rnn, LSTM):
            raise ConfigError("decay_cell=True is for an LSTM: a GRU has no cell state")
        if decay_cell and rnn.proj_size:
            raise ConfigError(
                f"decay_cell=True needs h and c of one size; proj_size={rnn.proj_size} makes h "
                f"{rnn.proj_size} and c {rnn.hidden_size} wide"
            )
        self.rnn = rnn
        self.n_deltas = n_deltas
        self.decay_cell = bool(decay_cell)
        size = rnn.output_size
        param = rnn.weight_ih_l0
        for layer in range(rnn.num_layers):
            for direction in range(rnn.num_directions):
                suffix = rnn._suffix(layer, direction)
                weight = torch.empty(size, n_deltas, dtype=param.dtype, device=param.device)
                nn.init.uniform_(weight, 0.0, 2.0 * float(init_weight) / n_deltas)
                self.register_parameter("weight" + suffix, nn.Parameter(weight))
                bias = torch.zeros(size, dtype=param.dtype, device=param.device)
                self.register_parameter("bias" + suffix, nn.Parameter(bias))

    @property
    def output_size(self) -> int:
        """Features of ``h`` in one direction, as the wrapped layer's."""
        return self.rnn.output_size

    def gamma(self, deltas: Tensor, layer: int = 0, direction: int = 0) -> Tensor:
        """``γ = exp(-max(0, W_γ δ + b_γ))`` in (0, 1], ``(..., F) -> (..., size)``."""
        suffix = self.rnn._suffix(layer, direction)
        z = F.linear(deltas, getattr(self, "weight" + suffix), getattr(self, "bias" + suffix))
        return torch.exp(-torch.relu(z))

    def forward(
        self,
        x: Tensor,
        deltas: Tensor,
        lengths: Tensor | list[int] | None = None,
        deltas_backward: Tensor | None = None,
    ) -> tuple[Tensor, Any]:
        rnn = self.rnn
        self._check_inputs(x, deltas, deltas_backward)
        batch, steps = x.shape[0], x.shape[1]
        valid_lengths = rnn._check_lengths(lengths, steps, batch, x.device)
        by_direction = (deltas, deltas_backward)
        finals: list[tuple[Tensor, ...]] = []
        layer_input = x
        for layer in range(rnn.num_layers):
            if layer and rnn.dropout > 0 and self.training:
                layer_input = F.dropout(layer_input, rnn.dropout, training=True)
            outputs = []
            for direction in range(rnn.num_directions):
                gammas = self.gamma(by_direction[direction], layer, direction)  # (B, T, size)
                out, final = self._run_direction(
                    layer_input, gammas, valid_lengths, layer, direction
                )
                outputs.append(out)
                finals.append(final)
            layer_input = torch.cat(outputs, dim=-1)
        stacked = tuple(torch.stack(parts) for parts in zip(*finals, strict=True))
        return layer_input, (stacked if isinstance(rnn, LSTM) else stacked[0])

    def _run_direction(
        self, x: Tensor, gammas: Tensor, lengths: Tensor | None, layer: int, direction: int
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One layer and direction over time: ``(B, T, size)`` outputs and the final state, by
        the reference engine's loop with the decay applied before each step."""
        rnn = self.rnn
        batch = x.shape[0]
        state = tuple(x.new_zeros(batch, size) for size in rnn.state_sizes)
        h_mask = None
        if self.training and rnn.recurrent_dropout > 0:
            keep = 1.0 - rnn.recurrent_dropout
            h_mask = x.new_empty(batch, rnn.output_size).bernoulli_(keep).div_(keep)
        g_time = gammas.transpose(0, 1)  # (T, B, size)

        def decay(t: int, prev: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            g = g_time[t]
            if self.decay_cell:
                return (prev[0] * g, prev[1] * g)
            return (prev[0] * g, *prev[1:])

        plan = Direction(
            rnn.cell,
            rnn.direction_weights(layer, direction),
            rnn.step_options,
            lengths,
            direction == 1,
            h_mask,
            None,
            False,
            before_step=decay,
        )
        out, final, _ = reference.run_direction(x.transpose(0, 1), state, plan)
        return out.transpose(0, 1), final

    def _check_inputs(self, x: Tensor, deltas: Tensor, deltas_backward: Tensor | None) -> None:
        rnn = self.rnn
        if not isinstance(x, Tensor) or x.dim() != 3:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ShapeError(f"x must be a (batch, time, {rnn.input_size}) tensor, got {got}")
        if x.shape[-1] != rnn.input_size:
            raise ShapeError(f"x has {x.shape[-1]} features, expected input_size={rnn.input_size}")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ShapeError(f"x must hold at least one sequence of one step, got {tuple(x.shape)}")
        if x.dtype != rnn.weight_ih_l0.dtype:
            raise ShapeError(
                f"x has dtype {x.dtype}, expected {rnn.weight_ih_l0.dtype} like the layer's weights"
            )
        expected = (x.shape[0], x.shape[1], self.n_deltas)
        named = [("deltas", deltas)]
        if rnn.bidirectional:
            if deltas_backward is None:
                raise ShapeError(
                    "a bidirectional layer needs deltas_backward (the time to the next "
                    "observation; lstmkit.nn.hidden_decay.backward_deltas computes it)"
                )
            named.append(("deltas_backward", deltas_backward))
        elif deltas_backward is not None:
            raise ShapeError("deltas_backward is for a bidirectional layer; this one is not")
        for name, value in named:
            got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            if not isinstance(value, Tensor) or tuple(value.shape) != expected:
                raise ShapeError(
                    f"{name} must have shape {expected} (batch, time, n_deltas) like x, got {got}"
                )
            if value.dtype != x.dtype:
                raise ShapeError(f"{name} has dtype {value.dtype}, expected {x.dtype} like x")

    def extra_repr(self) -> str:
        extra = ", decay_cell=True" if self.decay_cell else ""
        return f"n_deltas={self.n_deltas}{extra}"


__all__ = ["HiddenDecay", "backward_deltas"]
