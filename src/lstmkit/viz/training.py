"""Training curves: mean training and validation loss per epoch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lstmkit.errors import DataError
from lstmkit.viz._figure import new_figure, save_png


def plot_loss_curves(
    history: Any,
    path: str | os.PathLike[str],
    *,
    title: str = "training",
    log_scale: bool | None = None,
) -> Path:
    """Plot a :class:`lstmkit.train.History` (or its ``to_dict()``) to a PNG; returns its path.

    The best validation epoch is marked. ``log_scale`` defaults to on when the loss spans more
    than two orders of magnitude.
    """
    data = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    epochs = list(data.get("epoch", []))
    train = list(data.get("train_loss", []))
    val = list(data.get("val_loss", []))
    if not epochs:
        raise DataError("the history is empty: nothing to plot (was the model trained?)")
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(epochs, train, marker=".", label="train loss")
    val_points = [(e, v) for e, v in zip(epochs, val, strict=False) if v is not None]
    if val_points:
        ve, vv = zip(*val_points, strict=True)
        ax.plot(ve, vv, marker=".", label="validation loss")
        best = min(range(len(vv)), key=vv.__getitem__)
        ax.axvline(ve[best], color="0.5", ls=":", lw=1)
        ax.annotate(
            f"best epoch {ve[best]}",
            (ve[best], vv[best]),
            textcoords="offset points",
            xytext=(5, 8),
            fontsize=8,
        )
    values = [v for v in train + [v for _, v in val_points] if v is not None and v > 0]
    if log_scale is None:
        log_scale = bool(values) and max(values) / min(values) > 100
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_png(fig, path)


__all__ = ["plot_loss_curves"]
