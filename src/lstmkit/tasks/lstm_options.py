"""The keyword options a task passes through to its :class:`lstmkit.nn.LSTM`, checked up front."""

from __future__ import annotations

from typing import Any

from lstmkit.errors import ConfigError
from lstmkit.nn import LSTM

#: Options of :class:`lstmkit.nn.LSTM` a task accepts as ``**lstm_options``; the rest of the
#: layer's arguments (sizes, layers, direction, dropout between layers) are the task's own.
LSTM_OPTIONS = (
    "peephole",
    "coupled_gates",
    "layer_norm",
    "forget_gate",
    "forget_bias",
    "proj_size",
    "recurrent_dropout",
    "zoneout",
    "init",
    "impl",
)


def check_lstm_options(
    options: dict[str, Any], allowed: tuple[str, ...] = LSTM_OPTIONS, hidden_size: int = 1
) -> dict[str, Any]:
    """A copy of ``options`` once every name is in ``allowed`` and a layer takes the values, so
    that a bad option fails when the task is made, not after its data is read."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)}; the LSTM options are {', '.join(allowed)}"
        )
    # On the meta device the layer checks every value but allocates and initialises no weights,
    # and draws nothing from torch's random generator. Its orthogonal init's QR factorisations
    # take milliseconds on an idle CPU but tenths of a second each on a busy one, for a layer
    # thrown away at once, every time a task is made or loaded.
    LSTM(1, hidden_size, device="meta", **options)
    return dict(options)


def task_lstm(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    *,
    bidirectional: bool,
    options: dict[str, Any] | None,
) -> LSTM:
    """A task network's batch-first :class:`lstmkit.nn.LSTM` with the task's checked
    ``options``: ``dropout`` acts between stacked layers, so a single layer gets none (and no
    warning that it has nothing to act on)."""
    return LSTM(
        input_size,
        hidden_size,
        num_layers,
        batch_first=True,
        bidirectional=bidirectional,
        dropout=dropout if num_layers > 1 else 0.0,
        **(options or {}),
    )
