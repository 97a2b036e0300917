"""Applications, one class each, with ``fit``, ``predict``, ``evaluate``, ``save`` and ``load``.

* :class:`Forecaster` — multi-step forecasts (point or quantile) of one or many time series.
* :class:`AnomalyDetector` — anomalies in multivariate series, batch and streaming.
* :class:`SequenceClassifier` — one label per text or numeric sequence (BiLSTM + pooling).
* :class:`LanguageModel` — character, word or subword LSTM language models; sampling.
* :class:`Tagger` — a label per token (BiLSTM-CRF), CoNLL files, span-level scores.
* :class:`Seq2Seq` — text to text with an attentional decoder and beam search.

Shared pieces: :mod:`lstmkit.tasks.persistence` (the model directory format),
:mod:`lstmkit.tasks.metrics` and :mod:`lstmkit.tasks.baselines`.
"""

from lstmkit.tasks.anomaly import AnomalyDetector, AnomalyStream, Detection
from lstmkit.tasks.classifier import SequenceClassifier
from lstmkit.tasks.forecaster import BacktestResult, Forecaster
from lstmkit.tasks.language_model import LanguageModel
from lstmkit.tasks.seq2seq import Seq2Seq
from lstmkit.tasks.tagger import Tagger

__all__ = [
    "AnomalyDetector",
    "AnomalyStream",
    "BacktestResult",
    "Detection",
    "Forecaster",
    "LanguageModel",
    "Seq2Seq",
    "SequenceClassifier",
    "Tagger",
]
