"""Applications, one class each, with ``fit``, ``predict``, ``evaluate``, ``save`` and ``load``.

* :class:`Forecaster` — multi-step forecasts (point or quantile) of one or many time series.
* :class:`AnomalyDetector` — anomalies in multivariate series, batch and streaming.
* :class:`SequenceClassifier` — one label per text or numeric sequence (BiLSTM + pooling).
* :class:`LanguageModel` — character, word or subword LSTM language models; sampling.
* :class:`Tagger` — a label per token (BiLSTM-CRF), CoNLL files, span-level scores.
* :class:`Seq2Seq` — text to text with an attentional decoder and beam search.
* :class:`SpeechRecognizer` — speech to text (BiLSTM + CTC), WAV files, error rates.

Each task is a subpackage shaped alike (``task.py``, ``net.py``, ``metrics.py``) on one base,
:class:`lstmkit.tasks.base.Task`; :mod:`lstmkit.tasks.persistence` is the model directory format,
and :func:`load_task` (:mod:`lstmkit.tasks.loading`) loads a saved model whatever its task.
"""

from lstmkit._lazy import lazy_attributes

# Each task is imported on first use, with its own dependencies: loading a forecaster does not
# import the text tasks (tokenizers, CRF, beam search) nor the anomaly detector.
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "AnomalyDetector": "lstmkit.tasks.anomaly",
        "AnomalyStream": "lstmkit.tasks.anomaly",
        "BacktestResult": "lstmkit.tasks.forecast",
        "Detection": "lstmkit.tasks.anomaly",
        "Forecaster": "lstmkit.tasks.forecast",
        "LanguageModel": "lstmkit.tasks.language_model",
        "Seq2Seq": "lstmkit.tasks.seq2seq",
        "SequenceClassifier": "lstmkit.tasks.classify",
        "SpeechRecognizer": "lstmkit.tasks.speech",
        "Tagger": "lstmkit.tasks.tagging",
        "load_task": "lstmkit.tasks.loading",
    },
)

__all__ = [
    "AnomalyDetector",
    "AnomalyStream",
    "BacktestResult",
    "Detection",
    "Forecaster",
    "LanguageModel",
    "Seq2Seq",
    "SequenceClassifier",
    "SpeechRecognizer",
    "Tagger",
    "load_task",
]
