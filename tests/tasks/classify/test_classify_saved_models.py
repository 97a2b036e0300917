"""Models saved by the classifier before it became the ``lstmkit.tasks.classify`` package (and
before it was a :class:`~lstmkit.tasks.base.Task`) still load and predict exactly as they did.

The directories under ``data/`` were written by ``data/make_saved_v1.py`` with that older code;
``expected.json`` beside each holds what it predicted then."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from lstmkit.tasks import SequenceClassifier

DATA = pathlib.Path(__file__).parent / "data"


def _expected(name: str) -> dict:
    return json.loads((DATA / name / "expected.json").read_text(encoding="utf-8"))


def test_a_saved_text_classifier_predicts_as_before():
    expected = _expected("text_v1")
    clf = SequenceClassifier.load(DATA / "text_v1")
    assert clf.classes == expected["classes"]
    assert clf.columns == expected["columns"]
    assert clf.class_weights == {"neg": 1.5}
    assert clf.lstm_options == {"layer_norm": True}
    assert clf.predict(expected["inputs"]) == expected["predict"]
    np.testing.assert_allclose(
        clf.predict_proba(expected["inputs"]), expected["predict_proba"], rtol=1e-6, atol=1e-9
    )


def test_a_saved_numeric_classifier_predicts_as_before():
    expected = _expected("numeric_v1")
    clf = SequenceClassifier.load(DATA / "numeric_v1")
    inputs = [np.array(x) for x in expected["inputs"]]
    assert clf.classes == expected["classes"]
    assert clf.n_features == 2
    assert clf.predict(inputs) == expected["predict"]
    np.testing.assert_allclose(
        clf.predict_proba(inputs), expected["predict_proba"], rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("name", ["text_v1", "numeric_v1"])
def test_a_saved_classifier_saves_again_unchanged(name, tmp_path):
    expected = _expected(name)
    clf = SequenceClassifier.load(DATA / name)
    again = SequenceClassifier.load(clf.save(tmp_path / "again"))
    assert again.get_config() == clf.get_config()
    inputs = expected["inputs"] if name == "text_v1" else [np.array(x) for x in expected["inputs"]]
    np.testing.assert_array_equal(again.predict_proba(inputs), clf.predict_proba(inputs))
