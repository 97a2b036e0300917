"""Error rates and the digit confusions of a word alignment."""

from __future__ import annotations

import pytest

from lstmkit.tasks.speech.metrics import (
    DELETED,
    INSERTED,
    align,
    edit_distance,
    format_confusions,
    format_scores,
    transcript_scores,
    word_confusions,
)


def test_alignment_marks_substitutions_deletions_and_insertions():
    assert edit_distance("kitten", "sitting") == 3
    assert align(["4", "0", "7"], ["4", "7"]) == [("4", "4"), ("0", DELETED), ("7", "7")]
    assert align(["1"], ["1", "1"]) in (
        [("1", "1"), (INSERTED, "1")],
        [(INSERTED, "1"), ("1", "1")],
    )
    assert align([], []) == []


def test_corpus_level_rates_and_string_accuracy():
    scores = transcript_scores(["4 0 7", "1 2"], ["4 7", "1 2"])
    assert scores["wer"] == pytest.approx(1 / 5)  # one deleted digit of five
    assert scores["cer"] == pytest.approx(2 / 8)  # "0" and a space of 8 characters
    assert scores["string_accuracy"] == 0.5
    assert transcript_scores(["1"], ["1 1 1"])["wer"] == 2.0  # insertions can exceed 1
    with pytest.raises(ValueError, match="2 references but 1 transcripts"):
        transcript_scores(["1", "2"], ["1"])


def test_confusions_count_every_aligned_pair():
    counts = word_confusions(["4 0 7", "5"], ["4 9 7", ""])
    assert counts[("0", "9")] == 1 and counts[("4", "4")] == 1 and counts[("5", DELETED)] == 1


def test_confusion_table_puts_words_before_deletions_and_insertions():
    table = format_confusions({"4 -> 4": 2, "0 -> 9": 1, "5 -> <del>": 1, "<ins> -> 1": 1})
    assert table.splitlines() == [
        "       1  4  9  <del>",
        "said                 ",
        "0      0  0  1      0",
        "4      0  2  0      0",
        "5      0  0  0      1",
        "<ins>  1  0  0      0",
    ]


def test_scores_print_as_percentages_under_a_heading():
    text = format_scores({"cer": 0.25, "wer": 0.2, "string_accuracy": 0.5}, "test")
    assert text.splitlines() == [
        "test:",
        "  character error rate  25.00%",
        "  digit (word) error rate  20.00%",
        "  string accuracy       50.00%",
    ]
