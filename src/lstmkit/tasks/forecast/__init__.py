"""Forecasting: :class:`Forecaster` and what it is measured against.

* :mod:`~lstmkit.tasks.forecast.task` — :class:`Forecaster` (fit, predict, evaluate, backtest,
  save, load).
* :mod:`~lstmkit.tasks.forecast.net` — the encoder-decoder network and the pinball loss.
* :mod:`~lstmkit.tasks.forecast.smoothing` — the hybrid's exponential smoothing (after ES-RNN).
* :mod:`~lstmkit.tasks.forecast.statistical` — statsforecast's AutoETS, AutoARIMA, AutoTheta.
* :mod:`~lstmkit.tasks.forecast.baselines`, :mod:`~lstmkit.tasks.forecast.metrics` — naive and
  seasonal-naive forecasts; MAE, RMSE, sMAPE, MASE.
* :mod:`~lstmkit.tasks.forecast.benchmark` — the rolling-origin benchmark behind FORECASTING.md.
"""

from lstmkit._lazy import lazy_attributes

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "BacktestResult": "lstmkit.tasks.forecast.task",
        "Forecaster": "lstmkit.tasks.forecast.task",
    },
)

__all__ = ["BacktestResult", "Forecaster"]
