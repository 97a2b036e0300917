"""Anomaly plots: the series, its anomaly score and threshold, detected intervals shaded."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit.errors import DataError
from lstmkit.viz._figure import new_figure, save_png


def plot_anomalies(
    data: pd.DataFrame,
    scores: pd.DataFrame,
    intervals: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    time_col: str,
    columns: Sequence[str],
    labels: pd.DataFrame | None = None,
    title: str | None = None,
) -> Path:
    """Two panels sharing the time axis: the channels of ``data`` on top, the combined ``score``
    (and ``threshold`` when present) below. Detected ``intervals`` (``start``/``end`` columns) are
    shaded red on both; labelled intervals (``labels``, same columns) are outlined green. Writes a
    PNG; returns its path.
    """
    columns = list(columns)
    for name, frame, need in (
        ("data", data, [time_col, *columns]),
        ("scores", scores, [time_col, "score"]),
        ("intervals", intervals, ["start", "end"]),
    ):
        absent = [c for c in need if c not in frame.columns]
        if absent:
            raise DataError(f"{name} frame lacks column(s) {absent}; it has {list(frame.columns)}")
    fig = new_figure(11.0, 6.0)
    top = fig.add_subplot(2, 1, 1)
    bottom = fig.add_subplot(2, 1, 2, sharex=top)
    for name in columns:
        top.plot(data[time_col], data[name], lw=0.8, label=name)
    bottom.plot(scores[time_col], scores["score"], color="0.2", lw=0.9, label="score")
    if "threshold" in scores.columns and np.isfinite(scores["threshold"]).any():
        thr = scores["threshold"].where(np.isfinite(scores["threshold"]))
        bottom.plot(scores[time_col], thr, color="tab:red", lw=0.9, ls="--", label="threshold")
    for i, (s, e) in enumerate(zip(intervals["start"], intervals["end"], strict=True)):
        for ax in (top, bottom):
            ax.axvspan(
                s, e, color="tab:red", alpha=0.25, lw=0, label="detected" if i == 0 else None
            )
    if labels is not None and len(labels):
        for i, (s, e) in enumerate(zip(labels["start"], labels["end"], strict=True)):
            top.axvspan(
                s,
                e,
                fill=False,
                edgecolor="tab:green",
                lw=1.0,
                label="labelled" if i == 0 else None,
            )
    top.set_ylabel("value")
    bottom.set_ylabel("anomaly score")
    bottom.set_xlabel(time_col)
    top.set_title(title or f"{len(intervals)} detected interval(s)")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    return save_png(fig, path)


__all__ = ["plot_anomalies"]
