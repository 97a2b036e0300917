"""The package root: a small public API, and ``import lstmkit`` needs torch only."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lstmkit


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
