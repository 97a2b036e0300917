"""Classification metrics (accuracy, macro-F1, per-class precision/recall/F1, confusion matrix)
and the bag-of-words logistic-regression baseline the classifier is measured against.

Labels may be any hashable values (strings, ints). Conventions, stated once:

* The confusion matrix has one row per *true* label and one column per *predicted* label, in the
  order of ``labels`` (by default: the sorted union of the labels in ``y_true`` and ``y_pred``).
* A class that is never predicted has precision 0; a class that never occurs has recall 0; F1 is 0
  when precision and recall are both 0 (scikit-learn's ``zero_division=0``).
* Macro-F1 is the unweighted mean of the per-class F1 over ``labels``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmkit._checks import described
from lstmkit.errors import ConfigError, DataError, ShapeError

if TYPE_CHECKING:
    import pandas as pd


def sorted_labels(values: Any) -> list[Any]:
    """The distinct values, sorted (by their text when they are of mixed types)."""
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=lambda v: (type(v).__name__, str(v)))


def _as_list(values: Any, name: str) -> list[Any]:
    if hasattr(values, "tolist"):
        values = values.tolist()
    out = list(values)
    for v in out:
        if not isinstance(v, Hashable):
            raise DataError(f"{name} must hold hashable labels, got {described(v)}")
    return out


def _pair(y_true: Any, y_pred: Any) -> tuple[list[Any], list[Any]]:
    a, b = _as_list(y_true, "y_true"), _as_list(y_pred, "y_pred")
    if len(a) != len(b):
        raise ShapeError(f"y_true has {len(a)} labels but y_pred has {len(b)}")
    if not a:
        raise DataError("cannot score 0 examples: y_true and y_pred are empty")
    return a, b


def _labels(a: list[Any], b: list[Any], labels: Sequence[Any] | None) -> list[Any]:
    if labels is None:
        return sorted_labels(a + b)
    out = list(labels)
    if len(set(out)) != len(out):
        raise ConfigError(f"labels must be distinct, got {out!r}")
    missing = sorted_labels(set(a + b) - set(out))
    if missing:
        raise DataError(f"labels {missing!r} occur in the data but are not in labels={out!r}")
    return out


def confusion_matrix(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None) -> np.ndarray:
    """Counts ``(C, C)`` int64: row = true label, column = predicted label, in ``labels`` order."""
    a, b = _pair(y_true, y_pred)
    order = _labels(a, b, labels)
    index = {label: k for k, label in enumerate(order)}
    matrix = np.zeros((len(order), len(order)), dtype=np.int64)
    np.add.at(matrix, ([index[v] for v in a], [index[v] for v in b]), 1)
    return matrix


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of examples whose predicted label equals the true one."""
    a, b = _pair(y_true, y_pred)
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def _per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / denom, 0.0)
    return precision, recall, f1, support


def macro_f1(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None) -> float:
    """Unweighted mean over ``labels`` of each class's F1."""
    _, _, f1, _ = _per_class(confusion_matrix(y_true, y_pred, labels))
    return float(f1.mean())


def classification_report(
    y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None
) -> dict[str, Any]:
    """Every metric at once, as plain (JSON-safe) Python values::

        {"n": 200, "accuracy": 0.9, "macro_f1": 0.89, "labels": ["neg", "pos"],
         "per_class": {"neg": {"precision": .., "recall": .., "f1": .., "support": 100}, ...},
         "confusion_matrix": [[90, 10], [10, 90]]}   # rows true, columns predicted

    ``per_class`` keys are ``str(label)`` so the dict survives JSON; ``labels`` keeps the values.
    """
    a, b = _pair(y_true, y_pred)
    order = _labels(a, b, labels)
    matrix = confusion_matrix(a, b, order)
    precision, recall, f1, support = _per_class(matrix)
    return {
        "n": len(a),
        "accuracy": float(np.trace(matrix) / len(a)),
        "macro_f1": float(f1.mean()),
        "labels": list(order),
        "per_class": {
            str(label): {
                "precision": float(precision[k]),
                "recall": float(recall[k]),
                "f1": float(f1[k]),
                "support": int(support[k]),
            }
            for k, label in enumerate(order)
        },
        "confusion_matrix": matrix.tolist(),
    }


def format_report(report: dict[str, Any], *, title: str | None = None) -> str:
    """The per-class table and the summary lines of :func:`classification_report`, as text."""
    from lstmkit._table import format_table

    rows = [
        [
            label,
            f"{m['precision']:.4f}",
            f"{m['recall']:.4f}",
            f"{m['f1']:.4f}",
            str(m["support"]),
        ]
        for label, m in report["per_class"].items()
    ]
    lines = [] if title is None else [title]
    lines.append(format_table(["class", "precision", "recall", "f1", "support"], rows))
    lines.append(
        f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   n {report['n']}"
    )
    return "\n".join(lines)


def bow_logistic_baseline(
    train_texts: Sequence[str],
    train_labels: Sequence[Any],
    test_texts: Sequence[str],
    test_labels: Sequence[Any],
    seed: int = 0,
    *,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 1,
    C: float = 1.0,  # noqa: N803 (scikit-learn's name)
    max_iter: int = 2000,
) -> dict[str, Any]:
    """Bag-of-words logistic regression: TF-IDF over lower-cased word n-grams (scikit-learn's
    ``TfidfVectorizer``) and ``LogisticRegression``, fitted on the training texts only.

    Returns :func:`classification_report` of its predictions on the test texts, plus
    ``"model"`` (a one-line description) and ``"n_features"`` (the vocabulary size).
    Needs scikit-learn (``pip install scikit-learn``); it is imported only here.
    """
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise ConfigError(
            "the bag-of-words baseline needs scikit-learn, which is not installed: "
            "pip install scikit-learn"
        ) from None
    train_texts, test_texts = list(train_texts), list(test_texts)
    train_labels, test_labels = _as_list(train_labels, "train_labels"), list(test_labels)
    if len(train_texts) != len(train_labels):
        raise ShapeError(
            f"train_texts has {len(train_texts)} items but train_labels has {len(train_labels)}"
        )
    if len(test_texts) != len(test_labels):
        raise ShapeError(
            f"test_texts has {len(test_texts)} items but test_labels has {len(test_labels)}"
        )
    if not train_texts or not test_texts:
        raise DataError(
            f"the baseline needs training and test texts, got {len(train_texts)} training and "
            f"{len(test_texts)} test texts"
        )
    if len(set(train_labels)) < 2:
        raise DataError(
            f"the baseline needs at least 2 classes in the training labels, got "
            f"{sorted_labels(train_labels)!r}"
        )
    vectorizer = TfidfVectorizer(lowercase=True, ngram_range=tuple(ngram_range), min_df=min_df)
    x_train = vectorizer.fit_transform(train_texts)
    x_test = vectorizer.transform(test_texts)
    # Integer class ids keep scikit-learn away from mixed label types.
    classes = sorted_labels(train_labels)
    index = {label: k for k, label in enumerate(classes)}
    model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    model.fit(x_train, [index[v] for v in train_labels])
    predicted = [classes[k] for k in model.predict(x_test)]
    report = classification_report(test_labels, predicted, sorted_labels([*classes, *test_labels]))
    report["model"] = (
        f"TF-IDF word {ngram_range[0]}-{ngram_range[1]}-grams + logistic regression (C={C:g})"
    )
    report["n_features"] = int(x_train.shape[1])
    return report


# The scalar scores of a report that evaluate() puts in its frame, one column each.
SCORES = ("accuracy", "macro_f1", "n")


def scores_frame(reports: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``SequenceClassifier.evaluate``'s frame from :func:`classification_report` dicts, one
    row per scored model in the given order: its scalar scores (``SCORES``) as columns."""
    from lstmkit.tasks.base import metrics_frame  # pandas and torch, only when a frame is made

    return metrics_frame({name: {k: report[k] for k in SCORES} for name, report in reports.items()})


__all__ = [
    "accuracy",
    "bow_logistic_baseline",
    "classification_report",
    "confusion_matrix",
    "format_report",
    "macro_f1",
    "scores_frame",
    "sorted_labels",
]
