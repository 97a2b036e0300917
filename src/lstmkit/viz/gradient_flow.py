"""The vanishing gradient, drawn: ``‖∂L/∂h_t‖`` (and ``‖∂L/∂c_t‖``) against t for one sequence.

For a loss ``L`` read at the end of a sequence, the gradient that reaches the state at step t
tells how much an input at step t can still change what the network learns. In a vanilla RNN it
shrinks roughly geometrically with the distance to the end; in an LSTM the cell state carries it
back (``∂c_t/∂c_{t-1} = f_t``, close to 1 when the forget gate is open) — Hochreiter &
Schmidhuber (1997), Section 3 and Section 4 (the constant error carousel).

:func:`state_gradients` unrolls a layer step by step through its cell's ``step`` (the same
equations every lstmkit engine implements), keeping every per-step state in the autograd graph, and
returns the norm of the loss gradient with respect to each ``h_t`` and ``c_t``.
:func:`plot_gradient_flow` draws several such curves on one log-scale plot;
:func:`lstmkit.experiments.vanishing.vanishing_gradient_plot` does both for fresh models on the
adding problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError, ShapeError


@dataclass
class GradientFlow:
    """Per-step gradient norms of one layer over one batch (mean over the batch of each norm).

    ``h``: ``(T,)`` ``‖∂L/∂h_t‖``; ``c``: ``(T,)`` ``‖∂L/∂c_t‖`` for an LSTM, else None.
    """

    h: Tensor
    c: Tensor | None = None


def _unroll(layer: nn.Module, x: Tensor) -> tuple[Tensor, list[list[tuple[Tensor, ...]]]]:
    """Run ``layer`` over time-major ``x`` (T, B, D) one cell step at a time.

    Returns the top layer's output (T, B, H) and, per layer, the list of per-step states, each
    with ``retain_grad()`` so that its gradient is kept after ``backward``.
    """
    if getattr(layer, "bidirectional", False):
        raise ConfigError("gradient flow is drawn for unidirectional layers only")
    cell = getattr(layer, "cell", None)
    if cell is None or not hasattr(cell, "step") or not hasattr(layer, "direction_weights"):
        raise ConfigError(
            f"{type(layer).__name__} is not an lstmkit recurrent layer (it has no cell step to "
            "unroll); use lstmkit.nn.LSTM, GRU or RNN"
        )
    steps, batch = x.shape[0], x.shape[1]
    sizes = tuple(getattr(layer, "state_sizes", (layer.hidden_size, layer.hidden_size)))
    if getattr(layer, "mode", "") != "LSTM":
        sizes = sizes[:1]
    states_per_layer: list[list[tuple[Tensor, ...]]] = []
    layer_input = x
    for k in range(int(getattr(layer, "num_layers", 1))):
        weights = layer.direction_weights(k, 0)
        state: tuple[Tensor, ...] = tuple(x.new_zeros(batch, s) for s in sizes)
        outputs, states = [], []
        for t in range(steps):
            state, _ = cell.step(layer_input[t], state, weights, layer.step_options)
            for s in state:
                s.retain_grad()
            states.append(state)
            outputs.append(state[0])
        states_per_layer.append(states)
        layer_input = torch.stack(outputs)
    return layer_input, states_per_layer


def state_gradients(
    layer: nn.Module,
    inputs: Tensor,
    loss_fn: Callable[[Tensor], Tensor] | None = None,
    *,
    layer_index: int = -1,
    seed: int = 0,
) -> GradientFlow:
    """``‖∂L/∂h_t‖`` and ``‖∂L/∂c_t‖`` for every step t of one layer of ``layer``.

    Args:
        layer: an lstmkit ``LSTM``, ``GRU`` or ``RNN`` (unidirectional), or a layer with the same
            ``cell.step`` / ``direction_weights`` interface.
        inputs: ``(T, D)`` one sequence, or a batch in the layer's layout.
        loss_fn: maps the top layer's output, batch first ``(B, T, H)``, to a scalar loss. Default:
            the projection of the last step's output on a fixed random unit vector (seeded by
            ``seed``), averaged over the batch — a loss read at the end of the sequence.
        layer_index: which layer's states (default the top one).
    """
    if not isinstance(inputs, Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
    batch_first = bool(getattr(layer, "batch_first", False))
    if inputs.dim() == 2:
        x = inputs.unsqueeze(1)
    elif inputs.dim() == 3:
        x = inputs.transpose(0, 1) if batch_first else inputs
    else:
        raise ShapeError(f"inputs must be 2-D or 3-D, got shape {tuple(inputs.shape)}")
    x = x.detach()
    was_training = layer.training
    layer.eval()
    try:
        with torch.enable_grad():
            out, states = _unroll(layer, x)
            out_bf = out.transpose(0, 1)  # (B, T, H)
            if loss_fn is None:
                g = torch.Generator().manual_seed(seed)
                u = torch.randn(out.shape[-1], generator=g, dtype=out.dtype)
                u = u / u.norm()
                loss = (out_bf[:, -1] @ u).mean()
            else:
                loss = loss_fn(out_bf)
            if loss.dim() != 0:
                raise ShapeError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
            loss.backward()
    finally:
        layer.train(was_training)
    chosen = states[layer_index]

    def norms(position: int) -> Tensor:
        rows = []
        for state in chosen:
            grad = state[position].grad
            rows.append(torch.zeros(()) if grad is None else grad.norm(dim=-1).mean())
        return torch.stack(rows).detach()

    return GradientFlow(norms(0), norms(1) if len(chosen[0]) > 1 else None)


def plot_gradient_flow(
    flows: Mapping[str, GradientFlow],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    normalize: bool = True,
) -> Path:
    """Draw ``‖∂L/∂h_t‖`` (solid) and ``‖∂L/∂c_t‖`` (dashed) against t for each named flow.

    With ``normalize`` each curve is divided by its value at the last step, so that the plot reads
    as "how much of the gradient at the end is left at step t" (log scale).
    """
    from lstmkit.viz._figure import new_figure, save_png

    if not flows:
        raise ConfigError("flows must hold at least one named GradientFlow")
    fig = new_figure(9.0, 4.5)
    ax = fig.subplots()
    tiny = 1e-30  # log scale: exact zeros (gradients that vanished in float) are drawn at the floor
    for k, (name, flow) in enumerate(flows.items()):
        colour = f"C{k}"
        for values, style, what in ((flow.h, "-", "h"), (flow.c, "--", "c")):
            if values is None:
                continue
            v = values.double()
            if normalize and float(v[-1]) > 0:
                v = v / v[-1]
            ax.plot(
                range(len(v)), v.clamp_min(tiny), style, color=colour, label=f"{name}: ∂L/∂{what}_t"
            )
    ax.set_yscale("log")
    ax.set_xlabel("time step t (the loss is read at the last step)")
    ax.set_ylabel("‖∂L/∂state_t‖" + (" / value at the last step" if normalize else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(title or "Gradient of the loss with respect to the state at each step")
    return save_png(fig, path)


def model_gradient_flow(
    model: Any, inputs: Tensor, loss_of_outputs: Callable[[Tensor], Tensor], lengths: Any = None
) -> GradientFlow:
    """Gradient flow of an experiments :class:`~lstmkit.experiments.models.SequenceModel`: its
    layer is unrolled, its head applied (``read_out``), and ``loss_of_outputs`` scores the result.
    """
    return state_gradients(
        model.rnn, inputs, lambda out: loss_of_outputs(model.read_out(out, lengths))
    )


__all__ = [
    "GradientFlow",
    "model_gradient_flow",
    "plot_gradient_flow",
    "state_gradients",
]
