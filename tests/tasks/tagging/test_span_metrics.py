"""Span-level P/R/F1 against counts worked out by hand."""

from __future__ import annotations

import pytest

from lstmkit.errors import DataError
from lstmkit.tasks.tagging.metrics import format_span_scores, span_scores


def test_hand_computed_example():
    gold = [
        ["B-PER", "I-PER", "O", "B-LOC"],  # PER(0,2) LOC(3,4)
        ["B-ORG", "O", "B-PER"],  # ORG(0,1) PER(2,3)
    ]
    pred = [
        ["B-PER", "I-PER", "O", "O"],  # PER(0,2) correct; LOC missed
        ["B-ORG", "I-ORG", "B-PER"],  # ORG(0,2) wrong boundary; PER(2,3) correct
    ]
    s = span_scores(gold, pred)
    # gold 4 spans, predicted 3, correct 2
    assert (s["n_gold"], s["n_predicted"], s["n_correct"]) == (4, 3, 2)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(2 / 4)
    assert s["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    # tokens: 7, wrong: sentence 0 token 3, sentence 1 token 1 -> 5/7
    assert s["accuracy"] == pytest.approx(5 / 7)
    assert list(s["per_type"]) == ["LOC", "ORG", "PER"]
    assert s["per_type"]["PER"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 2,
        "predicted": 2,
        "correct": 2,
    }
    assert s["per_type"]["LOC"]["recall"] == 0 and s["per_type"]["LOC"]["precision"] == 0
    assert s["per_type"]["ORG"]["predicted"] == 1 and s["per_type"]["ORG"]["f1"] == 0
    table = format_span_scores(s)
    assert "all (micro)" in table and "0.5714" in table and "token accuracy 0.7143" in table


def test_invalid_i_after_o_counts_as_span():
    s = span_scores([["O", "B-X"]], [["O", "I-X"]])
    assert s["f1"] == 1.0  # I-X after O opens the same span X(1,2)


def test_no_spans():
    s = span_scores([["O", "O"]], [["O", "O"]])
    assert (s["precision"], s["recall"], s["f1"], s["accuracy"]) == (0.0, 0.0, 0.0, 1.0)


def test_mismatch_errors():
    with pytest.raises(DataError, match="got 1 gold sentences but 2 predicted"):
        span_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(DataError, match="sentence 0: 2 gold tags but 1 predicted"):
        span_scores([["O", "O"]], [["O"]])


def test_agrees_with_seqeval_if_installed():
    seqeval = pytest.importorskip("seqeval.metrics")
    gold = [["B-A", "I-A", "O", "B-B", "I-B"], ["O", "B-A", "B-A", "I-B"]]
    pred = [["B-A", "I-A", "O", "B-B", "O"], ["I-A", "B-A", "B-A", "I-B"]]
    s = span_scores(gold, pred)
    assert s["f1"] == pytest.approx(seqeval.f1_score(gold, pred))
