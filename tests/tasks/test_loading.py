"""``lstmkit.tasks.load_task``: one loader, for export and serve, that reads the task a saved
model's config.json names (issue 18: each used to have its own). The saved models are the tasks'
fixtures, so this also loads models saved by earlier versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lstmkit.errors import ModelFileError
from lstmkit.tasks import AnomalyDetector, SequenceClassifier, Tagger, load_task
from lstmkit.tasks.loading import saved_task_class

TASKS = Path(__file__).parent


@pytest.mark.parametrize(
    ("saved", "cls"),
    [
        ("anomaly/data/zscore-v0", AnomalyDetector),
        ("classify/data/numeric_v2", SequenceClassifier),
        ("tagging/data/tagger_v1", Tagger),
    ],
)
def test_loads_each_task_as_its_own_load_does(saved, cls):
    model = load_task(TASKS / saved)
    assert type(model) is cls
    assert model.get_config() == cls.load(TASKS / saved).get_config()


def test_a_train_out_directory_is_read_through_its_model_folder(tmp_path):
    shutil.copytree(TASKS / "tagging" / "data" / "tagger_v1", tmp_path / "run" / "model")
    root, cls = saved_task_class(tmp_path / "run")
    assert (root, cls) == (tmp_path / "run" / "model", Tagger)
    assert isinstance(load_task(tmp_path / "run"), Tagger)


def _config(path: Path, **fields) -> Path:
    path.mkdir(exist_ok=True)
    header = {"format": "lstmkit-model", "format_version": 1, **fields}
    (path / "config.json").write_text(json.dumps(header), encoding="utf-8")
    return path / "config.json"


def test_refuses_what_is_not_a_saved_model(tmp_path):
    expected = (
        f"{tmp_path} is not a saved lstmkit model (a directory with config.json, "
        "weights.safetensors and state.json)"
    )
    with pytest.raises(ModelFileError) as err:
        load_task(tmp_path)
    assert str(err.value) == expected
    (tmp_path / "config.json").write_text('{"task": "Tagger"}', encoding="utf-8")  # no format tag
    with pytest.raises(ModelFileError) as err:
        load_task(tmp_path)
    assert str(err.value) == expected


@pytest.mark.parametrize("task", [None, "Nope", "AnomalyStream", "load_task", 3])
def test_refuses_a_config_that_names_no_task(tmp_path, task):
    config = _config(tmp_path / "m", **({} if task is None else {"task": task}))
    with pytest.raises(ModelFileError) as err:
        load_task(tmp_path / "m")
    assert str(err.value) == f"{config} names no lstmkit task"
