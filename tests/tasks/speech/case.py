"""The SpeechRecognizer in the shared task contract: a tiny BiLSTM-CTC on ten bundled isolated
digits (speaker george, recording 0 of each), two epochs."""

from __future__ import annotations

from tests.tasks.contract import TaskCase, same_predictions

from lstmkit.data.spoken_digits import bundled_digits_dir, list_recordings
from lstmkit.tasks import SpeechRecognizer

PAIRS = [
    (r.path, str(r.digit))
    for r in list_recordings(bundled_digits_dir(), speakers=["george"], indices=range(1))
]
FIT = {"max_epochs": 2, "batch_size": 5, "lr": 0.01, "enable_progress_bar": False, "seed": 0}


def _make(**lstm_options):
    return SpeechRecognizer(hidden_size=8, num_layers=1, n_mels=16, stack=4, **lstm_options)


CASE = TaskCase(
    cls=SpeechRecognizer,
    make=_make,
    fit=lambda task: task.fit(PAIRS, **FIT),
    # the posteriors, not the transcripts: two epochs give mostly empty transcripts
    predict=lambda task: [p.round(5).tolist() for p in task.posteriors([p for p, _ in PAIRS[:3]])],
    evaluate=lambda task: task.evaluate(PAIRS[:4]),
    same=same_predictions,
)
