"""Anomaly detection on multivariate series: LSTM prediction errors, LSTM autoencoder
reconstruction errors, or the rolling z-score baseline; batch and streaming.

* :mod:`~lstmkit.tasks.anomaly.detector` — :class:`AnomalyDetector` (fit, score, detect, evaluate,
  stream, save, load).
* :mod:`~lstmkit.tasks.anomaly.nets` — the one-step-ahead LSTM and the LSTM autoencoder.
* :mod:`~lstmkit.tasks.anomaly.scoring` — EWMA smoothing, the dynamic (Hundman et al. 2018) and
  fixed thresholds, pruning, the rolling z-score.
* :mod:`~lstmkit.tasks.anomaly.streaming` — :class:`AnomalyStream`, O(1) per row.
* :mod:`~lstmkit.tasks.anomaly.evaluation` — point-wise, event-wise and point-adjusted metrics.
"""

from lstmkit.tasks.anomaly.detector import AnomalyDetector, Detection, labels_to_rows
from lstmkit.tasks.anomaly.evaluation import evaluate_detection, format_evaluation
from lstmkit.tasks.anomaly.streaming import AnomalyStream

__all__ = [
    "AnomalyDetector",
    "AnomalyStream",
    "Detection",
    "evaluate_detection",
    "format_evaluation",
    "labels_to_rows",
]
