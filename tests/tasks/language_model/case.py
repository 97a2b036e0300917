"""The LanguageModel in the shared task contract: a tiny char model on a repetitive corpus."""

from __future__ import annotations

from tests.tasks.contract import TaskCase

from lstmkit.tasks import LanguageModel

CORPUS = "".join(f"{w} sat on the mat.\n" for w in ["the cat", "a dog", "the cow", "my hen"] * 20)
FIT = {"max_epochs": 2, "batch_size": 4, "lr": 0.01, "enable_progress_bar": False, "seed": 0}


def _make(**lstm_options):
    return LanguageModel(embed_size=8, hidden_size=12, num_layers=2, bptt=20, **lstm_options)


def _predict(task):
    return [task.generate("the ", 20, temperature=0), task.generate("a ", 20, seed=3)]


CASE = TaskCase(
    cls=LanguageModel,
    make=_make,
    fit=lambda task: task.fit(CORPUS, **FIT),
    predict=_predict,
    evaluate=lambda task: task.evaluate(CORPUS[-200:]),
    same=lambda a, b: a == b,
)
