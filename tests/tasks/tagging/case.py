"""The Tagger in the shared task contract: a tiny BiLSTM-CRF on a handful of tagged sentences."""

from __future__ import annotations

from tests.tasks.contract import TaskCase, same_predictions

from lstmkit.tasks import Tagger

SENTENCES = [
    (["John", "smith", "went", "to", "Paris"], ["B-PER", "I-PER", "O", "O", "B-LOC"]),
    (["the", "Oslo", "trip"], ["O", "B-LOC", "O"]),
    (["Mary", "smith", "saw", "Anna", "smith"], ["B-PER", "I-PER", "O", "B-PER", "I-PER"]),
    (["a", "day", "in", "Rome"], ["O", "O", "O", "B-LOC"]),
    (["Li", "smith", "and", "Berlin"], ["B-PER", "I-PER", "O", "B-LOC"]),
    (["today"], ["O"]),
]
FIT = {"max_epochs": 2, "batch_size": 4, "lr": 0.02, "enable_progress_bar": False, "seed": 0}


def _make(**lstm_options):
    return Tagger(
        hidden_size=8, embedding_dim=8, char_dim=4, char_filters=4, dropout=0.0, **lstm_options
    )


CASE = TaskCase(
    cls=Tagger,
    make=_make,
    fit=lambda task: task.fit(SENTENCES, **FIT),
    predict=lambda task: task.predict([["Anna", "smith", "in", "Oslo"], ["Zed", "went"]]),
    evaluate=lambda task: task.evaluate(SENTENCES),
    same=same_predictions,
)
