"""``--devices --num-nodes --strategy --precision`` on every training command: they parse, reach
:class:`~lstmkit.train.TrainConfig` unchanged, leave its defaults alone when not given, and bad
values are refused with a message naming them (exit 2). No distributed run here: the library's
DDP training has its own tests."""

from __future__ import annotations

import argparse

import pytest

from lstmkit.cli import build_parser, main
from lstmkit.cli._options import PRECISIONS, SCALING, training_kwargs
from lstmkit.train import TrainConfig
from lstmkit.train import config as train_config

# The required options of every training command (nothing is read: only parsed).
TRAIN_COMMANDS = {
    "forecast": ["--data", "d.csv", "--time-col", "t", "--target", "y", "--horizon", "3"],
    "detect": ["--data", "d.csv", "--time-col", "t", "--columns", "a"],
    "classify": ["--data", "d.csv"],
    "text": ["--corpus", "c.txt"],
    "tag": ["--data", "d.conll"],
    "translate": ["--pairs", "p.tsv"],
    "speech": ["--data", "dir"],
}
SCALED = ["--devices", "2", "--num-nodes", "3", "--strategy", "ddp", "--precision", "bf16-mixed"]


def _parse(command: str, *extra: str) -> argparse.Namespace:
    argv = [command, "train", *TRAIN_COMMANDS[command], "--out", "o", *extra]
    return build_parser().parse_args(argv)


def _config(args: argparse.Namespace) -> TrainConfig:
    kwargs = {k: v for k, v in training_kwargs(args, None).items() if v is not None}
    return TrainConfig().replace(**kwargs)


@pytest.mark.parametrize("command", sorted(TRAIN_COMMANDS))
def test_scaling_options_reach_train_config(command):
    config = _config(_parse(command, *SCALED))
    assert (config.devices, config.num_nodes, config.strategy, config.precision) == (
        2,
        3,
        "ddp",
        "bf16-mixed",
    )


@pytest.mark.parametrize("command", sorted(TRAIN_COMMANDS))
def test_scaling_options_left_out_keep_train_config_defaults(command):
    kwargs = training_kwargs(_parse(command), None)
    assert not set(SCALING) & set(kwargs)  # the task's own TrainConfig defaults hold
    config, default = _config(_parse(command)), TrainConfig()
    for name in SCALING:
        assert getattr(config, name) == getattr(default, name)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("auto", "auto"), ("AUTO", "auto"), ("1", 1), ("4", 4), ("-1", -1), ("0,1", [0, 1])],
)
def test_devices_forms(value, expected):
    assert _parse("tag", "--devices", value).devices == expected


def test_precision_choices_are_train_configs():
    assert PRECISIONS == train_config.PRECISIONS


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        (
            ["--devices", "0"],
            "--devices: expected auto, a number of devices >= 1, -1 (all of them) "
            "or comma-separated device indices such as 0,1, got '0'",
        ),
        (["--devices", "two"], "got 'two'"),
        (["--devices", "0,-1"], "got '0,-1'"),
        (["--num-nodes", "0"], "--num-nodes: expected a positive integer, got 0"),
        (["--strategy", "dpp"], "--strategy: expected auto or a Lightning strategy (ddp, "),
        (["--strategy", "ddp_spawn"], "--strategy: 'ddp_spawn' pickles the training function"),
        (["--precision", "8"], "--precision: invalid choice: '8'"),
    ],
)
def test_bad_scaling_values_are_usage_errors(extra, names, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["translate", "train", *TRAIN_COMMANDS["translate"], "--out", "o", *extra])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert names in err
    assert "Traceback" not in err


class _Reached(Exception):
    pass


def test_tag_train_passes_the_options_to_the_training_loop(tmp_path, monkeypatch):
    """End to end up to the training loop: the TrainConfig the task hands it."""
    import lstmkit.tasks.tagging.task as tagging

    seen: list[TrainConfig] = []

    def fake_fit(net, loss_fn, train_loader, val_loader, config):
        seen.append(config)
        raise _Reached

    monkeypatch.setattr(tagging, "fit", fake_fit)
    argv = ["tag", "train", "--data", "bundled:tagged_dev", "--out", str(tmp_path / "out")]
    argv += ["--hidden-size", "4", "--embedding-dim", "4", "--epochs", "1", *SCALED]
    with pytest.raises(_Reached):
        main(argv)
    (config,) = seen
    assert (config.devices, config.num_nodes, config.strategy, config.precision) == (
        2,
        3,
        "ddp",
        "bf16-mixed",
    )
    assert config.max_epochs == 1 and config.lr == 0.005  # the command's own options still hold


@pytest.mark.parametrize("main_process", [True, False])
def test_only_rank_0_prints_after_a_distributed_fit(main_process, monkeypatch, capsys):
    """Every DDP process runs the whole command (the model's save needs them all), so after fit
    the others' stdout goes to the null device. Checked by hand: 'forecast train --devices 2
    --strategy ddp' on 2 CPU processes printed its report once and wrote one model."""
    import sys

    import lstmkit.train.distributed as distributed
    from lstmkit.cli._options import run_fit

    monkeypatch.setattr(sys, "stdout", sys.stdout)  # restored after the test
    monkeypatch.setattr(distributed, "is_main_process", lambda: main_process)
    calls = []
    seconds = run_fit(lambda *a, **k: calls.append((a, k)), 1, x=2)
    assert calls == [((1,), {"x": 2})] and seconds >= 0
    print("report")
    assert ("report" in capsys.readouterr().out) is main_process
