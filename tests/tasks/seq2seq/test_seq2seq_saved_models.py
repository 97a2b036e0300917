"""Seq2Seq models saved by earlier versions of lstmkit still load and translate as they did.

``data/seq2seq_v1`` was saved (with its outputs and scores in ``seq2seq_v1.json``) by the code
before Seq2Seq became the ``lstmkit.tasks.seq2seq`` package, when ``seed`` was a constructor
argument kept in config.json and there were no LSTM options; see ``made_by`` in the JSON.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from lstmkit.tasks import Seq2Seq

DATA = pathlib.Path(__file__).parent / "data"
SAVED = sorted(p.stem for p in DATA.glob("*.json"))


@pytest.mark.parametrize("name", SAVED)
def test_a_saved_model_translates_as_it_did(name):
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    model = Seq2Seq.load(DATA / name)
    assert model.translate(expected["inputs"]) == expected["greedy"]
    assert model.translate(expected["inputs"], beam_size=3, length_penalty=0.6) == expected["beam3"]


@pytest.mark.parametrize("name", SAVED)
def test_a_saved_model_scores_as_it_did(name):
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    model = Seq2Seq.load(DATA / name)
    scores = model.evaluate(list(zip(expected["inputs"], expected["references"], strict=True)))
    for metric, value in expected["scores"].items():
        assert scores.loc["model", metric] == pytest.approx(value), metric
