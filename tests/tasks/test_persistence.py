"""The model directory format: atomic writes, safe overwrites, and clear refusals on load."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from lstmkit._version import __version__
from lstmkit.errors import ModelFileError
from lstmkit.tasks import persistence
from lstmkit.tasks.persistence import load_model_dir, load_weights, save_model_dir


def _save(path, **changes):
    kwargs = {
        "task": "Toy",
        "config": {"width": 3},
        "tensors": {"w": torch.arange(6.0).view(2, 3)},
        "state": {"scaler": {"kind": "standard", "mean": [1.0], "std": [2.0]}},
    }
    kwargs.update(changes)
    return save_model_dir(path, **kwargs)


def _leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_round_trip(tmp_path):
    path = _save(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json",
        "state.json",
        "weights.safetensors",
    ]
    header = json.loads((path / "config.json").read_text())
    assert header["format"] == "lstmkit-model"
    assert header["format_version"] == persistence.FORMAT_VERSION
    assert header["lstmkit_version"] == __version__
    config, tensors, state = load_model_dir(path, task="Toy")
    assert config == {"width": 3}
    assert torch.equal(tensors["w"], torch.arange(6.0).view(2, 3))
    assert state["scaler"]["mean"] == [1.0]
    assert _leftovers(tmp_path) == []


def test_overwrite_replaces_a_model_directory_atomically(tmp_path):
    _save(tmp_path / "m")
    _save(tmp_path / "m", config={"width": 4})
    assert load_model_dir(tmp_path / "m")[0] == {"width": 4}
    assert _leftovers(tmp_path) == []


def test_refuses_to_overwrite_a_directory_that_is_not_a_model(tmp_path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(
        ModelFileError, match="refusing to overwrite .*photos.*not an lstmkit model"
    ):
        _save(other)
    assert (other / "cat.jpg").read_bytes() == b"meow"


def test_a_failed_save_leaves_nothing_behind_and_keeps_the_old_model(tmp_path, monkeypatch):
    _save(tmp_path / "m")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.torch.save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        _save(tmp_path / "m", config={"width": 99})
    with pytest.raises(OSError, match="disk full"):
        _save(tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert load_model_dir(tmp_path / "m")[0] == {"width": 3}
    assert _leftovers(tmp_path) == []


def test_load_refuses_a_missing_directory(tmp_path):
    with pytest.raises(ModelFileError, match=r"no model at .*nope: the directory does not exist"):
        load_model_dir(tmp_path / "nope")


def test_load_refuses_a_directory_that_is_not_a_model(tmp_path):
    with pytest.raises(
        ModelFileError, match="is not an lstmkit model directory: it has no config.json"
    ):
        load_model_dir(tmp_path)
    (tmp_path / "config.json").write_text('{"layers": 3}')
    with pytest.raises(ModelFileError, match="not an lstmkit model config"):
        load_model_dir(tmp_path)


def test_load_refuses_another_format_version(tmp_path):
    path = _save(tmp_path / "m")
    header = json.loads((path / "config.json").read_text())
    header["format_version"] = 99
    header["lstmkit_version"] = "9.0.0"
    (path / "config.json").write_text(json.dumps(header))
    with pytest.raises(
        ModelFileError, match=r"format version 99 \(by lstmkit 9.0.0\); this lstmkit"
    ):
        load_model_dir(path)


def test_load_refuses_another_task(tmp_path):
    path = _save(tmp_path / "m")
    with pytest.raises(ModelFileError, match="holds a 'Toy' model, not a 'Forecaster' model"):
        load_model_dir(path, task="Forecaster")


def test_load_refuses_corrupt_json(tmp_path):
    path = _save(tmp_path / "m")
    (path / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match=r"config.json is corrupt \(not valid JSON"):
        load_model_dir(path)
    path = _save(tmp_path / "m2")
    (path / "state.json").write_text("[1, 2")
    with pytest.raises(ModelFileError, match=r"state.json is corrupt"):
        load_model_dir(path)


def test_load_refuses_missing_or_corrupt_weights(tmp_path):
    path = _save(tmp_path / "m")
    (path / "weights.safetensors").unlink()
    with pytest.raises(ModelFileError, match="weights.safetensors is missing"):
        load_model_dir(path)
    path = _save(tmp_path / "m2")
    (path / "weights.safetensors").write_bytes(b"\x00garbage" * 4)
    with pytest.raises(ModelFileError, match="weights.safetensors is corrupt"):
        load_model_dir(path)


def test_load_weights_names_shape_mismatches_and_missing_tensors(tmp_path):
    model = nn.Linear(3, 2)
    good = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(
        ModelFileError, match=r"tensor 'weight' has shape \(2, 4\), the model expects \(2, 3\)"
    ):
        load_weights(model, {**good, "weight": torch.zeros(2, 4)}, tmp_path)
    with pytest.raises(ModelFileError, match="missing bias"):
        load_weights(model, {"weight": good["weight"]}, tmp_path)
    with pytest.raises(ModelFileError, match="NaN or infinity"):
        load_weights(model, {**good, "bias": torch.tensor([float("nan"), 0.0])}, tmp_path)
    load_weights(model, good, tmp_path)


def test_model_root_finds_the_model_inside_a_train_out_folder(tmp_path):
    _save(tmp_path / "run" / "model")
    assert persistence.model_root(tmp_path / "run") == tmp_path / "run" / "model"
    assert persistence.model_root(tmp_path / "run" / "model") == tmp_path / "run" / "model"
    assert persistence.model_root(tmp_path / "empty") == tmp_path / "empty"  # left to the loader
    assert load_model_dir(tmp_path / "run")[0] == {"width": 3}
