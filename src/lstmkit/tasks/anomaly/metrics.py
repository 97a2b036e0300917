"""Scoring detections against labelled anomaly intervals.

Three views, each with precision, recall and F1:

* ``point`` — every row is a sample: a flagged row inside a labelled interval is a true positive.
* ``event`` — every interval is a sample: recall is the share of labelled intervals that at least
  one detected interval overlaps; precision is the share of detected intervals that overlap at
  least one labelled interval.
* ``point_adjusted`` — the point view after marking *every* row of a labelled interval as detected
  when any of its rows is (Xu et al., 2018). It is reported separately because it is known to
  flatter detectors: one lucky row inside a long interval counts as the whole interval found.

And the UCR-archive view (Wu and Keogh's anomaly archive, where every series holds exactly one
labelled anomaly): :func:`top_score_hit`, whether the row with the highest score lies within
``tolerance`` (100) rows of the labelled interval; NaN unless exactly one interval is labelled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

Interval = tuple[int, int]  # inclusive row range

VIEWS = ("point", "event", "point_adjusted")


def _prf(tp: float, n_pred: float, n_true: float) -> tuple[float, float, float]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def intervals_to_mask(intervals: Sequence[Interval], n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for s, e in intervals:
        mask[max(int(s), 0) : min(int(e), n - 1) + 1] = True
    return mask


def _overlaps(a: Interval, b: Interval) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def evaluate_detection(
    predicted: Sequence[Interval], labelled: Sequence[Interval], n: int
) -> pd.DataFrame:
    """Precision, recall and F1 of ``predicted`` against ``labelled`` intervals over ``n`` rows.

    Both are inclusive row ranges. Returns a DataFrame indexed by view (``point``, ``event``,
    ``point_adjusted``) with columns precision, recall, f1, and the counts behind them.
    """
    pred = intervals_to_mask(predicted, n)
    true = intervals_to_mask(labelled, n)
    rows = {}
    tp = int((pred & true).sum())
    rows["point"] = (*_prf(tp, pred.sum(), true.sum()), int(pred.sum()), int(true.sum()))
    hit_true = [any(_overlaps(t, p) for p in predicted) for t in labelled]
    hit_pred = [any(_overlaps(p, t) for t in labelled) for p in predicted]
    precision = sum(hit_pred) / len(predicted) if predicted else 0.0
    recall = sum(hit_true) / len(labelled) if labelled else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    rows["event"] = (precision, recall, f1, len(predicted), len(labelled))
    adjusted = pred.copy()
    for t, hit in zip(labelled, hit_true, strict=True):
        if hit:
            adjusted[t[0] : t[1] + 1] = True
    tp = int((adjusted & true).sum())
    rows["point_adjusted"] = (
        *_prf(tp, adjusted.sum(), true.sum()),
        int(adjusted.sum()),
        int(true.sum()),
    )
    frame = pd.DataFrame.from_dict(
        rows, orient="index", columns=["precision", "recall", "f1", "n_predicted", "n_labelled"]
    )
    frame.index.name = "view"
    return frame


UCR_TOLERANCE = 100


def top_score_hit(
    scores: Sequence[float] | np.ndarray,
    labelled: Sequence[Interval],
    *,
    tolerance: int = UCR_TOLERANCE,
    skip: int = 0,
) -> float:
    """1.0 if the highest score (NaN ignored, the first ``skip`` rows left out) lies within
    ``tolerance`` rows of the one labelled interval, else 0.0; NaN unless exactly one interval is
    labelled or when no row has a score."""
    if len(labelled) != 1:
        return float("nan")
    s = np.asarray(scores, dtype=np.float64).copy()
    s[: max(int(skip), 0)] = np.nan
    if not np.isfinite(s).any():
        return float("nan")
    top = int(np.nanargmax(np.where(np.isinf(s) & (s < 0), np.nan, s)))
    start, end = int(labelled[0][0]), int(labelled[0][1])
    return float(start - tolerance <= top <= end + tolerance)


def flat_metrics(views: pd.DataFrame) -> dict[str, float]:
    """:func:`evaluate_detection`'s table as one row of scalars, ``<view>_<metric>`` (e.g.
    ``event_f1``, ``point_adjusted_recall``, ``point_n_predicted``), views in table order."""
    return {
        f"{view}_{metric}": float(value)
        for view, row in views.iterrows()
        for metric, value in row.items()
    }


def format_evaluation(metrics: pd.DataFrame) -> str:
    """The evaluation table as text, with the point-adjusted row labelled as flattering."""
    from lstmkit._table import format_table

    names = {
        "point": "point-wise (rows)",
        "event": "event-wise (intervals)",
        "point_adjusted": "point-adjusted (flatters)",
    }
    rows = [
        [
            names.get(str(view), str(view)),
            f"{r.precision:.3f}",
            f"{r.recall:.3f}",
            f"{r.f1:.3f}",
            str(int(r.n_predicted)),
            str(int(r.n_labelled)),
        ]
        for view, r in metrics.iterrows()
    ]
    return format_table(["view", "precision", "recall", "f1", "predicted", "labelled"], rows)


__all__ = [
    "UCR_TOLERANCE",
    "VIEWS",
    "evaluate_detection",
    "flat_metrics",
    "format_evaluation",
    "intervals_to_mask",
    "top_score_hit",
]
