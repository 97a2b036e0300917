"""Saving and loading a model directory, shared by every task.

A saved model is a directory::

    config.json         {"format": "lstmkit-model", "format_version": 1, "lstmkit_version": ...,
                         "task": "Forecaster", ...everything needed to rebuild the model}
    weights.safetensors the tensors (safetensors: no pickle, loads on any device)
    state.json          fitted preprocessing state (scalers, ...), plain JSON

It is written into a temporary directory beside the target and renamed into place, so a crash never
leaves half a model under the target name. Overwriting replaces an existing *model* directory (it is
renamed aside first and deleted after the new one is in place); lstmkit refuses to overwrite a
directory that is not an lstmkit model. Loading reads JSON and safetensors only: it never unpickles.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit._version import __version__
from lstmkit.errors import ModelFileError

FORMAT = "lstmkit-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
STATE_FILE = "state.json"


def _json_dump(data: Any, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, allow_nan=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def is_model_dir(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a directory whose config.json carries the lstmkit model format tag."""
    config = Path(path) / CONFIG_FILE
    try:
        with open(config, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def save_model_dir(
    path: str | os.PathLike[str],
    *,
    task: str,
    config: Mapping[str, Any],
    tensors: Mapping[str, Tensor],
    state: Mapping[str, Any] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write a model directory atomically; returns its path.

    Args:
        path: the directory to create (its parent is created if needed).
        task: the task class name, checked again on load.
        config: dict of everything needed to rebuild the model.
        tensors: the weights (any device; saved from CPU copies).
        state: fitted preprocessing state.
        Both dicts go through :func:`json_safe` (numpy/torch values, tuples and paths become
        plain JSON types).
        overwrite: replace an existing lstmkit model directory at ``path``.
    """
    from safetensors.torch import save_file

    target = Path(path)
    if target.exists():
        if not target.is_dir():
            raise ModelFileError(
                f"cannot save a model to {target}: it exists and is not a directory"
            )
        if any(target.iterdir()) and not is_model_dir(target):
            raise ModelFileError(
                f"refusing to overwrite {target}: it is a non-empty directory that is not an "
                "lstmkit model; choose a new or empty directory"
            )
        if not overwrite:
            raise ModelFileError(f"{target} already exists (pass overwrite=True to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lstmkit_version": __version__,
        "task": task,
    }
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _json_dump({**header, "config": json_safe(dict(config))}, tmp / CONFIG_FILE)
        weights = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        save_file(weights, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT, "task": task})
        # safetensors writes owner-only (0600); give the weights the same mode as the JSON files.
        shutil.copymode(tmp / CONFIG_FILE, tmp / WEIGHTS_FILE)
        _json_dump(json_safe(dict(state or {})), tmp / STATE_FILE)
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise ModelFileError(
            f"{path.parent} is not a complete lstmkit model: {what} {path.name} is missing"
        )
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError) as err:
        raise ModelFileError(f"cannot read {path}: {err}") from None
    except ValueError as err:
        raise ModelFileError(f"{path} is corrupt (not valid JSON: {err})") from None


def load_model_dir(
    path: str | os.PathLike[str], *, task: str | None = None
) -> tuple[dict[str, Any], dict[str, Tensor], dict[str, Any]]:
    """Read a model directory; returns ``(config, tensors on CPU, state)``.

    Raises :class:`~lstmkit.errors.ModelFileError`, naming the path and the problem, if the
    directory is missing, is not an lstmkit model, is from another format version or task, or is
    corrupt.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(path)
    if not root.exists():
        raise ModelFileError(f"no model at {root}: the directory does not exist")
    if not root.is_dir():
        raise ModelFileError(f"{root} is not a model directory (it is a file)")
    if not (root / CONFIG_FILE).is_file():
        raise ModelFileError(f"{root} is not an lstmkit model directory: it has no {CONFIG_FILE}")
    header = _read_json(root / CONFIG_FILE, "its config")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(
            f"{root / CONFIG_FILE} is not an lstmkit model config (no format tag {FORMAT!r})"
        )
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{root} was saved in model format version {version!r} "
            f"(by lstmkit {header.get('lstmkit_version', 'unknown')}); this lstmkit "
            f"({__version__}) reads format version {FORMAT_VERSION}"
        )
    if task is not None and header.get("task") != task:
        raise ModelFileError(f"{root} holds a {header.get('task')!r} model, not a {task!r} model")
    config = header.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{root / CONFIG_FILE} is corrupt: its 'config' is not an object")
    weights = root / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelFileError(f"{root} is not a complete lstmkit model: {WEIGHTS_FILE} is missing")
    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ModelFileError(f"{weights} is corrupt: {err}") from None
    state = _read_json(root / STATE_FILE, "its preprocessing state")
    if not isinstance(state, dict):
        raise ModelFileError(f"{root / STATE_FILE} is corrupt: expected a JSON object")
    return config, tensors, state


@contextlib.contextmanager
def config_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """While rebuilding a task from its config: a missing key or a value of the wrong type or
    range becomes a ModelFileError naming the model's config.json."""
    try:
        yield
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(
            f"{Path(path) / CONFIG_FILE} is corrupt or incomplete: {type(err).__name__}: {err}"
        ) from None


def load_weights(
    module: nn.Module, tensors: Mapping[str, Tensor], path: str | os.PathLike[str]
) -> None:
    """Load ``tensors`` into ``module``, with a ModelFileError naming any missing, extra or
    wrongly shaped tensor."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}")
        raise ModelFileError(
            f"{Path(path) / WEIGHTS_FILE} does not match the model in its config.json: "
            + "; ".join(parts)
        )
    for name, value in expected.items():
        got = tensors[name]
        if tuple(got.shape) != tuple(value.shape):
            raise ModelFileError(
                f"{Path(path) / WEIGHTS_FILE} is corrupt or does not match config.json: tensor "
                f"{name!r} has shape {tuple(got.shape)}, the model expects {tuple(value.shape)}"
            )
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise ModelFileError(
                f"{Path(path) / WEIGHTS_FILE} is corrupt: tensor {name!r} holds NaN or infinity"
            )
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})


def json_safe(value: Any) -> Any:
    """Plain JSON types for numpy/torch scalars and arrays, tuples and paths (NaN kept as NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, Tensor):
        return json_safe(value.tolist())
    if hasattr(value, "tolist") and not isinstance(value, str):
        return json_safe(value.tolist())
    if isinstance(value, os.PathLike):
        return str(value)
    return value
