"""One time step of each recurrent cell: ``LSTMCell``, ``GRUCell``, ``RNNCell``.

A cell is a pure step. Its ``step`` static method takes the input at one time step, the previous
state and the weights, and returns the new state; the cell module only owns weights for stand-alone
use. Layers in :mod:`lstmkit.nn.recurrent` keep their weights under ``torch.nn.LSTM``'s names and
call the same ``step``, so the equations are written once.

State is always a tuple whose first element is the hidden state: ``(h, c)`` for the LSTM, ``(h,)``
for the GRU and the vanilla RNN.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit._checks import finite_number, int_at_least, positive_int
from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn import init as init_schemes

LN_EPS = 1e-5

State = tuple[Tensor, ...]


@dataclass(frozen=True)
class LSTMOptions:
    """The structural variants of the LSTM cell (everything that changes its equations).

    ``forget_gate`` comes last so that positional construction written before it existed still
    means the same thing.
    """

    peephole: bool = False
    coupled_gates: bool = False
    layer_norm: bool = False
    proj_size: int = 0
    forget_gate: bool = True

    def __post_init__(self) -> None:
        # Checked here, once, so that the cell and the layer (which both build their options
        # through this class) reject the combination with the same message.
        if self.coupled_gates and not self.forget_gate:
            raise ConfigError(
                "coupled_gates=True needs a forget gate (CIFG ties the input gate to it, "
                "i = 1 - f), got forget_gate=False; use one of coupled_gates=True or "
                "forget_gate=False, not both"
            )

    @property
    def gate_names(self) -> tuple[str, ...]:
        """Gates present in the stacked weight matrices, in row order (torch's i, f, g, o)."""
        if self.coupled_gates:
            return ("f", "g", "o")
        if not self.forget_gate:
            return ("i", "g", "o")
        return ("i", "f", "g", "o")

    @property
    def num_gates(self) -> int:
        return len(self.gate_names)

    @property
    def is_plain(self) -> bool:
        """True when the cell is exactly ``torch.nn.LSTM``'s (projection included)."""
        return self.forget_gate and not (self.peephole or self.coupled_gates or self.layer_norm)


class LSTMWeights(NamedTuple):
    """The tensors one LSTM step reads; optional ones are ``None`` when their variant is off.

    ``G`` is the number of gate blocks (4, or 3 with coupled gates or without a forget gate),
    ``H`` the hidden size, ``P`` the size of ``h`` (``proj_size`` when projecting, else ``H``),
    ``D`` the input size.
    """

    weight_ih: Tensor  # (G*H, D)
    weight_hh: Tensor  # (G*H, P)
    bias_ih: Tensor | None = None  # (G*H,)
    bias_hh: Tensor | None = None  # (G*H,)
    weight_hr: Tensor | None = None  # (P, H)
    weight_ci: Tensor | None = None  # (H,) peephole c_{t-1} -> i
    weight_cf: Tensor | None = None  # (H,) peephole c_{t-1} -> f
    weight_co: Tensor | None = None  # (H,) peephole c_t -> o
    ln_gates_weight: Tensor | None = None  # (G*H,)
    ln_gates_bias: Tensor | None = None  # (G*H,)
    ln_cell_weight: Tensor | None = None  # (H,)
    ln_cell_bias: Tensor | None = None  # (H,)


class GRUWeights(NamedTuple):
    weight_ih: Tensor  # (3H, D), rows r, z, n
    weight_hh: Tensor  # (3H, H)
    bias_ih: Tensor | None = None
    bias_hh: Tensor | None = None


class RNNWeights(NamedTuple):
    weight_ih: Tensor  # (H, D)
    weight_hh: Tensor  # (H, H)
    bias_ih: Tensor | None = None
    bias_hh: Tensor | None = None


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    return F.linear(x, weight, bias)


def gate_layer_norm(z: Tensor, num_gates: int, weight: Tensor, bias: Tensor) -> Tensor:
    """Normalise each gate's block of pre-activations on its own, then scale and shift."""
    batch = z.shape[:-1]
    z = z.reshape(*batch, num_gates, -1)
    z = F.layer_norm(z, z.shape[-1:], eps=LN_EPS)
    return z.reshape(*batch, -1) * weight + bias


class _Cell(nn.Module):
    """Shared stand-alone plumbing: state defaults and input checks for one step."""

    state_size: int = 1
    # What the engines dispatch on: "lstm", "gru" or "rnn" (lstmkit.nn.engine).
    kind: str = ""
    # What step() takes: LSTMWeights, GRUWeights or RNNWeights, filled by weights().
    weights_type: ClassVar[type[LSTMWeights | GRUWeights | RNNWeights]]

    def _setup(
        self, input_size: int, hidden_size: int, bias: bool, init: str, proj_size: int = 0
    ) -> None:
        """``nn.Module.__init__``, then the sizes, bias and init scheme every cell checks and
        keeps."""
        super().__init__()
        _check_sizes(input_size, hidden_size, proj_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.init = init_schemes.check_scheme(init)

    def _add_parameters(
        self, shapes: Iterable[tuple[str, tuple[int, ...]]], device: object, dtype: object
    ) -> None:
        """Register the (empty) parameters ``shapes`` names, then initialise them."""
        for name, shape in shapes:
            self.register_parameter(name, _empty_parameter(shape, device, dtype))
        self.reset_parameters()

    def weights(self) -> LSTMWeights | GRUWeights | RNNWeights:
        """The cell's parameters as :meth:`step` takes them (None where absent)."""
        return self.weights_type(*(getattr(self, f, None) for f in self.weights_type._fields))

    def _check_step_input(self, x_t: Tensor) -> None:
        if not isinstance(x_t, Tensor):
            raise TypeError(f"x_t must be a torch.Tensor, got {type(x_t).__name__}")
        if x_t.dim() not in (1, 2):
            raise ShapeError(
                f"x_t must have shape (batch, input_size) or (input_size,), got {tuple(x_t.shape)}"
            )
        if x_t.shape[-1] != self.input_size:
            raise ShapeError(
                f"x_t has {x_t.shape[-1]} features, expected input_size={self.input_size}"
            )
        # Checked here so that a mismatch names the cause instead of failing inside a matmul.
        if not x_t.is_floating_point():
            raise ShapeError(f"x_t must be a floating-point tensor, got dtype {x_t.dtype}")
        if x_t.dtype != self.weight_ih.dtype:
            raise ShapeError(
                f"x_t has dtype {x_t.dtype}, expected {self.weight_ih.dtype} like the cell's "
                f"weights; convert one of them, e.g. cell.to({x_t.dtype})"
            )


class LSTMCell(_Cell):
    r"""One step of a Long Short-Term Memory cell.

    With :math:`x_t` the input, :math:`h_{t-1}` and :math:`c_{t-1}` the previous hidden and cell
    states, :math:`\sigma` the logistic function and :math:`\odot` the elementwise product::

        i   = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi [+ w_ci ⊙ c_{t-1}])   input gate
        f   = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf [+ w_cf ⊙ c_{t-1}])   forget gate
        g   = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)                   candidate
        c_t = f ⊙ c_{t-1} + i ⊙ g                                           cell state
        o   = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho [+ w_co ⊙ c_t])       output gate
        h_t = o ⊙ tanh(c_t)                                                 hidden state

    The variants, each an option rather than a copy of the cell:

    * ``peephole`` — the bracketed diagonal terms: the cell state looks into the gates
      (:math:`c_{t-1}` into i and f, :math:`c_t` into o; Gers & Schmidhuber, 2000).
    * ``coupled_gates`` (CIFG) — no input gate of its own: ``i = 1 - f``. The weight matrices then
      hold three gate blocks, f, g, o, instead of four.
    * ``forget_gate=False`` — the 1997 cell (Hochreiter & Schmidhuber): no forget gate, f ≡ 1, so
      ``c_t = c_{t-1} + i ⊙ g`` (the constant error carousel). The weight matrices hold three gate
      blocks, i, g, o; with ``peephole`` there is no ``w_cf``. Excludes ``coupled_gates``, which
      ties i to f. Traces still report ``f``, as ones.
    * ``layer_norm`` — each gate's pre-activation (everything inside σ or tanh except the peephole
      term) is layer-normalised on its own and then scaled and shifted by learned ``ln_gates_*``;
      ``h_t = o ⊙ tanh(LN(c_t))`` with learned ``ln_cell_*`` (Ba et al., 2016). ``c_t`` itself is
      carried un-normalised.
    * ``proj_size`` (LSTMP; Sak et al., 2014) — ``h_t = W_hr (o ⊙ tanh(c_t))``, so h has
      ``proj_size`` features and ``W_h*`` read the projected state, exactly as ``torch.nn.LSTM``.

    Weights follow ``torch.nn.LSTMCell``: ``weight_ih`` stacks the gate blocks in the order
    i, f, g, o (f, g, o with coupled gates; i, g, o without a forget gate), and there are two
    biases. ``forget_bias`` is added to the forget gate's bias at initialisation (to the layer-norm
    shift with ``layer_norm``), so that the cell starts out remembering (Gers et al., 2000;
    Jozefowicz et al., 2015). With ``bias=False`` and no layer norm there is no bias to carry it,
    and it has no effect; without a forget gate there is nothing to carry it either, it is ignored,
    and a value other than the default 1.0 warns.
    """

    state_size = 2
    kind = "lstm"
    weights_type = LSTMWeights

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        peephole: bool = False,
        coupled_gates: bool = False,
        layer_norm: bool = False,
        proj_size: int = 0,
        forget_gate: bool = True,
        forget_bias: float = 1.0,
        init: str = "xavier",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self._setup(input_size, hidden_size, bias, init, proj_size)
        self.forget_bias = finite_number("forget_bias", forget_bias)
        self.options = LSTMOptions(
            peephole, coupled_gates, layer_norm, proj_size, forget_gate=bool(forget_gate)
        )
        check_forget_bias(self.options, self.forget_bias)
        shapes = lstm_parameter_shapes(input_size, hidden_size, bias, self.options)
        self._add_parameters(shapes, device, dtype)

    @property
    def output_size(self) -> int:
        return self.options.proj_size or self.hidden_size

    def reset_parameters(self) -> None:
        init_lstm_weights(self, "", self.hidden_size, self.options, self.init, self.forget_bias)

    @staticmethod
    def step(
        x_t: Tensor,
        state: State,
        w: LSTMWeights,
        options: LSTMOptions,
        h_mask: Tensor | None = None,
    ) -> tuple[State, dict[str, Tensor]]:
        """One step of the equations above: ``(h_t, c_t)`` and the gates ``i, f, g, o``.

        ``h_mask`` (recurrent dropout) multiplies ``h_{t-1}`` where it enters ``W_h*`` only.
        Without a forget gate the returned ``f`` is ones, so that traces keep one shape.
        """
        h_prev, c_prev = state
        h_rec = h_prev if h_mask is None else h_prev * h_mask
        z = _linear(x_t, w.weight_ih, w.bias_ih) + _linear(h_rec, w.weight_hh, w.bias_hh)
        if options.layer_norm:
            z = gate_layer_norm(z, options.num_gates, w.ln_gates_weight, w.ln_gates_bias)
        blocks = dict(zip(options.gate_names, z.chunk(options.num_gates, dim=-1), strict=True))
        z_g, z_o = blocks["g"], blocks["o"]
        f = None
        if options.forget_gate:
            z_f = blocks["f"]
            if options.peephole:
                z_f = z_f + w.weight_cf * c_prev
            f = torch.sigmoid(z_f)
        if options.coupled_gates:
            i = 1.0 - f
        else:
            z_i = blocks["i"]
            if options.peephole:
                z_i = z_i + w.weight_ci * c_prev
            i = torch.sigmoid(z_i)
        g = torch.tanh(z_g)
        if f is None:
            # f ≡ 1: the cell state is carried over unscaled, dc_t/dc_{t-1} = 1.
            c_t = c_prev + i * g
            f = torch.ones_like(i)
        else:
            c_t = f * c_prev + i * g
        if options.peephole:
            z_o = z_o + w.weight_co * c_t
        o = torch.sigmoid(z_o)
        c_out = c_t
        if options.layer_norm:
            c_out = F.layer_norm(c_t, c_t.shape[-1:], w.ln_cell_weight, w.ln_cell_bias, LN_EPS)
        h_t = o * torch.tanh(c_out)
        if options.proj_size:
            h_t = _linear(h_t, w.weight_hr, None)
        return (h_t, c_t), {"i": i, "f": f, "g": g, "o": o}

    def forward(
        self, x_t: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """``cell(x_t, (h_prev, c_prev)) -> (h_t, (h_t, c_t))``; a missing state means zeros."""
        self._check_step_input(x_t)
        unbatched = x_t.dim() == 1
        if unbatched:
            x_t = x_t.unsqueeze(0)
        shapes = (self.output_size, self.hidden_size)
        state = _step_state(state, x_t, shapes, unbatched, ("h_prev", "c_prev"))
        (h_t, c_t), _ = self.step(x_t, state, self.weights(), self.options)
        if unbatched:
            h_t, c_t = h_t.squeeze(0), c_t.squeeze(0)
        return h_t, (h_t, c_t)

    def extra_repr(self) -> str:
        return _extra_repr(self, self.options)


class _SingleStateCell(_Cell):
    """The GRU and RNN cells: one state ``h`` (the output), ``num_blocks`` weight blocks."""

    num_blocks: int = 1

    def _build(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        init: str,
        device: object,
        dtype: object,
    ) -> None:
        self._setup(input_size, hidden_size, bias, init)
        shapes = gated_parameter_shapes(input_size, hidden_size, bias, self.num_blocks)
        self._add_parameters(shapes, device, dtype)

    output_size = property(lambda self: self.hidden_size)

    def reset_parameters(self) -> None:
        init_gated_weights(self, "", self.hidden_size, self.num_blocks, self.init)


class GRUCell(_SingleStateCell):
    r"""One step of a Gated Recurrent Unit (Cho et al., 2014), as ``torch.nn.GRUCell``::

    r   = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z   = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    n   = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn))  candidate
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
    """

    kind = "gru"
    weights_type = GRUWeights
    num_blocks = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        init: str = "xavier",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self._build(input_size, hidden_size, bias, init, device, dtype)

    @staticmethod
    def step(
        x_t: Tensor,
        state: State,
        w: GRUWeights,
        options: object = None,
        h_mask: Tensor | None = None,
    ) -> tuple[State, dict[str, Tensor]]:
        """One step of the equations above: ``(h_t,)`` and the gates ``r, z, n``.

        ``h_mask`` (recurrent dropout) multiplies ``h_{t-1}`` where it enters ``W_h*`` only; the
        interpolation ``z ⊙ h_{t-1}`` keeps the undropped state.
        """
        (h_prev,) = state
        h_rec = h_prev if h_mask is None else h_prev * h_mask
        x_r, x_z, x_n = _linear(x_t, w.weight_ih, w.bias_ih).chunk(3, dim=-1)
        h_r, h_z, h_n = _linear(h_rec, w.weight_hh, w.bias_hh).chunk(3, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        h_t = (1.0 - z) * n + z * h_prev
        return (h_t,), {"r": r, "z": z, "n": n}

    def forward(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``cell(x_t, h_prev) -> (h_t, h_t)``; a missing state means zeros."""
        return _single_state_forward(self, x_t, state)


class RNNCell(_SingleStateCell):
    r"""One step of the vanilla (Elman) RNN, as ``torch.nn.RNNCell``::

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)      (or ReLU with nonlinearity="relu")
    """

    kind = "rnn"
    weights_type = RNNWeights

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        init: str = "xavier",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self._build(input_size, hidden_size, bias, init, device, dtype)
        self.nonlinearity = check_nonlinearity(nonlinearity)

    @staticmethod
    def step(
        x_t: Tensor,
        state: State,
        w: RNNWeights,
        options: str = "tanh",
        h_mask: Tensor | None = None,
    ) -> tuple[State, dict[str, Tensor]]:
        """One step of the equation above; ``options`` is the nonlinearity. No gates to trace."""
        (h_prev,) = state
        h_rec = h_prev if h_mask is None else h_prev * h_mask
        a = _linear(x_t, w.weight_ih, w.bias_ih) + _linear(h_rec, w.weight_hh, w.bias_hh)
        h_t = torch.relu(a) if options == "relu" else torch.tanh(a)
        return (h_t,), {}

    def forward(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``cell(x_t, h_prev) -> (h_t, h_t)``; a missing state means zeros."""
        return _single_state_forward(self, x_t, state, self.nonlinearity)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


# --- shared helpers (used by the layers too) -------------------------------------------------


def _empty_parameter(shape: tuple[int, ...], device: object, dtype: object) -> nn.Parameter:
    return nn.Parameter(torch.empty(shape, device=device, dtype=dtype))


def check_nonlinearity(nonlinearity: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ConfigError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity


def _check_sizes(input_size: int, hidden_size: int, proj_size: int) -> None:
    positive_int("input_size", input_size)
    positive_int("hidden_size", hidden_size)
    int_at_least("proj_size", proj_size, 0)
    if proj_size >= hidden_size:
        raise ConfigError(
            f"proj_size must be smaller than hidden_size={hidden_size}, got {proj_size}"
        )


def lstm_parameter_shapes(
    input_size: int, hidden_size: int, bias: bool, options: LSTMOptions, suffix: str = ""
) -> list[tuple[str, tuple[int, ...]]]:
    """Names (with ``suffix``, e.g. ``_l0_reverse``) and shapes of one LSTM direction's weights.

    The first entries are in ``torch.nn.LSTM``'s order (w_ih, w_hh, b_ih, b_hh, w_hr), so a plain
    configuration lines up with torch's flat weight list.
    """
    gh = options.num_gates * hidden_size
    p = options.proj_size or hidden_size
    shapes = [("weight_ih", (gh, input_size)), ("weight_hh", (gh, p))]
    if bias:
        shapes += [("bias_ih", (gh,)), ("bias_hh", (gh,))]
    if options.proj_size:
        shapes.append(("weight_hr", (options.proj_size, hidden_size)))
    if options.peephole:
        if not options.coupled_gates:
            shapes.append(("weight_ci", (hidden_size,)))
        if options.forget_gate:
            shapes.append(("weight_cf", (hidden_size,)))
        shapes.append(("weight_co", (hidden_size,)))
    if options.layer_norm:
        shapes += [("ln_gates_weight", (gh,)), ("ln_gates_bias", (gh,))]
        shapes += [("ln_cell_weight", (hidden_size,)), ("ln_cell_bias", (hidden_size,))]
    return [(name + suffix, shape) for name, shape in shapes]


def gated_parameter_shapes(
    input_size: int, hidden_size: int, bias: bool, num_gates: int, suffix: str = ""
) -> list[tuple[str, tuple[int, ...]]]:
    """Names and shapes of one GRU (3 gate blocks) or RNN (1 block) direction's weights."""
    gh = num_gates * hidden_size
    shapes = [("weight_ih", (gh, input_size)), ("weight_hh", (gh, hidden_size))]
    if bias:
        shapes += [("bias_ih", (gh,)), ("bias_hh", (gh,))]
    return [(name + suffix, shape) for name, shape in shapes]


@torch.no_grad()
def init_lstm_weights(
    module: nn.Module,
    suffix: str,
    hidden_size: int,
    options: LSTMOptions,
    scheme: str,
    forget_bias: float,
) -> None:
    """Initialise one LSTM direction's weights in place (see :mod:`lstmkit.nn.init`)."""

    def get(name: str) -> Tensor | None:
        return getattr(module, name + suffix, None)

    num_gates = options.num_gates
    init_schemes.init_input_weight(get("weight_ih"), num_gates, scheme, hidden_size)
    init_schemes.init_recurrent_weight(get("weight_hh"), num_gates, scheme, hidden_size)
    for name in ("bias_ih", "bias_hh"):
        init_schemes.init_bias(get(name), scheme, hidden_size)
    if options.proj_size:
        init_schemes.init_input_weight(get("weight_hr"), 1, scheme, hidden_size)
    bound = 1.0 / math.sqrt(hidden_size)
    for name in ("weight_ci", "weight_cf", "weight_co"):
        if get(name) is not None:
            get(name).uniform_(-bound, bound)
    if options.layer_norm:
        get("ln_gates_weight").fill_(1.0)
        get("ln_gates_bias").zero_()
        get("ln_cell_weight").fill_(1.0)
        get("ln_cell_bias").zero_()
    if not options.forget_gate:
        return  # no forget gate to bias (check_forget_bias has warned if one was asked for)
    f_rows = slice(
        options.gate_names.index("f") * hidden_size,
        (options.gate_names.index("f") + 1) * hidden_size,
    )
    # Under layer norm a bias before the normalisation is largely cancelled; the shift is what
    # reaches the gate.
    target = get("ln_gates_bias") if options.layer_norm else get("bias_ih")
    if target is not None:
        target[f_rows] += forget_bias


def check_forget_bias(options: LSTMOptions, forget_bias: float, stacklevel: int = 2) -> None:
    """Warn when a forget bias other than the default is given to a cell without a forget gate.

    ``stacklevel`` counts from the caller, as ``warnings.warn``'s: 2 points at whoever built the
    cell or layer that calls this from its ``__init__``.

    A warning rather than an error: ``forget_bias`` has a default, configurations are often built
    from one dict for several variants, and ignoring it changes nothing about the cell.
    """
    if not options.forget_gate and forget_bias != 1.0:
        warnings.warn(
            f"forget_bias={forget_bias} is ignored with forget_gate=False: there is no forget "
            "gate to bias",
            stacklevel=stacklevel + 1,
        )


@torch.no_grad()
def init_gated_weights(
    module: nn.Module, suffix: str, hidden_size: int, num_gates: int, scheme: str
) -> None:
    """Initialise one GRU or RNN direction's weights in place."""
    get = lambda name: getattr(module, name + suffix, None)  # noqa: E731
    init_schemes.init_input_weight(get("weight_ih"), num_gates, scheme, hidden_size)
    init_schemes.init_recurrent_weight(get("weight_hh"), num_gates, scheme, hidden_size)
    for name in ("bias_ih", "bias_hh"):
        init_schemes.init_bias(get(name), scheme, hidden_size)


def _step_state(
    state: State | Tensor | None,
    x_t: Tensor,
    sizes: tuple[int, ...],
    unbatched: bool,
    names: tuple[str, ...],
) -> State:
    batch = x_t.shape[0]
    if state is None:
        return tuple(x_t.new_zeros(batch, size) for size in sizes)
    if isinstance(state, Tensor):
        state = (state,)
    if not isinstance(state, tuple | list) or len(state) != len(sizes):
        raise ShapeError(f"state must be a tuple ({', '.join(names)}), got {type(state).__name__}")
    out = []
    for s, size, name in zip(state, sizes, names, strict=True):
        expected = (size,) if unbatched else (batch, size)
        if tuple(s.shape) != expected:
            raise ShapeError(f"{name} has shape {tuple(s.shape)}, expected {expected}")
        if s.dtype != x_t.dtype:
            raise ShapeError(f"{name} has dtype {s.dtype}, expected {x_t.dtype} like x_t")
        out.append(s.unsqueeze(0) if unbatched else s)
    return tuple(out)


def _single_state_forward(
    cell: GRUCell | RNNCell, x_t: Tensor, state: Tensor | None, options: object = None
) -> tuple[Tensor, Tensor]:
    cell._check_step_input(x_t)
    unbatched = x_t.dim() == 1
    if unbatched:
        x_t = x_t.unsqueeze(0)
    state = _step_state(state, x_t, (cell.hidden_size,), unbatched, ("h_prev",))
    (h_t,), _ = cell.step(x_t, state, cell.weights(), options)
    if unbatched:
        h_t = h_t.squeeze(0)
    return h_t, h_t


def _extra_repr(module: nn.Module, options: LSTMOptions) -> str:
    parts = [f"{module.input_size}, {module.hidden_size}"]
    if not module.bias:
        parts.append("bias=False")
    for name in ("peephole", "coupled_gates", "layer_norm", "proj_size"):
        if getattr(options, name):
            parts.append(f"{name}={getattr(options, name)!r}")
    if not options.forget_gate:
        parts.append("forget_gate=False")
    return ", ".join(parts)
