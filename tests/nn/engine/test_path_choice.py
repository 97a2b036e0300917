"""The fused engine's measured path choice: measured once per call class, cached on disk, the
cache ignored after a version or CPU change, and a path forced by the environment."""

from __future__ import annotations

import json

import pytest
import torch

from lstmkit.nn import GRU, LSTM
from lstmkit.nn.engine.fused import numba_path, path_choice

pytest.importorskip("numba")


@pytest.fixture
def measuring(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTMKIT_FUSED_PATH", "measure")
    monkeypatch.setenv("LSTMKIT_CACHE_DIR", str(tmp_path))
    path_choice.forget()
    path_choice.MEASURED.clear()
    yield tmp_path / path_choice.CACHE_FILE
    path_choice.forget()


def _step(layer: torch.nn.Module, batch: int = 4) -> None:
    x = torch.randn(6, batch, 3)
    out, _ = layer(x)
    out.sum().backward()


def test_the_first_call_of_a_class_measures_and_later_calls_read_the_cache(measuring):
    layer = LSTM(3, 8, impl="fused", peephole=True)
    _step(layer)
    assert len(path_choice.MEASURED) == 1
    saved = json.loads(measuring.read_text())
    assert list(saved["choices"].values())[0] in ("numba", "torch")
    _step(layer)  # same class: no new measurement
    _step(layer, batch=3)  # batch x hidden 24 rounds up to 32, as 4 x 8 does
    assert len(path_choice.MEASURED) == 1
    _step(GRU(3, 8, impl="fused"))  # another cell kind is another class
    assert len(path_choice.MEASURED) == 2
    path_choice.forget()  # a new process reads the file
    _step(layer)
    assert len(path_choice.MEASURED) == 2


@pytest.mark.parametrize("field", ["lstmkit", "cpu"])
def test_a_cache_from_another_version_or_cpu_is_ignored(measuring, field):
    layer = LSTM(3, 8, impl="fused")
    _step(layer)
    saved = json.loads(measuring.read_text())
    saved["stamp"][field] = "something else"
    measuring.write_text(json.dumps(saved))
    path_choice.forget()
    _step(layer)
    assert len(path_choice.MEASURED) == 2  # measured again, and the file rewritten
    assert json.loads(measuring.read_text())["stamp"][field] != "something else"


@pytest.mark.parametrize("forced", ["numba", "torch"])
def test_the_environment_forces_a_path(monkeypatch, tmp_path, forced):
    monkeypatch.setenv("LSTMKIT_FUSED_PATH", forced)
    monkeypatch.setenv("LSTMKIT_CACHE_DIR", str(tmp_path))
    before = numba_path.CALLS[forced, "lstm"]
    _step(LSTM(3, 8, impl="fused"))
    assert numba_path.CALLS[forced, "lstm"] == before + 1
    assert not (tmp_path / path_choice.CACHE_FILE).exists()


def test_both_paths_agree_whichever_is_chosen(monkeypatch):
    torch.manual_seed(0)
    layer = LSTM(3, 8, impl="fused", layer_norm=True).double()
    x = torch.randn(6, 4, 3, dtype=torch.float64)
    outs = {}
    for forced in ("numba", "torch"):
        monkeypatch.setenv("LSTMKIT_FUSED_PATH", forced)
        outs[forced] = layer(x)[0]
    torch.testing.assert_close(outs["numba"], outs["torch"], rtol=1e-10, atol=1e-12)


def test_an_unwritable_cache_directory_only_costs_measuring_again(measuring, monkeypatch):
    blocker = measuring.parent / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LSTMKIT_CACHE_DIR", str(blocker))
    path_choice.forget()
    _step(LSTM(3, 8, impl="fused"))
    assert len(path_choice.MEASURED) == 1


@pytest.mark.parametrize("forced", ["numba", "torch"])
def test_a_layer_forces_a_path_whatever_the_environment_says(monkeypatch, forced):
    monkeypatch.setenv("LSTMKIT_FUSED_PATH", "numba" if forced == "torch" else "torch")
    before = numba_path.CALLS[forced, "lstm"]
    _step(LSTM(3, 8, impl=f"fused:{forced}"), batch=2)
    assert numba_path.CALLS[forced, "lstm"] == before + 1


def test_an_unknown_path_is_a_config_error():
    from lstmkit.errors import ConfigError

    with pytest.raises(ConfigError, match="impl must be one of .* got 'fused:cuda'"):
        LSTM(3, 8, impl="fused:cuda")
