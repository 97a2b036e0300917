"""Attention maps: which source token each output token attended to."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.errors import ShapeError
from lstmkit.viz._figure import new_figure, save_png


def _label(token: str) -> str:
    # spaces would be invisible tick labels; show them as the open-box sign
    return token.replace(" ", "\u2423") if token.strip() == "" else token


def plot_attention(
    weights: Any,
    source_tokens: Sequence[str],
    output_tokens: Sequence[str],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    annotate: bool | None = None,
) -> Path:
    """Heatmap of ``weights`` (``(len(output_tokens), len(source_tokens))``, rows = output steps):
    source tokens along x, output tokens down y, darker = more attention. ``annotate`` writes each
    weight in its cell (default: only for maps of at most 20 x 20). Writes a PNG; returns its path.
    """
    w = np.asarray(weights, dtype=np.float64)
    expected = (len(output_tokens), len(source_tokens))
    if w.ndim != 2 or w.shape != expected:
        raise ShapeError(
            f"weights must have shape (output tokens, source tokens) = {expected}, got {w.shape}"
        )
    if w.size == 0:
        raise ShapeError("weights are empty: there is nothing to plot")
    if not np.isfinite(w).all():
        raise ShapeError("weights hold NaN or infinity")
    rows, cols = w.shape
    if annotate is None:
        annotate = rows <= 20 and cols <= 20
    width = min(16.0, 2.0 + 0.42 * cols)
    height = min(16.0, 1.6 + 0.36 * rows)
    fig = new_figure(max(width, 4.0), max(height, 3.0))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(w, cmap="Blues", vmin=0.0, vmax=max(1e-12, float(w.max())), aspect="auto")
    ax.set_xticks(range(cols), [_label(t) for t in source_tokens], rotation=90, fontsize=8)
    ax.set_yticks(range(rows), [_label(t) for t in output_tokens], fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if annotate:
        high = 0.6 * float(w.max())
        for i in range(rows):
            for j in range(cols):
                ax.text(
                    j,
                    i,
                    f"{w[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if w[i, j] > high else "0.2",
                )
    ax.set_title(title or "attention")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    return save_png(fig, path)


__all__ = ["plot_attention"]
