"""The attention heatmap: a PNG of the right size, written atomically, with checked inputs."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.errors import ShapeError
from lstmkit.viz.attention import plot_attention


def test_writes_png(tmp_path):
    weights = np.eye(4)[::-1]
    path = plot_attention(weights, list("abcd"), list("dcba"), tmp_path / "sub" / "attn.png")
    assert path == tmp_path / "sub" / "attn.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["attn.png"]  # no temporary left behind


def test_axes_hold_tokens(tmp_path, monkeypatch):
    import lstmkit.viz.attention as module

    seen = {}
    real_save = module.save_png

    def spy(fig, path):
        ax = fig.axes[0]
        seen["x"] = [t.get_text() for t in ax.get_xticklabels()]
        seen["y"] = [t.get_text() for t in ax.get_yticklabels()]
        seen["image"] = ax.images[0].get_array()
        return real_save(fig, path)

    monkeypatch.setattr(module, "save_png", spy)
    weights = np.array([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]])
    plot_attention(weights, ["a", " ", "b"], ["x", "<eos>"], tmp_path / "a.png", annotate=False)
    assert seen["x"] == ["a", "\u2423", "b"]  # a space shows as a visible sign
    assert seen["y"] == ["x", "<eos>"]
    np.testing.assert_array_equal(np.asarray(seen["image"]), weights)


def test_bad_shapes(tmp_path):
    with pytest.raises(ShapeError, match=r"weights must have shape .* = \(2, 3\), got \(3, 2\)"):
        plot_attention(np.zeros((3, 2)), list("abc"), list("xy"), tmp_path / "a.png")
    with pytest.raises(ShapeError, match="weights hold NaN or infinity"):
        plot_attention(np.full((1, 1), np.nan), ["a"], ["x"], tmp_path / "a.png")
    assert not (tmp_path / "a.png").exists()
