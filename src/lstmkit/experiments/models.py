"""The networks the experiments compare, and how one is saved and loaded.

``MODELS`` names them: ``lstm`` (the lstmkit LSTM with a forget gate, forget bias 1),
``lstm-peephole``, ``lstm-cifg`` (coupled input-forget gate), ``lstm-nofg`` (no forget gate: f
fixed at 1, as the 1997 LSTM; ``LSTM(..., forget_gate=False)``), ``gru`` and ``rnn`` (vanilla
tanh).
Each is one recurrent layer with a linear head, read at each sequence's last step or at every step
(:class:`SequenceModel`).

A saved experiment model is a model directory (:mod:`lstmkit.tasks.persistence`): ``config.json``
(task ``"ExperimentModel"``: the model kind, sizes, readout and the experiment that trained it) and
``weights.safetensors``, written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError
from lstmkit.nn import GRU, LSTM, RNN

MODELS: tuple[str, ...] = ("lstm", "lstm-peephole", "lstm-cifg", "lstm-nofg", "gru", "rnn")
MODEL_LABELS = {
    "lstm": "LSTM",
    "lstm-peephole": "LSTM (peephole)",
    "lstm-cifg": "LSTM (coupled gates)",
    "lstm-nofg": "LSTM (no forget gate)",
    "gru": "GRU",
    "rnn": "vanilla RNN",
}
SAVED_TASK = "ExperimentModel"


def make_layer(
    kind: str, input_size: int, hidden_size: int, impl: str = "auto", forget_bias: float = 1.0
) -> nn.Module:
    """The recurrent layer of model ``kind`` (batch first).

    ``forget_bias`` initialises the forget gate's bias of the LSTMs that have one (``lstm``,
    ``lstm-peephole``, ``lstm-cifg``); ``lstm-nofg`` has none and does not take it. Torch has
    no such cell: ``impl="auto"`` runs it on the fused engine.
    """
    fb = float(forget_bias)
    if kind == "lstm":
        return LSTM(input_size, hidden_size, batch_first=True, impl=impl, forget_bias=fb)
    if kind == "lstm-peephole":
        return LSTM(
            input_size, hidden_size, batch_first=True, peephole=True, impl=impl, forget_bias=fb
        )
    if kind == "lstm-cifg":
        return LSTM(
            input_size, hidden_size, batch_first=True, coupled_gates=True, impl=impl, forget_bias=fb
        )
    if kind == "lstm-nofg":
        # Same state_dict as the experiment-side NoForgetLSTM this replaces (weight_ih_l0 …,
        # three gate blocks i, g, o), so models saved before still load.
        return LSTM(input_size, hidden_size, batch_first=True, forget_gate=False, impl=impl)
    if kind == "gru":
        return GRU(input_size, hidden_size, batch_first=True, impl=impl)
    if kind == "rnn":
        return RNN(input_size, hidden_size, nonlinearity="tanh", batch_first=True, impl=impl)
    raise ConfigError(f"unknown model {kind!r}; expected one of {', '.join(MODELS)}")


class SequenceModel(nn.Module):
    """One recurrent layer and a linear head.

    ``readout="last"``: ``(B, T, D) -> (B, output_size)`` from the hidden state at each sequence's
    own last step (``lengths``; the last padded step when omitted).
    ``readout="every"``: ``(B, T, D) -> (B, T, output_size)``.

    ``direct=True`` adds connections from the input straight to the output (a second linear map
    ``direct``, summed with the head), as the 1997 paper's net for the long-lag task 2a had ("each
    layer receives connections from all layers below"). With it, ``memory_on`` switches the
    recurrent path off (False: the output is ``direct(x)`` alone) so a runner can add the memory
    once the direct connections have learned what they can, as the paper did (Section 5.2).
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        readout: str,
        impl: str = "auto",
        forget_bias: float = 1.0,
        direct: bool = False,
    ) -> None:
        super().__init__()
        if readout not in ("last", "every"):
            raise ConfigError(f"readout must be 'last' or 'every', got {readout!r}")
        self.kind = kind
        self.readout = readout
        self.rnn = make_layer(kind, input_size, hidden_size, impl, forget_bias)
        self.head = nn.Linear(hidden_size, output_size)
        self.direct = nn.Linear(input_size, output_size) if direct else None
        self.memory_on = True
        self.config = {
            "model": kind,
            "input_size": input_size,
            "hidden_size": hidden_size,
            "output_size": output_size,
            "readout": readout,
            "forget_bias": float(forget_bias),
            "direct": bool(direct),
        }

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        # The layer runs over the padded batch without ``lengths``: the recurrence is causal, so
        # the output at a sequence's last step is the same either way, and torch's fused kernel
        # is several times faster without the packing that lengths need.
        shortcut = None
        if self.direct is not None:
            shortcut = self.read_out(inputs, lengths, self.direct)
            if not self.memory_on:
                return shortcut
        out, _ = self.rnn(inputs)  # (B, T, H)
        read = self.read_out(out, lengths)
        return read if shortcut is None else read + shortcut

    def add_memory(self) -> None:
        """Switch the recurrent path on with a zero head, so adding it leaves the outputs as they
        were and only the errors that the direct connections cannot remove train it."""
        if not self.memory_on:
            with torch.no_grad():
                self.head.weight.zero_()
                self.head.bias.zero_()
            self.memory_on = True

    def read_out(
        self, out: Tensor, lengths: Tensor | None = None, head: nn.Module | None = None
    ) -> Tensor:
        """The head applied to the layer's output ``(B, T, H)``, at every or at the last step."""
        head = self.head if head is None else head
        if self.readout == "every":
            return head(out)
        if lengths is None:
            last = out[:, -1]
        else:
            index = (torch.as_tensor(lengths, device=out.device) - 1).view(-1, 1, 1)
            last = out.gather(1, index.expand(-1, 1, out.shape[-1])).squeeze(1)
        return head(last)


def init_uniform(
    model: SequenceModel,
    interval: float,
    input_gate_bias: tuple[float, ...] = (),
    output_gate_bias: tuple[float, ...] = (),
) -> SequenceModel:
    """Initialise ``model`` the 1997 paper's way, in place: every weight and bias uniform in
    ``[-interval, interval]`` (the paper: 0.2 for Experiments 1-2, 0.1 for the others), then the
    LSTM's input- and output-gate biases set to the given values, cycled over the hidden units
    (the paper sets them per cell block, e.g. -3 and -6 for the adding problem's two blocks).
    Gate biases apply to the LSTMs with an input gate (``lstm``, ``lstm-peephole``,
    ``lstm-nofg``); a GRU or vanilla RNN gets the uniform part only. Returns ``model``.
    """
    if not interval > 0:
        raise ConfigError(f"interval must be > 0, got {interval!r}")
    with torch.no_grad():
        for weight in model.parameters():
            weight.uniform_(-interval, interval)
        options = getattr(model.rnn, "options", None)
        if options is None:
            return model
        names = options.gate_names
        hidden = model.rnn.hidden_size
        for gate, values in (("i", input_gate_bias), ("o", output_gate_bias)):
            if not values or gate not in names:
                continue
            k = names.index(gate)
            cycle = torch.tensor(values, dtype=torch.float32).repeat(hidden // len(values) + 1)
            for name in ("bias_ih_l0", "bias_hh_l0"):
                bias = getattr(model.rnn, name)
                block = bias[k * hidden : (k + 1) * hidden]
                # the two biases add up; the whole value goes into bias_ih
                block.copy_(cycle[:hidden] if name == "bias_ih_l0" else torch.zeros(hidden))
    return model


def build_model(config: dict[str, Any]) -> SequenceModel:
    """Rebuild a :class:`SequenceModel` from its ``config`` (fresh weights)."""
    try:
        return SequenceModel(
            config["model"],
            int(config["input_size"]),
            int(config["hidden_size"]),
            int(config["output_size"]),
            config["readout"],
            forget_bias=float(config.get("forget_bias", 1.0)),
            direct=bool(config.get("direct", False)),
        )
    except KeyError as err:
        raise ConfigError(f"model config lacks {err.args[0]!r}") from None


def save_model(
    model: SequenceModel, path: str | os.PathLike[str], extra: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` as a model directory (atomic); ``extra`` joins its config."""
    from lstmkit.tasks import persistence

    config = {**model.config, **(extra or {})}
    return persistence.save_model_dir(
        path, task=SAVED_TASK, config=config, tensors=model.state_dict()
    )


def load_model(path: str | os.PathLike[str]) -> tuple[SequenceModel, dict[str, Any]]:
    """Read a model directory written by :func:`save_model`: ``(model in eval mode, config)``."""
    from lstmkit.tasks import persistence

    config, tensors, _ = persistence.load_model_dir(path, task=SAVED_TASK)
    model = build_model(config)
    persistence.load_weights(model, tensors, path)
    return model.eval(), config
