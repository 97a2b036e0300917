"""``lstmkit.train`` without Lightning until training starts.

Every task imports ``fit``, ``History``, ``TrainConfig`` and ``seed_everything`` at the top, so
importing them must not import Lightning (seconds): loading and applying a saved model never
trains. The Lightning classes stay attributes of the package and of ``lstmkit.train.loop``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import lstmkit.train
import lstmkit.train.loop

LIGHTNING_NAMES = ("BestWeights", "HistoryCallback", "TaskModule", "build_optimizer")


def test_the_names_the_tasks_import_do_not_import_lightning():
    code = (
        "import sys\n"
        "from lstmkit.train import FitResult, History, TrainConfig, fit, seed_everything\n"
        "from lstmkit.train.tbptt import CarriedState, batchify, stream_loader\n"
        "print('lightning' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", lstmkit.train.__all__)
def test_every_public_name_resolves_and_is_listed(name):
    assert getattr(lstmkit.train, name) is not None
    assert name in dir(lstmkit.train)


@pytest.mark.parametrize("name", LIGHTNING_NAMES)
def test_lightning_classes_are_the_same_objects_everywhere(name):
    from lightning.pytorch.callbacks import Callback

    value = getattr(lstmkit.train, name)
    if name in ("BestWeights", "HistoryCallback"):
        assert issubclass(value, Callback)
        assert getattr(lstmkit.train.loop, name) is value
    if name == "TaskModule":
        assert lstmkit.train.loop.TaskModule is value
    assert name in dir(lstmkit.train)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="has no attribute 'Trainer'"):
        lstmkit.train.Trainer  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        lstmkit.train.loop.Nope  # noqa: B018
