"""Options several commands share are defined once (``lstmkit.cli._options``) and mean the same
in each: a rate or a held-out share is a fraction in [0, 1) everywhere, refused at parse time
(exit 2) with a message naming the value; sizes are whole numbers >= 1."""

from __future__ import annotations

import pytest
from tests.cli.test_cli_scaling import TRAIN_COMMANDS

from lstmkit.cli import build_parser, main


def _train(command: str, *extra: str) -> list[str]:
    return [command, "train", *TRAIN_COMMANDS[command], "--out", "o", *extra]


@pytest.mark.parametrize(
    ("command", "extra", "message"),
    [
        # translate and forecast took any float here; the library refused bad ones later
        ("translate", ["--dropout", "1"], "--dropout: expected a number in [0, 1), got 1.0"),
        ("translate", ["--val-size", "1.5"], "--val-size: expected a number in [0, 1), got 1.5"),
        ("forecast", ["--dropout", "-0.1"], "--dropout: expected a number in [0, 1), got -0.1"),
        ("forecast", ["--val-size", "2"], "--val-size: expected a number in [0, 1), got 2.0"),
        ("forecast", ["--test-size", "x"], "--test-size: expected a number in [0, 1), got 'x'"),
        ("detect", ["--val-size", "1"], "--val-size: expected a number in [0, 1), got 1.0"),
        ("classify", ["--val-size", "nan"], "--val-size: expected a number in [0, 1), got nan"),
        ("tag", ["--dropout", "1"], "--dropout: expected a number in [0, 1), got 1.0"),
        ("speech", ["--hidden-size", "0"], "--hidden-size: expected a positive integer, got 0"),
        ("text", ["--num-layers", "two"], "--num-layers: expected a positive integer, got 'two'"),
        ("detect", ["--window", "0"], "--window: expected a positive integer, got 0"),
    ],
)
def test_shared_options_refuse_bad_values_alike(command, extra, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(_train(command, *extra))
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("command", sorted(TRAIN_COMMANDS))
def test_network_sizes_parse_alike(command):
    args = build_parser().parse_args(_train(command, "--hidden-size", "7"))
    assert args.hidden_size == 7
    assert args.func.__name__ == "cmd_train"
