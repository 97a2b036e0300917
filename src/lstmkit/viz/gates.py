"""Heatmaps of what a recurrent layer does over one input sequence: gates, cell state, output.

:func:`plot_gates` runs the layer with ``return_trace=True`` (see :class:`lstmkit.nn.LSTM`) and
draws one heatmap per traced quantity — ``i, f, g, o, c, h`` for an LSTM, ``r, z, n, h`` for a
GRU, ``h`` for a vanilla RNN — with time on the x axis and units on the y axis, under a heatmap of
the input itself. Gates (in [0, 1]) share one colour scale; ``g``, ``n`` and ``h`` (in [-1, 1])
another; the cell state ``c`` is unbounded and gets a symmetric scale of its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError, ShapeError

GATE_KEYS = ("i", "f", "o", "r", "z")  # sigmoid gates, in [0, 1]
SIGNED_KEYS = ("g", "n", "h")  # tanh-valued, in [-1, 1]
ORDER = ("i", "f", "g", "o", "r", "z", "n", "c", "h")
NAMES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "c": "cell state c",
    "h": "hidden state h",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
}


def _batch_in_layout(layer: nn.Module, inputs: Tensor) -> Tensor:
    if not isinstance(inputs, Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
    if inputs.dim() == 2:  # one sequence (T, D)
        return inputs.unsqueeze(0 if getattr(layer, "batch_first", False) else 1)
    if inputs.dim() != 3:
        raise ShapeError(
            f"inputs must be one sequence (time, features) or a batch in the layer's layout, "
            f"got shape {tuple(inputs.shape)}"
        )
    return inputs


@torch.no_grad()
def gate_trace(
    layer: nn.Module,
    inputs: Tensor,
    *,
    layer_index: int = 0,
    direction: int = 0,
    sample: int = 0,
) -> dict[str, Tensor]:
    """The traced quantities of one sequence: ``{key: (T, size)}`` for one layer and direction.

    ``layer`` is an lstmkit recurrent layer (``LSTM``, ``GRU``, ``RNN``) or anything with the same
    ``return_trace`` keyword. ``inputs`` is one sequence ``(T, input_size)`` or a batch in the
    layer's layout, of which ``sample`` is drawn. Runs in eval mode (no dropout).
    """
    x = _batch_in_layout(layer, inputs)
    batch_first = bool(getattr(layer, "batch_first", False))
    batch = x.shape[0] if batch_first else x.shape[1]
    if not 0 <= sample < batch:
        raise ConfigError(f"sample must be in [0, {batch}), got {sample}")
    num_layers = int(getattr(layer, "num_layers", 1))
    if not 0 <= layer_index < num_layers:
        raise ConfigError(f"layer_index must be in [0, {num_layers}), got {layer_index}")
    directions = 2 if getattr(layer, "bidirectional", False) else 1
    if not 0 <= direction < directions:
        raise ConfigError(f"direction must be in [0, {directions}), got {direction}")
    was_training = layer.training
    layer.eval()
    try:
        result = layer(x, return_trace=True)
    except TypeError as err:
        if "return_trace" not in str(err):
            raise
        raise ConfigError(
            f"{type(layer).__name__} cannot return a trace of its gates; use an lstmkit layer "
            "(lstmkit.nn.LSTM, GRU or RNN; it loads a torch.nn.LSTM's state_dict as is)"
        ) from None
    finally:
        layer.train(was_training)
    trace = result[-1]
    # (L, D, T, B, size), or (L, D, B, T, size) with batch_first
    return {
        key: (
            value[layer_index, direction, sample]
            if batch_first
            else value[layer_index, direction, :, sample]
        )
        .detach()
        .cpu()
        for key, value in trace.items()
    }


def plot_gates(
    layer: nn.Module,
    inputs: Tensor,
    path: str | os.PathLike[str],
    *,
    layer_index: int = 0,
    direction: int = 0,
    sample: int = 0,
    max_units: int = 64,
    title: str | None = None,
    input_labels: list[str] | None = None,
) -> Path:
    """Write heatmaps of every traced quantity of ``layer`` over one sequence to ``path`` (PNG).

    See :func:`gate_trace` for ``inputs``, ``layer_index``, ``direction`` and ``sample``. At most
    ``max_units`` units are drawn per quantity (the first ones). ``input_labels`` names the input
    features (rows of the top heatmap).
    """
    from lstmkit.viz._figure import new_figure, save_png

    positive_int("max_units", max_units)
    trace = gate_trace(layer, inputs, layer_index=layer_index, direction=direction, sample=sample)
    x = _batch_in_layout(layer, inputs)
    seq = x[sample] if getattr(layer, "batch_first", False) else x[:, sample]  # (T, D)
    keys = [k for k in ORDER if k in trace]
    steps = seq.shape[0]
    rows = 1 + len(keys)
    fig = new_figure(max(8.0, min(16.0, 4.0 + steps / 25)), 1.6 + 1.5 * rows)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    _heatmap(fig, axes[0], seq.detach().cpu().T, "input x", "coolwarm", None, input_labels)
    for ax, key in zip(axes[1:], keys, strict=True):
        values = trace[key][:, :max_units].T  # (units, T)
        if key in GATE_KEYS:
            _heatmap(fig, ax, values, NAMES[key], "viridis", (0.0, 1.0))
        elif key in SIGNED_KEYS:
            _heatmap(fig, ax, values, NAMES.get(key, key), "RdBu_r", (-1.0, 1.0))
        else:
            bound = float(values.abs().max()) or 1.0
            _heatmap(fig, ax, values, NAMES.get(key, key), "RdBu_r", (-bound, bound))
    axes[-1].set_xlabel("time step t")
    name = type(layer).__name__
    fig.suptitle(title or f"{name}: layer {layer_index}, direction {direction}, sequence {sample}")
    return save_png(fig, path)


def _heatmap(
    fig: Any,
    ax: Any,
    values: Tensor,
    label: str,
    cmap: str,
    limits: tuple[float, float] | None,
    row_labels: list[str] | None = None,
) -> None:
    data = values.float().numpy()
    kwargs: dict[str, Any] = {"aspect": "auto", "interpolation": "nearest", "cmap": cmap}
    if limits is not None:
        kwargs.update(vmin=limits[0], vmax=limits[1])
    image = ax.imshow(data, **kwargs)
    ax.set_ylabel(label, fontsize=8)
    if row_labels is not None and len(row_labels) == data.shape[0] and len(row_labels) <= 24:
        ax.set_yticks(range(len(row_labels)), row_labels, fontsize=6)
    fig.colorbar(image, ax=ax, pad=0.01, fraction=0.03)


__all__ = ["gate_trace", "plot_gates"]
