"""Every task: Ctrl-C part-way through training reaches the caller as a KeyboardInterrupt and
leaves the task unfitted, so a half-trained network is never used or saved by mistake."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

from lstmkit.errors import ConfigError
from lstmkit.train import fit as real_fit

TASKS = ["anomaly", "classify", "forecast", "language_model", "seq2seq", "speech", "tagging"]


@pytest.mark.parametrize("name", TASKS)
def test_ctrl_c_mid_training_raises_and_leaves_the_task_unfitted(name, monkeypatch):
    case = importlib.import_module(f"tests.tasks.{name}.case").CASE
    task = case.make()
    module = sys.modules[type(task).__module__]
    calls = []

    def interrupted_fit(model, loss_fn, *args, **kwargs):
        def loss(net, batch):
            calls.append(1)
            if len(calls) == 2:  # the second training step: training is under way
                raise KeyboardInterrupt
            return loss_fn(net, batch)

        return real_fit(model, loss, *args, **kwargs)

    monkeypatch.setattr(module, "fit", interrupted_fit)
    with warnings.catch_warnings(), pytest.raises(KeyboardInterrupt):
        warnings.simplefilter("ignore")
        case.fit(task)
    assert len(calls) == 2
    with pytest.raises(ConfigError, match="fit"):
        case.predict(task)
