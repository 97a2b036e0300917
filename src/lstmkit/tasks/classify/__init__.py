"""Sequence classification: :class:`SequenceClassifier` and what it is measured with.

* :mod:`~lstmkit.tasks.classify.task` — :class:`SequenceClassifier` (fit, predict, evaluate,
  report, tables, save, load).
* :mod:`~lstmkit.tasks.classify.net` — the network: embedding or numeric features, a (bi)LSTM,
  masked pooling, a linear head.
* :mod:`~lstmkit.tasks.classify.metrics` — accuracy, macro-F1, per-class scores, the confusion
  matrix, and the bag-of-words logistic-regression baseline.
"""

from lstmkit._lazy import lazy_attributes

_WHERE = {
    "ClassifierNet": "lstmkit.tasks.classify.net",
    "POOLINGS": "lstmkit.tasks.classify.net",
    "SequenceClassifier": "lstmkit.tasks.classify.task",
    "accuracy": "lstmkit.tasks.classify.metrics",
    "bow_logistic_baseline": "lstmkit.tasks.classify.metrics",
    "classification_report": "lstmkit.tasks.classify.metrics",
    "confusion_matrix": "lstmkit.tasks.classify.metrics",
    "format_report": "lstmkit.tasks.classify.metrics",
    "macro_f1": "lstmkit.tasks.classify.metrics",
    "scores_frame": "lstmkit.tasks.classify.metrics",
    "sorted_labels": "lstmkit.tasks.classify.metrics",
}
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
__all__ = list(_WHERE)
