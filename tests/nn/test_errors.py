"""Bad input and bad options raise lstmkit's errors (ValueError subclasses) naming the bad value."""

from __future__ import annotations

import re

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import lstmkit.nn as lnn
from lstmkit.errors import ConfigError, ShapeError, UnsupportedConfigError

F64 = torch.float64
D, H, T, B = 3, 4, 5, 2


def lstm(**kw):
    return lnn.LSTM(D, H, dtype=F64, **kw)


def x_tb():
    return torch.randn(T, B, D, dtype=F64)


def test_errors_are_value_errors():
    for cls in (ShapeError, ConfigError, UnsupportedConfigError):
        assert issubclass(cls, ValueError)
    assert issubclass(UnsupportedConfigError, ConfigError)


# --- input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(D,), (1, T, B, D)])
def test_wrong_rank(shape):
    with pytest.raises(ShapeError, match=re.escape(f"got {len(shape)}-D with shape {shape}")):
        lstm()(torch.randn(shape, dtype=F64))


def test_wrong_rank_names_the_batch_first_layout():
    with pytest.raises(ShapeError, match=re.escape("3-D (batch, time, features)")):
        lstm(batch_first=True)(torch.randn(D, dtype=F64))


@pytest.mark.parametrize("cls", [lnn.LSTM, lnn.GRU, lnn.RNN])
def test_wrong_feature_size(cls):
    layer = cls(D, H, dtype=F64)
    with pytest.raises(ShapeError, match="input has 5 features .* expected input_size=3"):
        layer(torch.randn(T, B, 5, dtype=F64))


def test_not_a_tensor():
    with pytest.raises(TypeError, match="got list"):
        lstm()([[1.0, 2.0, 3.0]])


def test_integer_input():
    with pytest.raises(ShapeError, match=re.escape("floating-point tensor, got dtype torch.int64")):
        lstm()(torch.ones(T, B, D, dtype=torch.int64))


def test_input_dtype_mismatch():
    with pytest.raises(ShapeError, match=re.escape("input dtype torch.float32 does not match")):
        lstm()(torch.randn(T, B, D))


def test_state_dtype_mismatch():
    h0 = torch.zeros(1, B, H)
    c0 = torch.zeros(1, B, H, dtype=F64)
    with pytest.raises(ShapeError, match=re.escape("h0 has dtype torch.float32, expected")):
        lstm()(x_tb(), (h0, c0))


def test_zero_time_steps():
    with pytest.raises(ShapeError, match="0 time steps"):
        lstm()(torch.randn(0, B, D, dtype=F64))


# --- lengths -----------------------------------------------------------------------------------


def test_lengths_longer_than_sequence():
    with pytest.raises(
        ShapeError, match=re.escape(f"<= the sequence length {T}, got 6 (at index 1)")
    ):
        lstm()(x_tb(), lengths=[3, 6])


@pytest.mark.parametrize("bad", [0, -2])
def test_lengths_below_one(bad):
    with pytest.raises(
        ShapeError, match=re.escape(f"lengths must be >= 1, got {bad} (at index 0)")
    ):
        lstm()(x_tb(), lengths=[bad, 3])


@pytest.mark.parametrize(
    ("lengths", "shape"), [([3, 3, 3], "(3,)"), ([[3, 3]], "(1, 2)"), (3, "()")]
)
def test_lengths_wrong_shape(lengths, shape):
    with pytest.raises(
        ShapeError,
        match=re.escape(f"lengths must have shape ({B},)") + ".*" + re.escape(f"got {shape}"),
    ):
        lstm()(x_tb(), lengths=lengths)


def test_lengths_float():
    with pytest.raises(ShapeError, match="lengths must hold integers, got dtype torch.float32"):
        lstm()(x_tb(), lengths=torch.tensor([3.0, 2.0]))


def test_lengths_with_packed_sequence():
    packed = pack_padded_sequence(x_tb(), [5, 3])
    with pytest.raises(ConfigError, match="lengths must not be given with a PackedSequence"):
        lstm()(packed, lengths=[5, 3])


# --- state -------------------------------------------------------------------------------------


def test_state_wrong_shape():
    h0 = torch.zeros(2, B, H, dtype=F64)
    c0 = torch.zeros(1, B, H, dtype=F64)
    with pytest.raises(
        ShapeError, match=re.escape(f"h0 has shape (2, {B}, {H}), expected (1, {B}, {H})")
    ):
        lstm()(x_tb(), (h0, c0))


def test_cell_state_wrong_size_with_projection():
    h0 = torch.zeros(1, B, 2, dtype=F64)
    c0 = torch.zeros(1, B, 2, dtype=F64)  # c keeps hidden_size features
    with pytest.raises(
        ShapeError, match=re.escape(f"c0 has shape (1, {B}, 2), expected (1, {B}, {H})")
    ):
        lstm(proj_size=2)(x_tb(), (h0, c0))


def test_lstm_state_not_a_pair():
    with pytest.raises(ShapeError, match="hx must be a tuple \\(h0, c0\\), got Tensor"):
        lstm()(x_tb(), torch.zeros(1, B, H, dtype=F64))


def test_gru_state_wrong_shape():
    with pytest.raises(
        ShapeError, match=re.escape(f"h0 has shape (1, {B}, 3), expected (2, {B}, {H})")
    ):
        lnn.GRU(D, H, bidirectional=True, dtype=F64)(x_tb(), torch.zeros(1, B, 3, dtype=F64))


def test_unbatched_state_wrong_shape():
    with pytest.raises(ShapeError, match=re.escape(f"h0 has shape (1, 1, {H}), expected (1, {H})")):
        lnn.RNN(D, H, dtype=F64)(torch.randn(T, D, dtype=F64), torch.zeros(1, 1, H, dtype=F64))


def test_cell_errors():
    cell = lnn.LSTMCell(D, H, dtype=F64)
    with pytest.raises(ShapeError, match="x_t has 2 features, expected input_size=3"):
        cell(torch.randn(B, 2, dtype=F64))
    with pytest.raises(
        ShapeError, match=re.escape(f"c_prev has shape (1, {H}), expected ({B}, {H})")
    ):
        cell(
            torch.randn(B, D, dtype=F64),
            (torch.zeros(B, H, dtype=F64), torch.zeros(1, H, dtype=F64)),
        )
    with pytest.raises(ShapeError, match=re.escape("got (1, 2, 3)")):
        lnn.GRUCell(D, H)(torch.randn(1, 2, 3))


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dropout", "recurrent_dropout", "zoneout"])
@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, "0.5", True])
def test_probabilities_outside_unit_interval(name, value):
    with pytest.raises(
        ConfigError, match=re.escape(f"{name} must be a number in [0, 1), got {value!r}")
    ):
        lnn.LSTM(D, H, num_layers=2, **{name: value})
    with pytest.raises(ConfigError, match=re.escape(f"{name} must be a number in [0, 1)")):
        lnn.GRU(D, H, num_layers=2, **{name: value})


def test_unknown_impl():
    with pytest.raises(ConfigError, match="impl must be one of .*, got 'cuda'"):
        lstm(impl="cuda")


def test_unknown_init():
    with pytest.raises(
        ConfigError, match="init must be one of 'xavier', 'he', 'torch', got 'glorot'"
    ):
        lnn.GRU(D, H, init="glorot")
    with pytest.raises(ConfigError, match="got 'glorot'"):
        lnn.LSTMCell(D, H, init="glorot")


@pytest.mark.parametrize("proj", [4, 5])
def test_proj_size_not_below_hidden_size(proj):
    msg = re.escape(f"proj_size must be smaller than hidden_size={H}, got {proj}")
    with pytest.raises(ConfigError, match=msg):
        lstm(proj_size=proj)
    with pytest.raises(ConfigError, match=msg):
        lnn.LSTMCell(D, H, proj_size=proj)


def test_proj_size_negative():
    with pytest.raises(ConfigError, match="proj_size must be an int >= 0, got -1"):
        lstm(proj_size=-1)


@pytest.mark.parametrize(
    ("name", "value"), [("input_size", 0), ("hidden_size", -3), ("num_layers", 0)]
)
def test_sizes_must_be_positive(name, value):
    kw = {"input_size": D, "hidden_size": H, "num_layers": 1, name: value}
    with pytest.raises(ConfigError, match=f"{name} must be a positive int, got {value}"):
        lnn.LSTM(**kw)


def test_unknown_nonlinearity():
    with pytest.raises(ConfigError, match="nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        lnn.RNN(D, H, nonlinearity="sigmoid")


@pytest.mark.parametrize("option", ["peephole", "coupled_gates", "layer_norm"])
def test_native_rejects_variants(option):
    layer = lstm(impl="native", **{option: True})
    with pytest.raises(UnsupportedConfigError, match=f"impl='native' does not support .*{option}"):
        layer(x_tb())


def test_native_rejects_no_forget_gate():
    with pytest.raises(
        UnsupportedConfigError,
        match=re.escape("impl='native' does not support this configuration (forget_gate=False)"),
    ):
        lstm(impl="native", forget_gate=False)(x_tb())


def test_fused_runs_no_forget_gate_with_every_option():
    """No error any more: the fused engine has the 1997 cell.

    Its numbers: tests/nn/engine/test_fused*.
    """
    for kw in ({}, {"peephole": True}, {"layer_norm": True, "proj_size": 2}, {"zoneout": 0.2}):
        out, (h, c) = lstm(impl="fused", forget_gate=False, **kw)(x_tb())
        assert out.shape == (T, B, kw.get("proj_size") or H) and c.shape == (1, B, H)


@pytest.mark.parametrize("make", [lnn.LSTM, lnn.LSTMCell])
def test_coupled_gates_need_a_forget_gate(make):
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "coupled_gates=True needs a forget gate (CIFG ties the input gate to it, i = 1 - f), "
            "got forget_gate=False; use one of coupled_gates=True or forget_gate=False, not both"
        ),
    ):
        make(D, H, coupled_gates=True, forget_gate=False)


def test_native_rejects_trace_and_training_time_randomness():
    with pytest.raises(UnsupportedConfigError, match="return_trace"):
        lstm(impl="native")(x_tb(), return_trace=True)
    layer = lstm(impl="native", zoneout=0.1)
    with pytest.raises(UnsupportedConfigError, match="zoneout"):
        layer(x_tb())
    layer.eval()  # identity in eval mode, so native may run it
    layer(x_tb())


def test_cell_dtype_errors():
    cell = lnn.LSTMCell(D, H, dtype=F64)
    with pytest.raises(
        ShapeError, match=re.escape("x_t has dtype torch.float32, expected torch.float64")
    ):
        cell(torch.randn(B, D))
    with pytest.raises(
        ShapeError, match=re.escape("x_t must be a floating-point tensor, got dtype torch.int64")
    ):
        lnn.GRUCell(D, H)(torch.ones(B, D, dtype=torch.int64))
    state = (torch.zeros(B, H), torch.zeros(B, H, dtype=F64))
    with pytest.raises(
        ShapeError, match=re.escape("h_prev has dtype torch.float32, expected torch.float64")
    ):
        cell(torch.randn(B, D, dtype=F64), state)
    with pytest.raises(
        ShapeError, match=re.escape("h_prev has dtype torch.float64, expected torch.float32")
    ):
        lnn.RNNCell(D, H)(torch.randn(B, D), torch.zeros(B, H, dtype=F64))
