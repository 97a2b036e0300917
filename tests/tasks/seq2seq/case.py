"""Seq2Seq in the shared task contract: a tiny attentional model reversing short strings."""

from __future__ import annotations

from tests.tasks.contract import TaskCase, same_predictions

from lstmkit.data.transduction import make_pairs
from lstmkit.tasks import Seq2Seq

PAIRS = make_pairs("reverse", 40, seed=0, min_len=2, max_len=5, alphabet="abcde")
FIT = {"max_epochs": 1, "batch_size": 16, "enable_progress_bar": False, "seed": 0}


def _make(**lstm_options):
    return Seq2Seq(hidden_size=8, embed_size=4, **lstm_options)


CASE = TaskCase(
    cls=Seq2Seq,
    make=_make,
    fit=lambda task: task.fit(PAIRS, **FIT),
    predict=lambda task: task.translate(["abc", "edcba", "a"], beam_size=2),
    evaluate=lambda task: task.evaluate(PAIRS[:10]),
    same=same_predictions,
)
