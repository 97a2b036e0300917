"""Ctrl-C during fit reaches the caller as a KeyboardInterrupt (Lightning alone turns it into
sys.exit(1) and leaves SIGINT ignored), so the CLI can exit 130 and a notebook keeps running."""

from __future__ import annotations

import signal

import pytest
import torch
from torch import nn

from lstmkit.train import TrainConfig, fit


def test_ctrl_c_in_fit_is_a_keyboard_interrupt_and_sigint_is_restored():
    calls = []

    def loss(model, batch):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return nn.functional.mse_loss(model(batch[0]), batch[1])

    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(0))
    before = signal.getsignal(signal.SIGINT)
    config = TrainConfig(max_epochs=5, batch_size=8, enable_progress_bar=False)
    with pytest.raises(KeyboardInterrupt):
        fit(nn.Linear(3, 1), loss, (x, x.sum(1, keepdim=True)), None, config)
    assert signal.getsignal(signal.SIGINT) is before
    assert len(calls) == 3
