"""The confusion-matrix plot: a PNG written atomically, row shares, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.errors import DataError, ShapeError
from lstmkit.viz.confusion import plot_confusion_matrix, row_normalised


def test_row_normalised_by_hand():
    shares = row_normalised(np.array([[3, 1], [0, 0]]))
    np.testing.assert_allclose(shares, [[0.75, 0.25], [0.0, 0.0]])  # an empty row stays 0


def test_writes_a_png(tmp_path):
    path = plot_confusion_matrix(
        [[50, 3, 1], [4, 40, 6], [0, 2, 30]],
        ["negative", "neutral", "positive"],
        tmp_path / "cm.png",
    )
    assert path == tmp_path / "cm.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]  # no temporary file left


def test_many_classes_and_long_names(tmp_path):
    n = 35  # no numbers in the cells past 30 classes, but still a plot
    matrix = np.eye(n, dtype=int) * 5
    labels = [f"a rather long class name {k}" for k in range(n)]
    assert plot_confusion_matrix(matrix, labels, tmp_path / "big.png").is_file()


def test_errors(tmp_path):
    with pytest.raises(ShapeError, match=r"must be square \(C, C\), got shape \(2, 3\)"):
        plot_confusion_matrix(np.zeros((2, 3)), ["a", "b"], tmp_path / "x.png")
    with pytest.raises(ShapeError, match="the matrix has 2 classes but 3 labels were given"):
        plot_confusion_matrix(np.zeros((2, 2)), ["a", "b", "c"], tmp_path / "x.png")
    with pytest.raises(DataError, match="negative values"):
        plot_confusion_matrix([[1, -1], [0, 1]], ["a", "b"], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
