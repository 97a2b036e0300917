"""Scores of transcripts against references: character and word (digit) error rates, string
accuracy, and the digit confusion counts of a word alignment.

Error rates are corpus-level: the edit distance (substitutions + deletions + insertions, each
costing 1) summed over utterances, divided by the number of reference characters (or words).
They can exceed 1 when the transcripts insert more than the references hold. Words are the
whitespace-separated tokens; for digit strings ("4 0 7") the word error rate is the digit error
rate. Character error rate counts the spaces between digits as characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

DELETED, INSERTED = "<del>", "<ins>"
#: The scalar metrics of :func:`transcript_scores`, in the order ``evaluate`` reports them.
SCALAR_METRICS = ("cer", "wer", "string_accuracy")


def align(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[str, str]]:
    """A minimum-edit alignment as ``(ref item, hyp item)`` pairs; a deletion pairs with
    :data:`DELETED`, an insertion with :data:`INSERTED` on the reference side."""
    n, m = len(ref), len(hyp)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(
                cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]),
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
            )
    pairs = []
    i, j = n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((ref[i - 1], DELETED))
            i -= 1
        else:
            pairs.append((INSERTED, hyp[j - 1]))
            j -= 1
    return pairs[::-1]


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    return sum(r != h for r, h in align(ref, hyp))


def transcript_scores(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, float]:
    """``cer``, ``wer`` (the digit error rate for digit strings), ``string_accuracy`` (share of
    transcripts exactly right), and the counts they come from."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} transcripts")
    char_edits = word_edits = n_chars = n_words = exact = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        char_edits += edit_distance(ref, hyp)
        word_edits += edit_distance(ref.split(), hyp.split())
        n_chars += len(ref)
        n_words += len(ref.split())
        exact += ref.split() == hyp.split()
    return {
        "cer": char_edits / max(n_chars, 1),
        "wer": word_edits / max(n_words, 1),
        "string_accuracy": exact / max(len(refs), 1),
        "n_utterances": float(len(refs)),
        "n_words": float(n_words),
        "n_chars": float(n_chars),
    }


def word_confusions(refs: Sequence[str], hyps: Sequence[str]) -> Counter[tuple[str, str]]:
    """Counts of ``(reference word, transcribed word)`` over the word alignments of every
    utterance, deletions and insertions included (see :func:`align`)."""
    counts: Counter[tuple[str, str]] = Counter()
    for ref, hyp in zip(refs, hyps, strict=True):
        counts.update(align(ref.split(), hyp.split()))
    return counts


def format_scores(scores: dict[str, Any], heading: str) -> str:
    """``heading:`` and the three rates of :func:`transcript_scores` as percentages, one a line."""
    return (
        f"{heading}:\n  character error rate  {scores['cer']:.2%}\n"
        f"  digit (word) error rate  {scores['wer']:.2%}\n"
        f"  string accuracy       {scores['string_accuracy']:.2%}"
    )


def format_confusions(confusions: dict[str, int]) -> str:
    """The ``{"ref -> hyp": n}`` counts of ``SpeechRecognizer.report`` as a table: a row per word
    said, a column per word transcribed, :data:`DELETED` and :data:`INSERTED` after the words."""
    import pandas as pd

    counts: dict[tuple[str, str], int] = {}
    for key, n in confusions.items():
        ref, hyp = key.split(" -> ")
        counts[(ref, hyp)] = n
    rows = sorted({r for r, _ in counts}, key=lambda w: (w.startswith("<"), w))
    cols = sorted({h for _, h in counts}, key=lambda w: (w.startswith("<"), w))
    table = pd.DataFrame(0, index=pd.Index(rows, name="said"), columns=cols)
    for (r, h), n in counts.items():
        table.loc[r, h] = n
    return table.to_string()


__all__ = [
    "DELETED",
    "INSERTED",
    "SCALAR_METRICS",
    "align",
    "edit_distance",
    "format_confusions",
    "format_scores",
    "transcript_scores",
    "word_confusions",
]
