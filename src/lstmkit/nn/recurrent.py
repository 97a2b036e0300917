"""Recurrent layers ``LSTM``, ``GRU`` and ``RNN``: a cell run over time.

Drop-in replacements for ``torch.nn.LSTM``/``GRU``/``RNN``: the same constructor arguments, the same
``state_dict`` names (``weight_ih_l{k}[_reverse]`` …, gates in torch's order), the same input and
state shapes (``PackedSequence`` and unbatched input included). On top of torch they add the cell
variants, recurrent (variational) dropout, zoneout, a ``lengths`` argument, a trace of every gate,
and a choice of engine (``impl``), see :mod:`lstmkit.nn.engine`.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit._checks import finite_number, positive_int, probability
from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn import engine
from lstmkit.nn import init as init_schemes
from lstmkit.nn.cells import (
    GRUCell,
    GRUWeights,
    LSTMCell,
    LSTMOptions,
    LSTMWeights,
    RNNCell,
    RNNWeights,
    check_forget_bias,
    check_nonlinearity,
    gated_parameter_shapes,
    init_gated_weights,
    init_lstm_weights,
    lstm_parameter_shapes,
)
from lstmkit.nn.engine.base import Masks

Trace = dict[str, Tensor]


class _RecurrentBase(nn.Module):
    """Everything the three layers share: checks, state, masks, layouts and the engine call.

    Subclasses set ``mode`` ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"), ``cell`` (the class whose
    ``step`` is the spec) and describe their weights.
    """

    mode: str
    cell: type[nn.Module]
    weights_type: type

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        *,
        recurrent_dropout: float,
        zoneout: float,
        init: str,
        return_trace: bool,
        impl: str,
    ) -> None:
        super().__init__()
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = probability("dropout", dropout)
        self.bidirectional = bool(bidirectional)
        self.recurrent_dropout = probability("recurrent_dropout", recurrent_dropout)
        self.zoneout = probability("zoneout", zoneout)
        self.init = init_schemes.check_scheme(init)
        self.return_trace = bool(return_trace)
        self.impl = engine.check_impl(impl)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                f"dropout={self.dropout} acts between stacked layers only, and num_layers=1",
                stacklevel=3,
            )

    # --- description of the weights ----------------------------------------------------------

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Features of ``h`` in one direction (``proj_size`` when projecting)."""
        return self.hidden_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        """Feature size of each state tensor: ``(h,)`` or ``(h, c)``."""
        return (self.hidden_size,)

    @property
    def step_options(self) -> Any:
        """What the cell's ``step`` takes as ``options``."""
        return None

    @property
    def is_plain(self) -> bool:
        """True when the cell has no variant (peephole, coupled gates, layer norm, f ≡ 1)."""
        return True

    def _direction_shapes(self, layer: int, suffix: str) -> list[tuple[str, tuple[int, ...]]]:
        raise NotImplementedError

    def _init_direction(self, suffix: str) -> None:
        raise NotImplementedError

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction == 1 else "")

    def _layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.output_size * self.num_directions

    def _register_weights(self, device: Any, dtype: Any) -> None:
        self._weight_fields: list[list[tuple[str, str]]] = []
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                suffix = self._suffix(layer, direction)
                fields = []
                for name, shape in self._direction_shapes(layer, suffix):
                    param = nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
                    self.register_parameter(name, param)
                    fields.append((name[: -len(suffix)], name))
                self._weight_fields.append(fields)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                self._init_direction(self._suffix(layer, direction))

    def direction_weights(self, layer: int, direction: int) -> Any:
        """The weights of one layer and direction, as the cell's ``step`` reads them."""
        fields = self._weight_fields[layer * self.num_directions + direction]
        return self.weights_type(**{field: getattr(self, name) for field, name in fields})

    @property
    def flat_weights(self) -> list[Tensor]:
        """torch's ``_flat_weights`` order: per layer and direction w_ih, w_hh, b_ih, b_hh, w_hr."""
        torch_fields = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return [
            getattr(self, name)
            for fields in self._weight_fields
            for field, name in fields
            if field in torch_fields
        ]

    def flatten_parameters(self) -> None:
        """Accepted for compatibility with ``torch.nn.LSTM``; weights are used where they are."""

    # --- forward ------------------------------------------------------------------------------

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Any = None,
        lengths: Tensor | list[int] | None = None,
        *,
        return_trace: bool | None = None,
    ) -> tuple[Any, ...]:
        """Run the layer over a sequence.

        Args:
            input: ``(T, B, input_size)``, or ``(B, T, input_size)`` with ``batch_first``, or
                ``(T, input_size)`` unbatched, or a ``PackedSequence``.
            hx: initial state, zeros if omitted: ``(h0, c0)`` for the LSTM, ``h0`` otherwise, each
                ``(num_layers * num_directions, B, size)`` as torch.
            lengths: ``(B,)`` true length of each sequence in a padded batch. Positions past a
                sequence's length give zeros in the output, its final state is taken at its own
                last step, and the reverse direction starts there.
            return_trace: also return the trace (overrides the constructor's setting).

        Returns:
            ``(output, h_n)`` (GRU, RNN) or ``(output, (h_n, c_n))`` (LSTM), plus the trace when
            asked: a dict of gate activations (``i, f, g, o`` or ``r, z, n``), ``c`` and ``h``, each
            ``(num_layers, num_directions, T, B, size)``, or ``(…, B, T, size)`` with
            ``batch_first`` (PackedSequence input included); zeros past each sequence's length.
        """
        want_trace = self.return_trace if return_trace is None else bool(return_trace)
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ConfigError("lengths must not be given with a PackedSequence input")
            x, lengths = pad_packed_sequence(input)
            unbatched = False
            self._check_features(x)
        else:
            x, unbatched = self._time_major(input)
        steps, batch = x.shape[0], x.shape[1]
        lengths = self._check_lengths(lengths, steps, batch, x.device)
        state = self._initial_state(hx, x, unbatched)
        masks = self._sample_masks(steps, batch, x)
        runner = engine.resolve(self.impl, self, want_trace)
        output, final, trace = runner.run(self, x, state, lengths, masks, want_trace)

        if packed:
            output = _repack(output, input)
        elif unbatched:
            output = output.squeeze(1)
            final = tuple(s.squeeze(1) for s in final)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if trace is not None:
            if unbatched:
                trace = {k: v.squeeze(3) for k, v in trace.items()}
            elif self.batch_first:
                trace = {k: v.transpose(2, 3) for k, v in trace.items()}
        result: tuple[Any, ...] = (output, self._pack_state(final))
        return result + (trace,) if want_trace else result

    def _pack_state(self, state: tuple[Tensor, ...]) -> Any:
        return state[0]

    def _check_features(self, x: Tensor) -> None:
        if not x.is_floating_point():
            raise ShapeError(f"input must be a floating-point tensor, got dtype {x.dtype}")
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"input has {x.shape[-1]} features (last dimension), "
                f"expected input_size={self.input_size}"
            )
        param = self.weight_ih_l0
        if x.dtype != param.dtype:
            raise ShapeError(
                f"input dtype {x.dtype} does not match the layer's weights ({param.dtype}); "
                f"convert one of them, e.g. layer.to({x.dtype})"
            )
        time_axis = 1 if self.batch_first and x.dim() == 3 else 0
        if x.shape[time_axis] == 0:
            raise ShapeError(
                f"input has 0 time steps (shape {tuple(x.shape)}); a sequence needs at least one"
            )
        if x.dim() == 3 and x.shape[1 - time_axis] == 0:
            raise ShapeError(
                f"input is a batch of 0 sequences (shape {tuple(x.shape)}); pass at least one"
            )

    def _time_major(self, input: Any) -> tuple[Tensor, bool]:
        if not isinstance(input, Tensor):
            raise TypeError(
                f"input must be a torch.Tensor or PackedSequence, got {type(input).__name__}"
            )
        if input.dim() not in (2, 3):
            layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
            raise ShapeError(
                f"input must be 3-D {layout} or 2-D (time, features), "
                f"got {input.dim()}-D with shape {tuple(input.shape)}"
            )
        self._check_features(input)
        if input.dim() == 2:
            return input.unsqueeze(1), True
        return (input.transpose(0, 1) if self.batch_first else input), False

    @staticmethod
    def _check_lengths(lengths: Any, steps: int, batch: int, device: Any) -> Tensor | None:
        if lengths is None:
            return None
        try:
            lengths = torch.as_tensor(lengths)
        except (TypeError, ValueError, RuntimeError):
            raise ShapeError(
                f"lengths must be integers, one per sequence, got {lengths!r}"
            ) from None
        if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
            raise ShapeError(f"lengths must hold integers, got dtype {lengths.dtype}")
        if lengths.shape != (batch,):
            raise ShapeError(
                f"lengths must have shape ({batch},), one per sequence, got {tuple(lengths.shape)}"
            )
        lengths = lengths.to("cpu", torch.int64)
        low, high = int(lengths.min()), int(lengths.max())
        if low < 1:
            raise ShapeError(f"lengths must be >= 1, got {low} (at index {int(lengths.argmin())})")
        if high > steps:
            raise ShapeError(
                f"lengths must be <= the sequence length {steps}, got {high} "
                f"(at index {int(lengths.argmax())})"
            )
        return None if low == steps else lengths

    def _initial_state(self, hx: Any, x: Tensor, unbatched: bool) -> tuple[Tensor, ...]:
        batch = x.shape[1]
        stack = self.num_layers * self.num_directions
        names = ("h0", "c0")[: len(self.state_sizes)]
        if hx is None:
            return tuple(x.new_zeros(stack, batch, size) for size in self.state_sizes)
        parts = (hx,) if isinstance(hx, Tensor) else hx
        if not isinstance(parts, tuple | list) or len(parts) != len(self.state_sizes):
            expected = "a tuple (h0, c0)" if len(names) == 2 else "a tensor h0"
            raise ShapeError(f"hx must be {expected}, got {type(hx).__name__}")
        state = []
        for part, size, name in zip(parts, self.state_sizes, names, strict=True):
            expected = (stack, size) if unbatched else (stack, batch, size)
            if not isinstance(part, Tensor) or tuple(part.shape) != expected:
                got = tuple(part.shape) if isinstance(part, Tensor) else type(part).__name__
                raise ShapeError(
                    f"{name} has shape {got}, expected {expected} "
                    "(num_layers * num_directions, batch, size)"
                )
            if part.dtype != x.dtype:
                raise ShapeError(f"{name} has dtype {part.dtype}, expected {x.dtype} like input")
            state.append(part.unsqueeze(1) if unbatched else part)
        return tuple(state)

    def _sample_masks(self, steps: int, batch: int, x: Tensor) -> Masks:
        """Draw every random mask for this call up front, so that all engines see the same ones."""
        stack = self.num_layers * self.num_directions
        masks = Masks.empty(self.num_layers, stack)
        if not self.training:
            return masks
        if self.dropout > 0:
            width = self.output_size * self.num_directions
            keep = 1.0 - self.dropout
            masks.dropout = [
                x.new_empty(steps, batch, width).bernoulli_(keep).div_(keep)
                for _ in range(self.num_layers - 1)
            ] + [None]
        if self.recurrent_dropout > 0:
            keep = 1.0 - self.recurrent_dropout
            masks.recurrent = [
                x.new_empty(batch, self.output_size).bernoulli_(keep).div_(keep)
                for _ in range(stack)
            ]
        if self.zoneout > 0:
            sizes = (self.output_size, *self.state_sizes[1:])
            masks.zoneout = [
                tuple(torch.rand(steps, batch, s, device=x.device) < self.zoneout for s in sizes)
                for _ in range(stack)
            ]
        return masks

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        defaults = {
            "num_layers": 1,
            "bias": True,
            "batch_first": False,
            "dropout": 0.0,
            "bidirectional": False,
            "recurrent_dropout": 0.0,
            "zoneout": 0.0,
            "init": "xavier",
            "impl": "auto",
        }
        defaults.update(self._extra_defaults())
        for name, default in defaults.items():
            value = getattr(self, name)
            if value != default:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)

    def _extra_defaults(self) -> dict[str, Any]:
        return {}


def _repack(output: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack a time-major padded output with exactly the batch layout of the input."""
    lengths = torch.zeros(output.shape[1], dtype=torch.int64)
    for step, size in enumerate(like.batch_sizes.tolist()):
        lengths[:size] = step + 1
    sorted_output = output if like.sorted_indices is None else output[:, like.sorted_indices]
    data = pack_padded_sequence(sorted_output, lengths, enforce_sorted=True).data
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


class LSTM(_RecurrentBase):
    """A multi-layer LSTM over a sequence; see :class:`lstmkit.nn.LSTMCell` for the equations.

    Arguments up to ``proj_size`` are ``torch.nn.LSTM``'s. The rest:

    * ``peephole``, ``coupled_gates``, ``layer_norm``, ``forget_gate``, ``forget_bias`` — cell
      variants, see :class:`~lstmkit.nn.LSTMCell`. ``forget_gate=False`` is the 1997 cell (f ≡ 1);
      the fused engine runs it (``impl="auto"`` picks it), torch's native op has no such cell.
    * ``recurrent_dropout`` — variational dropout on ``h_{t-1}`` where it enters the recurrent
      weights: one mask per sequence and layer, reused at every step (Gal & Ghahramani, 2016).
    * ``zoneout`` — at each step each unit of h and of c keeps its previous value with this
      probability (Krueger et al., 2017); training only, identity in eval mode.
    * ``init`` — ``"xavier"`` (Glorot input, orthogonal recurrent), ``"he"`` or ``"torch"``.
    * ``return_trace`` — also return every gate's activations, c and h for every step and layer.
    * ``impl`` — ``"auto"``, ``"reference"``, ``"fused"`` (``"fused:numba"``, ``"fused:torch"``
      force its path) or ``"native"``; see
      :mod:`lstmkit.nn.engine`.
    """

    mode = "LSTM"
    cell = LSTMCell
    weights_type = LSTMWeights

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: torch.dtype | None = None,
        *,
        peephole: bool = False,
        coupled_gates: bool = False,
        layer_norm: bool = False,
        forget_gate: bool = True,
        forget_bias: float = 1.0,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        init: str = "xavier",
        return_trace: bool = False,
        impl: str = "auto",
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            init=init,
            return_trace=return_trace,
            impl=impl,
        )
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ConfigError(f"proj_size must be an int >= 0, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ConfigError(
                f"proj_size must be smaller than hidden_size={hidden_size}, got {proj_size}"
            )
        self.proj_size = proj_size
        self.peephole = bool(peephole)
        self.coupled_gates = bool(coupled_gates)
        self.layer_norm = bool(layer_norm)
        self.forget_gate = bool(forget_gate)
        self.forget_bias = finite_number("forget_bias", forget_bias)
        check_forget_bias(self.options, self.forget_bias)  # also rejects coupled + no forget gate
        self._register_weights(device, dtype)

    @property
    def options(self) -> LSTMOptions:
        return LSTMOptions(
            self.peephole,
            self.coupled_gates,
            self.layer_norm,
            self.proj_size,
            forget_gate=self.forget_gate,
        )

    step_options = options

    @property
    def output_size(self) -> int:
        return self.proj_size or self.hidden_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.output_size, self.hidden_size)

    @property
    def is_plain(self) -> bool:
        return self.options.is_plain

    def _direction_shapes(self, layer: int, suffix: str) -> list[tuple[str, tuple[int, ...]]]:
        return lstm_parameter_shapes(
            self._layer_input_size(layer), self.hidden_size, self.bias, self.options, suffix
        )

    def _init_direction(self, suffix: str) -> None:
        init_lstm_weights(self, suffix, self.hidden_size, self.options, self.init, self.forget_bias)

    def _pack_state(self, state: tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        return state[0], state[1]

    def _extra_defaults(self) -> dict[str, Any]:
        return {
            "proj_size": 0,
            "peephole": False,
            "coupled_gates": False,
            "layer_norm": False,
            "forget_gate": True,
            "forget_bias": 1.0,
        }


class GRU(_RecurrentBase):
    """A multi-layer GRU over a sequence; see :class:`lstmkit.nn.GRUCell` for the equations.

    Arguments up to ``bidirectional`` are ``torch.nn.GRU``'s; ``recurrent_dropout``, ``zoneout``
    (on h), ``init``, ``return_trace`` and ``impl`` are as for :class:`LSTM`.
    """

    mode = "GRU"
    cell = GRUCell
    weights_type = GRUWeights

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: torch.dtype | None = None,
        *,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        init: str = "xavier",
        return_trace: bool = False,
        impl: str = "auto",
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            init=init,
            return_trace=return_trace,
            impl=impl,
        )
        self._register_weights(device, dtype)

    def _direction_shapes(self, layer: int, suffix: str) -> list[tuple[str, tuple[int, ...]]]:
        return gated_parameter_shapes(
            self._layer_input_size(layer), self.hidden_size, self.bias, 3, suffix
        )

    def _init_direction(self, suffix: str) -> None:
        init_gated_weights(self, suffix, self.hidden_size, 3, self.init)


class RNN(_RecurrentBase):
    """A multi-layer vanilla (Elman) RNN; see :class:`lstmkit.nn.RNNCell`.

    Arguments up to ``bidirectional`` are ``torch.nn.RNN``'s (``nonlinearity`` "tanh" or "relu");
    ``recurrent_dropout``, ``zoneout``, ``init``, ``return_trace`` and ``impl`` are as for
    :class:`LSTM`.
    """

    cell = RNNCell
    weights_type = RNNWeights

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: torch.dtype | None = None,
        *,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        init: str = "xavier",
        return_trace: bool = False,
        impl: str = "auto",
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            init=init,
            return_trace=return_trace,
            impl=impl,
        )
        self.nonlinearity = check_nonlinearity(nonlinearity)
        self._register_weights(device, dtype)

    @property
    def mode(self) -> str:  # type: ignore[override]
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"

    @property
    def step_options(self) -> str:
        return self.nonlinearity

    def _direction_shapes(self, layer: int, suffix: str) -> list[tuple[str, tuple[int, ...]]]:
        return gated_parameter_shapes(
            self._layer_input_size(layer), self.hidden_size, self.bias, 1, suffix
        )

    def _init_direction(self, suffix: str) -> None:
        init_gated_weights(self, suffix, self.hidden_size, 1, self.init)

    def _extra_defaults(self) -> dict[str, Any]:
        return {"nonlinearity": "tanh"}
