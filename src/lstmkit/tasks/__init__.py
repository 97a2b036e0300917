"""Applications, one class each, with ``fit``, ``predict``, ``evaluate``, ``save`` and ``load``.

* :class:`Forecaster` — multi-step forecasts (point or quantile) of one or many time series.
* :class:`AnomalyDetector` — anomalies in multivariate series, batch and streaming.

Shared pieces: :mod:`lstmkit.tasks.persistence` (the model directory format),
:mod:`lstmkit.tasks.metrics` and :mod:`lstmkit.tasks.baselines`.
"""

from lstmkit.tasks.anomaly import AnomalyDetector, AnomalyStream, Detection
from lstmkit.tasks.forecaster import BacktestResult, Forecaster

__all__ = ["AnomalyDetector", "AnomalyStream", "BacktestResult", "Detection", "Forecaster"]
