"""Progress on the command line: a bar on stderr when it is a terminal, none when it is not or
with --quiet, which every command takes (before or after its name)."""

from __future__ import annotations

import argparse
import io
import sys

import pytest


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_progress_follows_the_terminal_and_quiet(monkeypatch):
    from lstmkit.cli._options import show_progress

    args = argparse.Namespace(quiet=False, progress=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert show_progress(args) is False
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert show_progress(args) is True
    assert show_progress(argparse.Namespace(quiet=True, progress=False)) is False
    assert show_progress(argparse.Namespace(quiet=True, progress=True)) is False
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert show_progress(argparse.Namespace(quiet=False, progress=True)) is True


@pytest.mark.parametrize(
    "argv",
    [
        ["--quiet", "forecast", "predict", "--model", "m", "--data", "d", "--out", "o"],
        ["forecast", "predict", "--model", "m", "--data", "d", "--out", "o", "--quiet"],
        ["forecast", "predict", "-q", "--model", "m", "--data", "d", "--out", "o"],
        ["bench", "--quiet"],
        ["text", "generate", "--model", "m", "--length", "3", "--quiet"],
        ["detect", "stream", "--model", "m", "--quiet"],
        ["classify", "predict", "--model", "m", "--data", "d", "--out", "o", "--quiet"],
        ["translate", "run", "--model", "m", "--text", "x", "--quiet"],
        ["tag", "predict", "--model", "m", "--data", "d", "--out", "o", "--quiet"],
        ["experiments", "list", "--quiet"],
    ],
)
def test_every_command_takes_quiet(argv):
    from lstmkit.cli import build_parser

    assert build_parser().parse_args(argv).quiet is True


def test_quiet_defaults_to_off():
    from lstmkit.cli import build_parser

    args = build_parser().parse_args(
        ["forecast", "predict", "--model", "m", "--data", "d"] + ["--out", "o"]
    )
    assert args.quiet is False
