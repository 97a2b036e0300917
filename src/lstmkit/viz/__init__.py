"""Plots written as PNG files (matplotlib, off-screen Agg canvases; pyplot is never touched).

* :func:`plot_forecast` / :func:`plot_forecasts` — history, forecast and interval bands.
* :func:`plot_loss_curves` — training and validation loss per epoch.
* :func:`plot_anomalies` — a series with its anomaly scores and flagged intervals shaded.
"""

from lstmkit.viz.anomaly import plot_anomalies
from lstmkit.viz.forecast import plot_forecast, plot_forecasts
from lstmkit.viz.training import plot_loss_curves

__all__ = ["plot_anomalies", "plot_forecast", "plot_forecasts", "plot_loss_curves"]
