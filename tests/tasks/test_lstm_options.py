"""The LSTM options every task checks when it is made."""

from __future__ import annotations

import pytest

from lstmkit.errors import ConfigError
from lstmkit.tasks.lstm_options import LSTM_OPTIONS, check_lstm_options


def test_accepts_every_option_with_a_valid_value():
    options = {"forget_gate": False, "layer_norm": True, "recurrent_dropout": 0.1, "impl": "auto"}
    assert check_lstm_options(options, hidden_size=4) == options
    assert set(options) <= set(LSTM_OPTIONS)


def test_unknown_option_names_it_and_the_allowed_ones():
    with pytest.raises(ConfigError) as err:
        check_lstm_options({"colour": "red", "peephole": True}, allowed=("peephole", "impl"))
    assert str(err.value) == "unknown option(s) colour; the LSTM options are peephole, impl"


def test_bad_value_fails_before_any_data():
    with pytest.raises(ConfigError, match="coupled_gates=True"):
        check_lstm_options({"coupled_gates": True, "forget_gate": False})
