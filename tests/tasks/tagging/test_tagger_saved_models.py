"""Taggers saved by earlier versions of lstmkit still load and tag exactly as they did.

``data/tagger_v1`` was saved (with its predictions and scores in ``tagger_v1.json``) by the code
before the tagger became the ``lstmkit.tasks.tagging`` package; see ``made_by`` in the JSON.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from lstmkit.tasks import Tagger

DATA = pathlib.Path(__file__).parent / "data"
SAVED = sorted(p.stem for p in DATA.glob("*.json"))


@pytest.mark.parametrize("name", SAVED)
def test_a_saved_tagger_predicts_as_it_did(name):
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    tagger = Tagger.load(DATA / name)
    assert tagger.predict(expected["inputs"]) == expected["predictions"]


@pytest.mark.parametrize("name", SAVED)
def test_a_saved_tagger_scores_as_it_did(name):
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    tagger = Tagger.load(DATA / name)
    scores = tagger.evaluate(list(zip(expected["inputs"], expected["gold"], strict=True)))
    for metric, value in expected["scores"].items():
        assert scores.loc["model", metric] == pytest.approx(value), metric
