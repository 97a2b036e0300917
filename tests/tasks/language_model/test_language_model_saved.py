"""A LanguageModel saved before the Task refactor (issue 18) still loads and gives the same
perplexity, greedy and seeded generations (tests/tasks/language_model/data/char-v0/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lstmkit.tasks.language_model import LanguageModel

SAVED = Path(__file__).parent / "data" / "char-v0"
EXPECTED = json.loads((SAVED / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lm() -> LanguageModel:
    return LanguageModel.load(SAVED / "model")


def test_perplexity_is_unchanged(lm):
    scores = lm.perplexity(EXPECTED["perplexity_text"])
    for key, value in EXPECTED["perplexity"].items():
        assert scores[key] == pytest.approx(value, rel=1e-9), key


def test_greedy_and_seeded_generation_are_unchanged(lm):
    for prompt, text in EXPECTED["greedy"].items():
        assert lm.generate(prompt, 30, temperature=0) == text
    sampled = dict(EXPECTED["sampled"])
    want = sampled.pop("text")
    prompt, length = sampled.pop("prompt"), sampled.pop("length")
    assert lm.generate(prompt, length, **sampled) == want
