"""Forecast plots: the recent history, the forecast and its prediction-interval band."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lstmkit.errors import DataError
from lstmkit.viz._figure import new_figure, save_png


def _quantile_columns(frame: pd.DataFrame, target: str) -> list[tuple[float, str]]:
    prefix = f"{target}_q"
    found = []
    for col in frame.columns:
        if isinstance(col, str) and col.startswith(prefix):
            try:
                found.append((float(col[len(prefix) :]), col))
            except ValueError:
                continue
    return sorted(found)


def plot_forecast(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    time_col: str,
    target: str,
    actual: pd.DataFrame | None = None,
    last_n: int | None = 120,
    title: str | None = None,
) -> Path:
    """Plot ``history`` (its last ``last_n`` rows), the ``forecast`` and, when the forecast has
    ``<target>_q<q>`` columns, shaded bands between symmetric quantiles (outermost lightest).
    ``actual`` (optional) holds the true values over the forecast period. Writes a PNG; returns
    its path.
    """
    for name, frame in (("history", history), ("forecast", forecast)):
        absent = [c for c in (time_col, target) if c not in frame.columns]
        if absent:
            raise DataError(f"{name} frame lacks column(s) {absent}; it has {list(frame.columns)}")
    hist = history.tail(last_n) if last_n else history
    fig = new_figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(hist[time_col], hist[target], color="0.25", lw=1.2, label="history")
    bands = _quantile_columns(forecast, target)
    pairs = [(lo, hi) for lo, hi in zip(bands, reversed(bands), strict=True) if lo[0] < hi[0]]
    for k, ((q_lo, lo), (q_hi, hi)) in enumerate(pairs):
        alpha = 0.18 + 0.17 * k / max(1, len(pairs) - 1) if len(pairs) > 1 else 0.25
        ax.fill_between(
            forecast[time_col],
            forecast[lo],
            forecast[hi],
            color="tab:blue",
            alpha=alpha,
            lw=0,
            label=f"{q_lo:g}-{q_hi:g} interval",
        )
    if actual is not None and target in actual.columns:
        ax.plot(actual[time_col], actual[target], color="0.25", lw=1.2, ls="--", label="actual")
    # join the forecast line to the last observed point so the eye follows it
    join_t = (
        [hist[time_col].iloc[-1], *forecast[time_col]] if len(hist) else list(forecast[time_col])
    )
    join_y = [hist[target].iloc[-1], *forecast[target]] if len(hist) else list(forecast[target])
    ax.plot(join_t, join_y, color="tab:blue", lw=1.8, label="forecast")
    ax.set_xlabel(time_col)
    ax.set_ylabel(target)
    ax.set_title(title or f"{target}: {len(forecast)}-step forecast")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return save_png(fig, path)


def plot_forecasts(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    time_col: str,
    targets: Sequence[str],
    id_col: str | None = None,
    actual: pd.DataFrame | None = None,
    prefix: str = "forecast",
    max_series: int = 4,
    **kwargs: Any,
) -> list[Path]:
    """One :func:`plot_forecast` PNG per target (and per series, for the first ``max_series``
    series). Returns the paths written."""
    out = Path(out_dir)
    keys: list[Any] = [None] if id_col is None else list(pd.unique(forecast[id_col]))[:max_series]
    paths = []
    for key in keys:
        hist, fc, act = (_rows(frame, id_col, key) for frame in (history, forecast, actual))
        for target in targets:
            name = prefix if len(targets) == 1 else f"{prefix}_{target}"
            title = f"{target}: {len(fc)}-step forecast"
            if key is not None:
                name += f"_{_safe(key)}"
                title += f" ({id_col}={key})"
            paths.append(
                plot_forecast(
                    hist,
                    fc,
                    out / f"{name}.png",
                    time_col=time_col,
                    target=target,
                    actual=act,
                    title=title,
                    **kwargs,
                )
            )
    return paths


def _rows(frame: pd.DataFrame | None, id_col: str | None, key: Any) -> pd.DataFrame | None:
    """The rows of series ``key`` (all rows when there is no id column)."""
    if frame is None or key is None:
        return frame
    return frame[frame[id_col] == key]


def _safe(key: Any) -> str:
    text = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(key))
    return text[:40] or "series"


__all__ = ["plot_forecast", "plot_forecasts"]
