"""Confusion-matrix plot: counts in the cells, colour = share of the true class (recall)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.errors import DataError, ShapeError
from lstmkit.viz._figure import new_figure, save_png


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (the share of each true class predicted as each class); rows
    of a class that never occurs stay 0."""
    totals = matrix.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def plot_confusion_matrix(
    matrix: Any,
    labels: Sequence[Any],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    max_label_chars: int = 18,
) -> Path:
    """Plot a confusion matrix (rows true label, columns predicted, as
    :func:`lstmkit.tasks.classify.metrics.confusion_matrix` returns it) to a PNG.

    Each cell shows its count and, below it, its share of the row; the colour is that share, so a
    rare class's row reads as clearly as a frequent one's. Returns the path written (atomically).
    """
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ShapeError(f"a confusion matrix must be square (C, C), got shape {counts.shape}")
    if counts.shape[0] != len(labels):
        raise ShapeError(
            f"the matrix has {counts.shape[0]} classes but {len(labels)} labels were given"
        )
    if counts.shape[0] == 0:
        raise DataError("the confusion matrix is empty: there are no classes to plot")
    if (counts < 0).any():
        raise DataError("a confusion matrix holds counts; it has negative values")
    shares = row_normalised(counts)
    n = counts.shape[0]
    names = [_short(str(label), max_label_chars) for label in labels]
    size = min(3.0 + 0.6 * n, 16.0)
    fig = new_figure(size + 1.2, size)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    fontsize = 9 if n <= 10 else 7 if n <= 20 else 5
    if n <= 30:  # beyond that, numbers would not fit in the cells
        for r in range(n):
            for c in range(n):
                colour = "white" if shares[r, c] > 0.6 else "black"
                ax.text(
                    c,
                    r,
                    f"{int(counts[r, c])}\n{shares[r, c]:.0%}",
                    ha="center",
                    va="center",
                    color=colour,
                    fontsize=fontsize,
                )
    ax.set_xticks(range(n), names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    total = int(counts.sum())
    accuracy = float(np.trace(counts) / total) if total else float("nan")
    ax.set_title(title or f"confusion matrix (n={total}, accuracy {accuracy:.1%})")
    return save_png(fig, path)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["plot_confusion_matrix", "row_normalised"]
