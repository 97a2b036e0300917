"""Saving is safe under the failures people meet: a process killed at any step of a save, two
processes saving to one directory at once, the user's own files in a model directory, and a
weights file damaged after it was written."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from lstmkit.errors import ModelFileError
from lstmkit.tasks import persistence

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and flock are POSIX")


def _save(path, version: int) -> None:
    persistence.save_model_dir(
        path,
        task="Test",
        config={"version": version},
        tensors={"w": torch.full((64, 64), float(version))},
        state={"version": version},
    )


def _loaded_version(path) -> int:
    config, tensors, state = persistence.load_model_dir(path, task="Test")
    assert config["version"] == state["version"] == int(tensors["w"][0, 0])
    return config["version"]


# Saves version 2 over version 1, killing itself (SIGKILL: no cleanup runs) at the K-th call of
# any file-system step of a save; prints "done" if the save finished before the K-th step.
CHILD = textwrap.dedent(
    """
    import os, shutil, signal, sys
    import torch
    import safetensors.torch
    from lstmkit.tasks import persistence

    kill_at, path = int(sys.argv[1]), sys.argv[2]
    calls = [0]

    def counted(fn):
        def wrapper(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapper

    os.replace = counted(os.replace)
    shutil.rmtree = counted(shutil.rmtree)
    shutil.copymode = counted(shutil.copymode)
    safetensors.torch.save_file = counted(safetensors.torch.save_file)
    persistence._json_dump = counted(persistence._json_dump)
    persistence._sha256 = counted(persistence._sha256)
    persistence.save_model_dir(
        path, task="Test", config={"version": 2},
        tensors={"w": torch.full((64, 64), 2.0)}, state={"version": 2},
    )
    print("done")
    """
)


@pytest.mark.slow
def test_a_save_killed_at_any_step_leaves_the_old_or_the_new_model_and_the_users_files(
    tmp_path,
):
    kills = 0
    for kill_at in range(1, 40):
        path = tmp_path / f"k{kill_at}" / "model"
        _save(path, 1)
        (path / "notes.txt").write_text("mine")
        (path / "run").mkdir()
        (path / "run" / "log.csv").write_text("epoch,loss\n")
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(kill_at), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        finished = child.stdout.strip() == "done"
        assert finished or child.returncode == -9, child.stderr
        assert _loaded_version(path) in (1, 2)
        if finished:
            assert _loaded_version(path) == 2
        assert (path / "notes.txt").read_text() == "mine"
        assert (path / "run" / "log.csv").is_file()
        siblings = [p.name for p in path.parent.iterdir() if p.name != "model"]
        assert siblings == [], siblings
        if finished:
            break
        kills += 1
    assert finished and kills >= 8  # every step was hit before a save ran through


SAVER = textwrap.dedent(
    """
    import sys, torch
    from lstmkit.tasks import persistence
    version, path = int(sys.argv[1]), sys.argv[2]
    for _ in range(5):
        persistence.save_model_dir(
            path, task="Test", config={"version": version},
            tensors={"w": torch.full((256, 256), float(version))}, state={"version": version},
        )
    """
)


@pytest.mark.slow
def test_concurrent_savers_leave_one_complete_model(tmp_path):
    path = tmp_path / "model"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER, str(v), str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v in (1, 2, 3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert _loaded_version(path) in (1, 2, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_overwriting_keeps_the_users_other_files(tmp_path):
    path = tmp_path / "model"
    _save(path, 1)
    (path / "README.txt").write_text("trained on the 2025 data")
    (path / "run").mkdir()
    (path / "run" / "metrics.csv").write_text("x")
    _save(path, 2)
    assert _loaded_version(path) == 2
    assert (path / "README.txt").read_text() == "trained on the 2025 data"
    assert (path / "run" / "metrics.csv").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_save_killed_between_the_renames_is_undone_by_the_next_load(tmp_path):
    path = tmp_path / "model"
    _save(path, 1)
    (path / "notes.txt").write_text("mine")
    # what a kill right after "rename the old model aside" leaves behind
    old = tmp_path / ".model.old-0000"
    path.rename(old)
    tmp = tmp_path / ".model.tmp-0000"
    tmp.mkdir()
    (old / "notes.txt").rename(tmp / "notes.txt")
    assert _loaded_version(path) == 1
    assert (path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_damaged_weights_are_refused(tmp_path):
    path = tmp_path / "model"
    _save(path, 1)
    weights = path / persistence.WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # one flipped bit in the last tensor value
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"weights.safetensors is corrupt: its SHA-256"):
        persistence.load_model_dir(path, task="Test")


def test_a_model_without_a_recorded_digest_still_loads(tmp_path):
    path = tmp_path / "model"
    _save(path, 1)
    config = json.loads((path / persistence.CONFIG_FILE).read_text())
    del config["weights_sha256"]
    (path / persistence.CONFIG_FILE).write_text(json.dumps(config))
    assert _loaded_version(path) == 1


@pytest.mark.parametrize("where", [".", "/"])
def test_saving_onto_the_working_or_root_directory_is_refused(where, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("x\n1\n")
    with pytest.raises(ModelFileError, match="refusing to overwrite|choose a directory"):
        _save(where, 1)
    assert (tmp_path / "data.csv").is_file()


def test_the_train_output_directory_loads_as_its_model(tmp_path):
    _save(tmp_path / "out" / "model", 3)
    assert _loaded_version(tmp_path / "out") == 3
