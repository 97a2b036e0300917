"""Plots written as PNG files (matplotlib, off-screen Agg canvases; pyplot is never touched).

* :func:`plot_forecast` / :func:`plot_forecasts` — history, forecast and interval bands.
* :func:`plot_loss_curves` — training and validation loss per epoch.
* :func:`plot_anomalies` — a series with its anomaly scores and flagged intervals shaded.
* :func:`plot_confusion_matrix` — counts, coloured by the share of each true class.
* :func:`plot_attention` — where a sequence-to-sequence decoder looked, step by step.
"""

from lstmkit.viz.anomaly import plot_anomalies
from lstmkit.viz.attention import plot_attention
from lstmkit.viz.confusion import plot_confusion_matrix
from lstmkit.viz.forecast import plot_forecast, plot_forecasts
from lstmkit.viz.training import plot_loss_curves

__all__ = [
    "plot_anomalies",
    "plot_attention",
    "plot_confusion_matrix",
    "plot_forecast",
    "plot_forecasts",
    "plot_loss_curves",
]
