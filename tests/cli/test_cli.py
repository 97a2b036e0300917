"""The command line: ``lstmkit --version``, ``--help`` and ``lstmkit demo``."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lstmkit import __version__
from lstmkit.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"lstmkit {__version__}"


def _console_script() -> str | None:
    beside = Path(sys.executable).parent / "lstmkit"
    return str(beside) if beside.exists() else shutil.which("lstmkit")


def test_console_script_version():
    script = _console_script()
    if script is None:
        pytest.skip("the lstmkit console script is not installed (pip install -e .)")
    done = subprocess.run(
        [script, "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lstmkit {__version__}"


def test_no_command_prints_help_and_returns_2(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_every_option_has_help_text():
    from lstmkit.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name in ("demo", "bench"):
        for action in subparsers.choices[name]._actions:
            assert action.help, f"lstmkit {name} {action.option_strings} has no help text"


def test_demo_prints_the_table_and_a_verdict(capsys):
    code = main(["demo", "--seconds", "0.5", "--seq-len", "20", "--hidden", "8", "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "adding problem, T=20, hidden size 8, seed 1" in out
    for word in ("LSTM", "RNN", "predict the mean", "test MSE", "sequences seen", "verdict:"):
        assert word in out


def test_demo_rejects_a_too_short_sequence(capsys):
    assert main(["demo", "--seconds", "0.5", "--seq-len", "5"]) == 2
    assert "T must be an int >= 11, got 5" in capsys.readouterr().err
