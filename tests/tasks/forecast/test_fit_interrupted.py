"""Ctrl-C anywhere in Forecaster.fit (any ensemble member, the refit) reaches the caller as a
KeyboardInterrupt, and the forecaster is left unfitted rather than a partial ensemble."""

from __future__ import annotations

import signal

import pytest
from tests.tasks.forecast.case import FIT, FRAME

from lstmkit.errors import ConfigError
from lstmkit.tasks import Forecaster


# 30 loss calls in all: member k trains on calls 10k+1..10k+6 (with validation) and refits on
# 10k+7..10k+10; the cases interrupt member 0, its refit, member 1 and the last refit
@pytest.mark.parametrize("at_call", [3, 9, 14, 29])
def test_ctrl_c_in_any_member_raises_and_leaves_it_unfitted(monkeypatch, at_call):
    calls = []
    make_loss = Forecaster._loss_fn

    def interrupting_loss(self):
        loss = make_loss(self)

        def counted(model, batch):
            calls.append(1)
            if len(calls) == at_call:
                raise KeyboardInterrupt  # what Ctrl-C raises in the training step
            return loss(model, batch)

        return counted

    monkeypatch.setattr(Forecaster, "_loss_fn", interrupting_loss)
    forecaster = Forecaster(horizon=3, hidden_size=4, ensemble=3)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        forecaster.fit(FRAME, time_col="date", targets="y", **{**FIT, "max_epochs": 3})
    assert len(calls) == at_call  # nothing trained after the interrupt
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(ConfigError, match="fit"):
        forecaster.predict(FRAME[["date", "y"]])
