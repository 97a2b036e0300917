"""Progress bars in the API: on stderr, and by default only where they can be drawn (a terminal or
a notebook), so a script run in a loop or under a scheduler logs no bar."""

from __future__ import annotations

import io
import sys

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.train import TrainConfig, fit
from lstmkit.train import config as train_config


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _fit(**options) -> None:
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    y = x.sum(1, keepdim=True)
    config = TrainConfig(max_epochs=2, batch_size=8, **options)
    fit(nn.Linear(3, 1), lambda m, b: nn.functional.mse_loss(m(b[0]), b[1]), (x, y), None, config)


def test_the_default_is_automatic():
    assert TrainConfig().enable_progress_bar is None
    with pytest.raises(ConfigError, match="enable_progress_bar must be True, False or None"):
        TrainConfig(enable_progress_bar="yes")


def test_automatic_means_a_terminal_or_a_notebook(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe, a log file, a CI job
    assert train_config.progress_default() is False
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert train_config.progress_default() is True


def test_fit_outside_a_terminal_draws_no_bar(capsys):
    _fit()  # pytest's captured stderr is not a terminal
    assert "Epoch" not in capsys.readouterr().err


def test_fit_draws_the_bar_on_stderr_when_asked(capsys):
    _fit(enable_progress_bar=True)
    out = capsys.readouterr()
    assert "Epoch" in out.err and "Epoch" not in out.out
