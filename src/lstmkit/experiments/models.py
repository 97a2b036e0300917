"""The networks the experiments compare, and how one is saved and loaded.

``MODELS`` names them: ``lstm`` (the lstmkit LSTM with a forget gate, forget bias 1),
``lstm-peephole``, ``lstm-cifg`` (coupled input-forget gate), ``lstm-nofg`` (no forget gate: f
fixed at 1, as the 1997 LSTM, see :class:`NoForgetLSTM`), ``gru`` and ``rnn`` (vanilla tanh).
Each is one recurrent layer with a linear head, read at each sequence's last step or at every step
(:class:`SequenceModel`).

A saved experiment model is a model directory (:mod:`lstmkit.tasks.persistence`): ``config.json``
(task ``"ExperimentModel"``: the model kind, sizes, readout and the experiment that trained it) and
``weights.safetensors``, written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.nn import init as init_schemes
from lstmkit.nn.engine import reference
from lstmkit.nn.engine.base import Masks

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


class NoForgetWeights(NamedTuple):
    weight_ih: Tensor  # (3H, D), rows i, g, o
    weight_hh: Tensor  # (3H, H)
    bias_ih: Tensor | None = None
    bias_hh: Tensor | None = None


class NoForgetCell:
    """One step of the LSTM without a forget gate (f ≡ 1), the memory cell of the 1997 paper.

    The equations are :class:`lstmkit.nn.LSTMCell`'s with the forget gate removed::

        i = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        g = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = c_{t-1} + i ⊙ g        the constant error carousel: dc_t/dc_{t-1} = 1
        h_t = o ⊙ tanh(c_t)

    ``step`` has the signature of the lstmkit cells' ``step`` so that lstmkit's reference engine
    runs it (lengths, traces). lstmkit.nn has no option for this; the core option it would need is
    ``LSTM(..., forget_gate=False)`` (three gate blocks, like ``coupled_gates``).
    """

    @staticmethod
    def step(
        x_t: Tensor,
        state: tuple[Tensor, ...],
        w: NoForgetWeights,
        options: object = None,
        h_mask: Tensor | None = None,
    ) -> tuple[tuple[Tensor, Tensor], dict[str, Tensor]]:
        h_prev, c_prev = state
        h_rec = h_prev if h_mask is None else h_prev * h_mask
        z = F.linear(x_t, w.weight_ih, w.bias_ih) + F.linear(h_rec, w.weight_hh, w.bias_hh)
        z_i, z_g, z_o = z.chunk(3, dim=-1)
        i = torch.sigmoid(z_i)
        g = torch.tanh(z_g)
        o = torch.sigmoid(z_o)
        c_t = c_prev + i * g
        h_t = o * torch.tanh(c_t)
        return (h_t, c_t), {"i": i, "f": torch.ones_like(i), "g": g, "o": o}


class NoForgetLSTM(nn.Module):
    """A one-layer LSTM with the forget gate fixed at 1, with :class:`lstmkit.nn.LSTM`'s call.

    ``forward(input, hx=None, lengths=None, return_trace=False)`` returns ``(output, (h_n, c_n))``
    (plus the trace, whose ``f`` is all ones), shapes as the lstmkit layer. Runs on lstmkit's
    reference engine (a Python loop over time): slower than the other models.
    """

    mode = "LSTM"
    cell = NoForgetCell
    num_layers = 1
    num_directions = 1
    bidirectional = False
    step_options = None

    def __init__(
        self, input_size: int, hidden_size: int, batch_first: bool = False, init: str = "xavier"
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = hidden_size
        self.batch_first = batch_first
        self.init = init_schemes.check_scheme(init)
        h3 = 3 * hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(h3, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(h3, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(h3))
        self.bias_hh_l0 = nn.Parameter(torch.empty(h3))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_schemes.init_input_weight(self.weight_ih_l0, 3, self.init, self.hidden_size)
        init_schemes.init_recurrent_weight(self.weight_hh_l0, 3, self.init, self.hidden_size)
        init_schemes.init_bias(self.bias_ih_l0, self.init, self.hidden_size)
        init_schemes.init_bias(self.bias_hh_l0, self.init, self.hidden_size)

    def direction_weights(self, layer: int, direction: int) -> NoForgetWeights:
        return NoForgetWeights(
            self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0
        )

    def forward(
        self,
        input: Tensor,
        hx: tuple[Tensor, Tensor] | None = None,
        lengths: Tensor | None = None,
        *,
        return_trace: bool = False,
    ) -> tuple[Any, ...]:
        if input.dim() != 3 or input.shape[-1] != self.input_size:
            raise ShapeError(
                f"input must be 3-D with {self.input_size} features, got {tuple(input.shape)}"
            )
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, D)
        batch = x.shape[1]
        if hx is None:
            state = tuple(x.new_zeros(1, batch, self.hidden_size) for _ in range(2))
        else:
            state = tuple(hx)
        if lengths is not None:
            lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
            if int(lengths.min()) == x.shape[0]:
                lengths = None
        output, final, trace = reference.run(
            self, x, state, lengths, Masks.empty(1, 1), return_trace
        )
        if self.batch_first:
            output = output.transpose(0, 1)
            if trace is not None:
                trace = {k: v.transpose(2, 3) for k, v in trace.items()}
        result: tuple[Any, ...] = (output, (final[0], final[1]))
        return result + (trace,) if return_trace else result


def make_layer(
    kind: str, input_size: int, hidden_size: int, impl: str = "auto", forget_bias: float = 1.0
) -> nn.Module:
    """The recurrent layer of model ``kind`` (batch first).

    ``forget_bias`` initialises the forget gate's bias of the LSTMs that have one (``lstm``,
    ``lstm-peephole``, ``lstm-cifg``).
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
        return NoForgetLSTM(input_size, hidden_size, batch_first=True)
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
    ) -> None:
        super().__init__()
        if readout not in ("last", "every"):
            raise ConfigError(f"readout must be 'last' or 'every', got {readout!r}")
        self.kind = kind
        self.readout = readout
        self.rnn = make_layer(kind, input_size, hidden_size, impl, forget_bias)
        self.head = nn.Linear(hidden_size, output_size)
        self.config = {
            "model": kind,
            "input_size": input_size,
            "hidden_size": hidden_size,
            "output_size": output_size,
            "readout": readout,
            "forget_bias": float(forget_bias),
        }

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        # The layer runs over the padded batch without ``lengths``: the recurrence is causal, so
        # the output at a sequence's last step is the same either way, and torch's fused kernel
        # is several times faster without the packing that lengths need.
        out, _ = self.rnn(inputs)  # (B, T, H)
        return self.read_out(out, lengths)

    def read_out(self, out: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The head applied to the layer's output ``(B, T, H)``, at every or at the last step."""
        if self.readout == "every":
            return self.head(out)
        if lengths is None:
            last = out[:, -1]
        else:
            index = (torch.as_tensor(lengths, device=out.device) - 1).view(-1, 1, 1)
            last = out.gather(1, index.expand(-1, 1, out.shape[-1])).squeeze(1)
        return self.head(last)


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
        path, task=SAVED_TASK, config=persistence.json_safe(config), tensors=model.state_dict()
    )


def load_model(path: str | os.PathLike[str]) -> tuple[SequenceModel, dict[str, Any]]:
    """Read a model directory written by :func:`save_model`: ``(model in eval mode, config)``."""
    from lstmkit.tasks import persistence

    config, tensors, _ = persistence.load_model_dir(path, task=SAVED_TASK)
    model = build_model(config)
    persistence.load_weights(model, tensors, path)
    return model.eval(), config
