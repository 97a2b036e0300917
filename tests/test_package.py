"""The package root: a small public API whose names are imported when first used, so that
``import lstmkit`` itself needs neither torch nor pandas."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import lstmkit

# Packages whose names are imported on first use; what they export must not depend on that.
PUBLIC_PACKAGES = (
    "lstmkit",
    "lstmkit.nn",
    "lstmkit.data",
    "lstmkit.tasks",
    "lstmkit.tasks.anomaly",
    "lstmkit.train",
    "lstmkit.viz",
    "lstmkit.bench",
    "lstmkit.experiments",
)


def test_import_lstmkit_alone_does_not_import_torch():
    code = "import sys, lstmkit; print('torch' in sys.modules, lstmkit.__version__ != '')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False True"


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_every_exported_name_resolves_and_is_listed(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in dir(module), name


def test_submodules_stay_attributes_of_their_packages():
    # As when the packages imported them eagerly: reachable without importing them by name.
    code = (
        "import lstmkit, lstmkit.tasks\n"
        "assert lstmkit.nn.LSTM is lstmkit.LSTM\n"
        "assert lstmkit.tasks.forecast.task.Forecaster is lstmkit.Forecaster\n"
        "assert lstmkit.tasks.persistence.load_model_dir\n"
        "assert 'nn' in dir(lstmkit) and 'persistence' in dir(lstmkit.tasks)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_lstmkit_loads_no_task_dependencies():
    code = (
        "import sys, lstmkit, lstmkit.nn; "
        "heavy = [m for m in ('pandas', 'lightning', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_names_resolve_to_their_modules():
    from lstmkit.tasks import Forecaster
    from lstmkit.train import TrainConfig

    assert lstmkit.Forecaster is Forecaster
    assert lstmkit.TrainConfig is TrainConfig
    assert set(lstmkit.__all__) >= {"LSTM", "GRU", "RNN", "LSTMCell", "Forecaster"}
    from lstmkit.tasks import LanguageModel, Seq2Seq, SequenceClassifier, Tagger

    assert lstmkit.SequenceClassifier is SequenceClassifier
    assert lstmkit.LanguageModel is LanguageModel
    assert lstmkit.Tagger is Tagger
    assert lstmkit.Seq2Seq is Seq2Seq


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        lstmkit.Nope  # noqa: B018
