"""Loading a saved model whatever its task: config.json names the task, and this module is the one
place that reads that name and picks the class (``lstmkit export`` and ``lstmkit serve`` both
load through it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lstmkit.errors import ModelFileError
from lstmkit.tasks import persistence
from lstmkit.tasks.base import Task


def _task_class(name: object) -> type[Task] | None:
    """The task class called ``name`` in :mod:`lstmkit.tasks`, or None (not every public name
    there is a task: ``AnomalyStream``, ``Detection`` ... are not)."""
    from lstmkit import tasks

    if not isinstance(name, str) or name not in tasks.__all__:
        return None
    cls = getattr(tasks, name)
    return cls if isinstance(cls, type) and issubclass(cls, Task) else None


def saved_task_class(path: str | os.PathLike[str]) -> tuple[Path, type[Task]]:
    """The model directory at ``path`` (or its ``model/`` folder, for a ``train --out``
    directory) and the task class its config.json names, without loading the model.

    A ModelFileError when ``path`` holds no saved lstmkit model or config.json names no task.
    """
    root = persistence.model_root(path)
    config = root / persistence.CONFIG_FILE
    if not persistence.is_model_dir(root):
        files = ", ".join(persistence.MODEL_FILES[:-1]) + f" and {persistence.MODEL_FILES[-1]}"
        raise ModelFileError(f"{path} is not a saved lstmkit model (a directory with {files})")
    try:
        name = json.loads(config.read_text(encoding="utf-8")).get("task")
    except (OSError, ValueError, AttributeError):
        name = None
    cls = _task_class(name)
    if cls is None:
        raise ModelFileError(f"{config} names no lstmkit task")
    return root, cls


def load_task(path: str | os.PathLike[str]) -> Task:
    """Load the model saved at ``path`` (a model directory or a ``train --out`` directory),
    whatever its task; errors as :func:`saved_task_class` and the task's ``load`` give them."""
    root, cls = saved_task_class(path)
    return cls.load(root)


__all__ = ["load_task", "saved_task_class"]
