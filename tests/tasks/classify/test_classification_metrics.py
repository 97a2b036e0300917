"""Classification metrics against hand-worked values and scikit-learn; the bag-of-words baseline."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lstmkit.errors import ConfigError, DataError, ShapeError
from lstmkit.tasks.classify.metrics import (
    accuracy,
    bow_logistic_baseline,
    classification_report,
    confusion_matrix,
    format_report,
    macro_f1,
    sorted_labels,
)

# 10 examples over 3 classes, worked out by hand below.
Y_TRUE = ["a", "a", "a", "a", "b", "b", "b", "c", "c", "c"]
Y_PRED = ["a", "a", "b", "c", "b", "b", "a", "c", "c", "b"]


def test_confusion_matrix_by_hand():
    m = confusion_matrix(Y_TRUE, Y_PRED)
    # rows true a, b, c; columns predicted a, b, c
    assert m.tolist() == [[2, 1, 1], [1, 2, 0], [0, 1, 2]]
    assert m.dtype == np.int64


def test_report_by_hand():
    r = classification_report(Y_TRUE, Y_PRED)
    assert r["n"] == 10
    assert r["accuracy"] == pytest.approx(6 / 10)
    assert r["labels"] == ["a", "b", "c"]
    # a: P = 2/3 (predicted a 3 times), R = 2/4, F1 = 2PR/(P+R) = 4/7
    # b: P = 2/4, R = 2/3, F1 = 4/7;  c: P = 2/3, R = 2/3, F1 = 2/3
    pa, pb, pc = r["per_class"]["a"], r["per_class"]["b"], r["per_class"]["c"]
    assert (pa["precision"], pa["recall"], pa["f1"]) == pytest.approx((2 / 3, 1 / 2, 4 / 7))
    assert (pb["precision"], pb["recall"], pb["f1"]) == pytest.approx((1 / 2, 2 / 3, 4 / 7))
    assert (pc["precision"], pc["recall"], pc["f1"]) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert [pa["support"], pb["support"], pc["support"]] == [4, 3, 3]
    assert r["macro_f1"] == pytest.approx((4 / 7 + 4 / 7 + 2 / 3) / 3)
    assert macro_f1(Y_TRUE, Y_PRED) == pytest.approx(r["macro_f1"])
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(0.6)
    text = format_report(r, title="model:")
    assert text.splitlines()[0] == "model:"
    assert "macro-F1 0.6032" in text


def test_never_predicted_and_absent_classes_score_zero():
    # class "b" is never predicted (precision 0) and "c" never occurs (recall 0): F1 0 for both
    r = classification_report(["a", "b"], ["a", "a"], labels=["a", "b", "c"])
    assert r["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert r["per_class"]["c"]["f1"] == 0.0
    assert r["confusion_matrix"] == [[1, 0, 0], [1, 0, 0], [0, 0, 0]]
    assert r["macro_f1"] == pytest.approx((2 / 3) / 3)


def test_matches_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 200).tolist()
    y_pred = [y if rng.random() < 0.6 else int(rng.integers(0, 4)) for y in y_true]
    r = classification_report(y_true, y_pred)
    assert r["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert r["macro_f1"] == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    np.testing.assert_array_equal(
        np.array(r["confusion_matrix"]), sk.confusion_matrix(y_true, y_pred)
    )
    p, rec, f1, support = sk.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    for k in range(4):
        got = r["per_class"][str(k)]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p[k], rec[k], f1[k]))
        assert got["support"] == support[k]


def test_label_order_and_mixed_types():
    assert sorted_labels([2, 1, 2]) == [1, 2]
    assert sorted_labels(["b", 1]) == [1, "b"]  # by type name, then text
    m = confusion_matrix(["x", "y"], ["y", "y"], labels=["y", "x"])
    assert m.tolist() == [[1, 0], [1, 0]]


def test_errors():
    with pytest.raises(ShapeError, match="y_true has 2 labels but y_pred has 1"):
        confusion_matrix(["a", "b"], ["a"])
    with pytest.raises(DataError, match="cannot score 0 examples"):
        accuracy([], [])
    with pytest.raises(DataError, match=r"labels \['c'\] occur in the data but are not in"):
        confusion_matrix(["a", "c"], ["a", "a"], labels=["a"])
    with pytest.raises(ConfigError, match="labels must be distinct"):
        confusion_matrix(["a"], ["a"], labels=["a", "a"])


def _keyword_texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    filler = ["the", "a", "film", "plot", "actor", "scene", "story", "long", "short", "red", "blue"]
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(filler, int(rng.integers(3, 9))))
        label = "pos" if rng.random() < 0.5 else "neg"
        words.insert(int(rng.integers(0, len(words))), "great" if label == "pos" else "awful")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def test_baseline_learns_a_keyword_task():
    pytest.importorskip("sklearn")
    train, test = _keyword_texts(200, 0), _keyword_texts(60, 1)
    r = bow_logistic_baseline(*train, *test, seed=0)
    assert r["accuracy"] == 1.0
    assert r["n"] == 60
    assert r["labels"] == ["neg", "pos"]
    assert "logistic regression" in r["model"]
    assert r["n_features"] > 10


def test_baseline_errors(monkeypatch):
    pytest.importorskip("sklearn")
    with pytest.raises(DataError, match=r"at least 2 classes .* got \['pos'\]"):
        bow_logistic_baseline(["a b", "c"], ["pos", "pos"], ["a"], ["pos"])
    with pytest.raises(ShapeError, match="train_texts has 2 items but train_labels has 1"):
        bow_logistic_baseline(["a b", "c"], ["pos"], ["a"], ["pos"])
    with pytest.raises(DataError, match="got 0 training and 1 test texts"):
        bow_logistic_baseline([], [], ["a"], ["pos"])
    # scikit-learn missing: a clear error, not an ImportError traceback
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    with pytest.raises(ConfigError, match="needs scikit-learn.*pip install scikit-learn"):
        bow_logistic_baseline(["a", "b"], ["x", "y"], ["a"], ["x"])
