"""Recurrent layers in a form ``torch.onnx.export(dynamo=False)`` writes with a dynamic time axis.

:func:`exportable` copies a network and replaces each :class:`lstmkit.nn.LSTM`/``GRU``/``RNN`` in
it by a stand-in, all in inference behaviour (dropout between layers, recurrent dropout and
zoneout are the identity, as in eval mode):

* ``"onnx-op"`` — the plain cells (no peephole, coupled gates, layer norm, projection, or
  ``forget_gate=False``): the weights go into a ``torch.nn.LSTM``/``GRU``/``RNN``, which the
  exporter writes as ONNX's own ``LSTM``/``GRU``/``RNN`` op (gate order and the GRU's
  ``linear_before_reset`` are the exporter's mapping); true lengths become the op's
  ``sequence_lens`` through packing. A peephole LSTM with no other variant is also written as
  ONNX's ``LSTM`` op, with its ``P`` input, by a custom autograd op whose symbolic is lstmkit's
  translation (:class:`_OnnxLSTM`).
* ``"onnx-loop"`` — every other LSTM variant: the cell's equations in a TorchScript loop over
  time, one per layer and direction, which the exporter writes as an ONNX ``Loop`` whose trip
  count is the input's time axis. True lengths mask the state (a sequence's state stops changing
  after its last step, and the reverse direction starts from zeros at it), as lstmkit's engines
  do.

:func:`route` says which a layer takes.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit.errors import ConfigError
from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.nn.cells import LN_EPS

_LAYERS = (LSTM, GRU, RNN)


def route(layer: nn.Module) -> str:
    """``"onnx-op"`` or ``"onnx-loop"``: how :func:`exportable` writes ``layer`` (module doc)."""
    if not isinstance(layer, _LAYERS):
        raise ConfigError(
            f"route() takes an lstmkit LSTM, GRU or RNN layer, got {type(layer).__name__}"
        )
    if isinstance(layer, LSTM) and not (layer.is_plain and not layer.proj_size):
        return "onnx-op" if _peephole_only(layer) else "onnx-loop"
    return "onnx-op"


def _peephole_only(layer: LSTM) -> bool:
    """A peephole LSTM that ONNX's ``LSTM`` op computes (its ``P`` input): nothing else varied."""
    o = layer.options
    return o.peephole and o.forget_gate and not (o.coupled_gates or o.layer_norm or o.proj_size)


def exportable(module: nn.Module, *, script: bool = True) -> nn.Module:
    """A copy of ``module`` in eval mode with every lstmkit recurrent layer replaced for export.

    The copy computes the same function as ``module.eval()``; ``module`` itself is not changed.
    ``script=False`` leaves the variants' loops as Python (for ``torch.export``, which unrolls
    them at the example's length).
    """
    layers = [m for m in module.modules() if isinstance(m, _LAYERS)]
    # The peephole op is a custom autograd op, which a module holding TorchScript loops cannot
    # carry through tracing; torch.export (script=False) would trace its forward only. Both
    # cases give peephole layers the loop instead.
    peephole_op = script and all(route(m) == "onnx-op" for m in layers)
    if isinstance(module, _LAYERS):
        return _replacement(module, script, peephole_op)
    out = copy.deepcopy(module).eval()
    for name, child in list(out.named_modules()):
        if isinstance(child, _LAYERS):
            parent_name, _, attr = name.rpartition(".")
            parent = out.get_submodule(parent_name) if parent_name else out
            setattr(parent, attr, _replacement(child, script, peephole_op))
    return out.eval()


def _replacement(layer: nn.Module, script: bool, peephole_op: bool) -> nn.Module:
    if isinstance(layer, LSTM) and _peephole_only(layer):
        return (_PeepholeLayer(layer) if peephole_op else _LoopLayer(layer, script)).eval()
    if route(layer) == "onnx-loop":
        return _LoopLayer(layer, script).eval()
    return _TorchLayer(layer).eval()


class _Layout(nn.Module):
    """The calling convention of lstmkit's layers: ``(input, hx=None, lengths=None)``."""

    batch_first: bool
    num_states: int
    stack: int
    state_sizes: tuple[int, ...]

    def _setup(self, layer: Any) -> None:
        self.batch_first = layer.batch_first
        self.num_states = len(layer.state_sizes)
        self.stack = layer.num_layers * layer.num_directions
        self.state_sizes = tuple(layer.state_sizes)
        # What the task code reads from its layer besides calling it.
        for name in ("input_size", "hidden_size", "num_layers", "bidirectional", "output_size"):
            setattr(self, name, getattr(layer, name))
        self.num_directions = layer.num_directions
        self.proj_size = getattr(layer, "proj_size", 0)
        # Task code reads the dtype from it (the forecaster's decoder); unused by the graph.
        self.register_buffer("weight_ih_l0", layer.weight_ih_l0.detach().clone())

    def _inputs(self, input: Tensor, hx: Any) -> tuple[Tensor, bool, tuple[Tensor, ...]]:
        unbatched = input.dim() == 2
        x = input.unsqueeze(1) if unbatched else input
        if self.batch_first and not unbatched:
            x = x.transpose(0, 1)  # (T, B, D)
        if hx is None:
            state = tuple(x.new_zeros(self.stack, x.shape[1], s) for s in self.state_sizes)
        else:
            state = (hx,) if isinstance(hx, Tensor) else tuple(hx)
            if unbatched:
                state = tuple(s.unsqueeze(1) for s in state)
        return x, unbatched, state

    def _outputs(self, y: Tensor, final: tuple[Tensor, ...], unbatched: bool) -> tuple[Any, Any]:
        if unbatched:
            y, final = y.squeeze(1), tuple(s.squeeze(1) for s in final)
        elif self.batch_first:
            y = y.transpose(0, 1)
        return y, (final if self.num_states == 2 else final[0])


class _TorchLayer(_Layout):
    """A plain lstmkit layer as the equivalent ``torch.nn`` layer (exported as ONNX's op)."""

    def __init__(self, layer: Any) -> None:
        super().__init__()
        self._setup(layer)
        kind = {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(layer.mode, nn.RNN)
        kwargs: dict[str, Any] = {}
        if kind is nn.RNN:
            kwargs["nonlinearity"] = layer.nonlinearity
        self.rnn = kind(
            layer.input_size,
            layer.hidden_size,
            num_layers=layer.num_layers,
            bias=layer.bias,
            batch_first=layer.batch_first,
            bidirectional=layer.bidirectional,
            **kwargs,
        )
        torch_names = set(self.rnn.state_dict())
        weights = {k: v for k, v in layer.state_dict().items() if k in torch_names}
        self.rnn.load_state_dict(weights)
        self.rnn.to(layer.weight_ih_l0.dtype)

    def forward(
        self, input: Tensor, hx: Any = None, lengths: Any = None, **_: Any
    ) -> tuple[Any, Any]:
        # torch's layer takes the input in the caller's layout: a transpose between packing and
        # the op leaves the exporter a tensor of unknown rank.
        unbatched = input.dim() == 2
        if hx is None:
            batch = 1 if unbatched else input.shape[0 if self.batch_first else 1]
            state = tuple(input.new_zeros(self.stack, batch, s) for s in self.state_sizes)
            if unbatched:
                state = tuple(s.squeeze(1) for s in state)
        else:
            state = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        h0: Any = state if self.num_states == 2 else state[0]
        if lengths is None or unbatched:
            y, final = self.rnn(input, h0)
        else:
            lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
            packed = pack_padded_sequence(
                input, lengths, batch_first=self.batch_first, enforce_sorted=False
            )
            y_packed, final = self.rnn(packed, h0)
            time_axis = 1 if self.batch_first else 0
            y, _ = pad_packed_sequence(
                y_packed, batch_first=self.batch_first, total_length=input.shape[time_axis]
            )
        return y, final


class _LSTMDirection(nn.Module):
    """One layer and direction of an LSTM variant: the cell's equations in a loop over time.

    Written for TorchScript (flags are constants, so scripting drops the branches not taken);
    missing weights are empty tensors that the flags never read.
    """

    __constants__ = [
        "reverse",
        "peephole",
        "coupled",
        "layer_norm",
        "forget_gate",
        "project",
        "num_gates",
        "eps",
        "hidden",
    ]

    def __init__(self, layer: LSTM, index: int, reverse: bool) -> None:
        super().__init__()
        options = layer.options
        self.reverse = reverse
        self.peephole = options.peephole
        self.coupled = options.coupled_gates
        self.layer_norm = options.layer_norm
        self.forget_gate = options.forget_gate
        self.project = options.proj_size > 0
        self.num_gates = options.num_gates
        self.eps = LN_EPS
        self.hidden = layer.hidden_size
        w = layer.direction_weights(index // layer.num_directions, index % layer.num_directions)
        rows = w.weight_ih.shape[0]
        like = w.weight_ih
        for field in w._fields:
            value = getattr(w, field)
            if value is None:
                value = like.new_zeros(rows) if field.startswith("bias") else like.new_zeros(0)
            self.register_buffer(field, value.detach().clone())

    def forward(
        self, x: Tensor, mask: Tensor, h: Tensor, c: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``x (T, B, D)``, ``mask (T, B, 1)`` true where a step is inside its sequence."""
        if self.reverse:
            x = x.flip(0)
            mask = mask.flip(0)
        z_x = F.linear(x, self.weight_ih, self.bias_ih)  # (T, B, G*H), one GEMM over all steps
        outputs: list[Tensor] = []
        for t in range(z_x.shape[0]):
            z = z_x[t] + F.linear(h, self.weight_hh, self.bias_hh)
            if self.layer_norm:
                blocks = z.reshape(z.shape[0], self.num_gates, -1)
                blocks = F.layer_norm(blocks, [self.hidden], eps=self.eps)
                z = blocks.reshape(z.shape[0], -1) * self.ln_gates_weight + self.ln_gates_bias
            parts = z.chunk(self.num_gates, dim=-1)
            if self.coupled:
                z_f, z_g, z_o = parts[0], parts[1], parts[2]
                if self.peephole:
                    z_f = z_f + self.weight_cf * c
                f = torch.sigmoid(z_f)
                c_t = f * c + (1.0 - f) * torch.tanh(z_g)
            elif self.forget_gate:
                z_i, z_f, z_g, z_o = parts[0], parts[1], parts[2], parts[3]
                if self.peephole:
                    z_i = z_i + self.weight_ci * c
                    z_f = z_f + self.weight_cf * c
                c_t = torch.sigmoid(z_f) * c + torch.sigmoid(z_i) * torch.tanh(z_g)
            else:
                z_i, z_g, z_o = parts[0], parts[1], parts[2]
                if self.peephole:
                    z_i = z_i + self.weight_ci * c
                c_t = c + torch.sigmoid(z_i) * torch.tanh(z_g)
            if self.peephole:
                z_o = z_o + self.weight_co * c_t
            c_out = c_t
            if self.layer_norm:
                c_out = F.layer_norm(
                    c_t, [self.hidden], self.ln_cell_weight, self.ln_cell_bias, self.eps
                )
            h_t = torch.sigmoid(z_o) * torch.tanh(c_out)
            if self.project:
                h_t = F.linear(h_t, self.weight_hr)
            keep = mask[t]
            h = torch.where(keep, h_t, h)
            c = torch.where(keep, c_t, c)
            outputs.append(torch.where(keep, h_t, torch.zeros_like(h_t)))
        y = torch.stack(outputs, 0)
        if self.reverse:
            y = y.flip(0)
        return y, h, c


class _LoopLayer(_Layout):
    """An LSTM variant as TorchScript loops (ONNX ``Loop``), stacked and bidirectional."""

    def __init__(self, layer: LSTM, script: bool = True) -> None:
        super().__init__()
        self._setup(layer)
        directions = [
            _LSTMDirection(layer, k, reverse=k % layer.num_directions == 1)
            for k in range(self.stack)
        ]
        with warnings.catch_warnings():
            # torch 2.13 marks TorchScript deprecated; its exporter still needs it for ONNX Loop.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.directions = nn.ModuleList(
                torch.jit.script(d) if script else d for d in directions
            )

    def forward(
        self, input: Tensor, hx: Any = None, lengths: Any = None, **_: Any
    ) -> tuple[Any, Any]:
        x, unbatched, (h0, c0) = self._inputs(input, hx)
        steps = torch.arange(x.shape[0]).unsqueeze(1)  # (T, 1)
        if lengths is None:
            mask = torch.ones_like(x[:, :, :1], dtype=torch.bool)
        else:
            lengths = torch.as_tensor(lengths).to(x.device, torch.int64)
            mask = (steps < lengths.unsqueeze(0)).unsqueeze(2)  # (T, B, 1)
        h_n, c_n = [], []
        dirs = self.num_directions
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                y, h, c = self.directions[k](x, mask, h0[k], c0[k])
                outs.append(y)
                h_n.append(h)
                c_n.append(c)
            x = torch.cat(outs, dim=2) if dirs == 2 else outs[0]
        return self._outputs(x, (torch.stack(h_n), torch.stack(c_n)), unbatched)


class _OnnxLSTM(torch.autograd.Function):
    """ONNX's ``LSTM`` op for one layer (both directions), with peepholes.

    ``forward`` returns the values computed beforehand in torch (``y``, ``h``, ``c``, in the op's
    layout), so tracing sees the right numbers; ``symbolic`` writes the op itself, whose graph
    does not read them (the exporter then drops their computation as dead code).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, x, seq_lens, h0, c0, w, r, b, p, y, h, c, hidden: int, direction: str
    ) -> tuple[Tensor, Tensor, Tensor]:
        return y.clone(), h.clone(), c.clone()

    @staticmethod
    def symbolic(g, x, seq_lens, h0, c0, w, r, b, p, y, h, c, hidden, direction):  # noqa: ANN001
        return g.op(
            "LSTM",
            x,
            w,
            r,
            b,
            seq_lens,
            h0,
            c0,
            p,
            hidden_size_i=hidden,
            direction_s=direction,
            outputs=3,
        )


# torch's gate blocks i, f, g, o -> ONNX's i, o, f, c.
_ONNX_GATES = (0, 3, 1, 2)


def _gates(t: Tensor | None, like: Tensor) -> Tensor:
    """Gate blocks (rows) in ONNX's order; a missing bias is zeros."""
    t = like.new_zeros(like.shape[0]) if t is None else t.detach()
    return torch.cat([t.chunk(4, 0)[k] for k in _ONNX_GATES], 0)


class _PeepholeLayer(_LoopLayer):
    """A peephole LSTM exported as ONNX's ``LSTM`` op (weights mapped to its layout and gate
    order, ``P`` = the peephole weights i, o, f); the loop computes the traced values."""

    def __init__(self, layer: LSTM) -> None:
        super().__init__(layer, script=False)
        dirs = layer.num_directions
        for index in range(layer.num_layers):
            ws = [layer.direction_weights(index, d) for d in range(dirs)]
            like = ws[0].weight_ih
            self.register_buffer(
                f"onnx_w{index}", torch.stack([_gates(w.weight_ih, like) for w in ws])
            )
            self.register_buffer(
                f"onnx_r{index}", torch.stack([_gates(w.weight_hh, like) for w in ws])
            )
            biases = [torch.cat([_gates(w.bias_ih, like), _gates(w.bias_hh, like)]) for w in ws]
            self.register_buffer(f"onnx_b{index}", torch.stack(biases))
            peep = [torch.cat([w.weight_ci, w.weight_co, w.weight_cf]).detach() for w in ws]
            self.register_buffer(f"onnx_p{index}", torch.stack(peep))

    def forward(
        self, input: Tensor, hx: Any = None, lengths: Any = None, **_: Any
    ) -> tuple[Any, Any]:
        x, unbatched, (h0, c0) = self._inputs(input, hx)
        if lengths is None:
            seq_lens = torch.ones_like(x[:, :, 0], dtype=torch.int32).sum(0, dtype=torch.int32)
            mask = torch.ones_like(x[:, :, :1], dtype=torch.bool)
        else:
            lengths = torch.as_tensor(lengths).to(x.device, torch.int64)
            seq_lens = lengths.to(torch.int32)
            steps = torch.arange(x.shape[0]).unsqueeze(1)  # (T, 1)
            mask = (steps < lengths.unsqueeze(0)).unsqueeze(2)  # (T, B, 1)
        dirs = self.num_directions
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            k = slice(layer * dirs, (layer + 1) * dirs)
            runs = [
                self.directions[layer * dirs + d](x, mask, h0[k][d], c0[k][d]) for d in range(dirs)
            ]
            y_t = torch.stack([run[0] for run in runs], 1)  # (T, dirs, B, H): the op's layout
            h_t = torch.stack([run[1] for run in runs])
            c_t = torch.stack([run[2] for run in runs])
            y, h, c = _OnnxLSTM.apply(
                x,
                seq_lens,
                h0[k],
                c0[k],
                getattr(self, f"onnx_w{layer}"),
                getattr(self, f"onnx_r{layer}"),
                getattr(self, f"onnx_b{layer}"),
                getattr(self, f"onnx_p{layer}"),
                y_t,
                h_t,
                c_t,
                self.hidden_size,
                "bidirectional" if dirs == 2 else "forward",
            )
            x = y.transpose(1, 2).reshape(y.shape[0], y.shape[2], -1)  # (T, B, dirs * H)
            h_n.append(h)
            c_n.append(c)
        return self._outputs(x, (torch.cat(h_n), torch.cat(c_n)), unbatched)
