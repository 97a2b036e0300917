"""Anomaly detection on multivariate series: LSTM prediction errors, LSTM autoencoder
reconstruction errors, or the rolling z-score baseline; batch and streaming.

* :mod:`~lstmkit.tasks.anomaly.task` — :class:`AnomalyDetector` (fit, score, detect, evaluate,
  stream, save, load).
* :mod:`~lstmkit.tasks.anomaly.net` — the one-step-ahead LSTM and the LSTM autoencoder.
* :mod:`~lstmkit.tasks.anomaly.scoring` — EWMA smoothing, the dynamic (Hundman et al. 2018) and
  fixed thresholds, pruning, the rolling z-score.
* :mod:`~lstmkit.tasks.anomaly.streaming` — :class:`AnomalyStream`, O(1) per row.
* :mod:`~lstmkit.tasks.anomaly.csv_stream` — :func:`score_csv_lines`, CSV text lines scored as
  they arrive (``lstmkit detect stream``), bad rows reported.
* :mod:`~lstmkit.tasks.anomaly.metrics` — point-wise, event-wise and point-adjusted metrics.
* :mod:`~lstmkit.tasks.anomaly.benchmark` — the seeded synthetic benchmark of every method.
* :mod:`~lstmkit.tasks.anomaly.evt` — SPOT / DSPOT thresholds from a false-alarm rate (Siffer et
  al. 2017) and :func:`~lstmkit.tasks.anomaly.evt.alarms` (suppression, hysteresis).
* :mod:`~lstmkit.tasks.anomaly.online` — :class:`OnlineDetector`, learning as it streams, for data
  without a training part; checkpointable.
* :mod:`~lstmkit.tasks.anomaly.nab` — our Numenta Anomaly Benchmark scorer;
  :mod:`~lstmkit.tasks.anomaly.nab_benchmark` runs the online detector over NAB.

Labels files are read by :func:`lstmkit.data.interval_labels.labels_to_rows`.
"""

from lstmkit.data.interval_labels import labels_to_rows
from lstmkit.tasks.anomaly.evt import Spot, alarms
from lstmkit.tasks.anomaly.metrics import evaluate_detection, flat_metrics, format_evaluation
from lstmkit.tasks.anomaly.online import OnlineDetector
from lstmkit.tasks.anomaly.streaming import AnomalyStream
from lstmkit.tasks.anomaly.task import AnomalyDetector, Detection

__all__ = [
    "AnomalyDetector",
    "AnomalyStream",
    "Detection",
    "OnlineDetector",
    "Spot",
    "alarms",
    "evaluate_detection",
    "flat_metrics",
    "format_evaluation",
    "labels_to_rows",
]
