"""Saving and loading a model directory, shared by every task.

A saved model is a directory::

    config.json         {"format": "lstmkit-model", "format_version": 1, "lstmkit_version": ...,
                         "task": "Forecaster", ...everything needed to rebuild the model}
    weights.safetensors the tensors (safetensors: no pickle, loads on any device)
    state.json          fitted preprocessing state (scalers, ...), plain JSON

It is written into a temporary directory beside the target and renamed into place, so a crash never
leaves half a model under the target name. Overwriting replaces an existing *model* directory: it
is renamed aside, any other files the user kept in it move into the new one, the new one is renamed
into place, and the old one is deleted. A process killed between those renames leaves the previous
model in a hidden ``.NAME.old-*`` sibling; the next save or load of that path puts it back (with the
user's files), so the path always holds the previous or the new model. Saves to one directory are
serialised by a lock on its parent (POSIX), so concurrent savers end with the last one's model.
lstmkit refuses to overwrite a directory that is not an lstmkit model. ``config.json`` records the
SHA-256 of the weights file, and loading refuses weights that do not match it. Loading reads JSON
and safetensors only: it never unpickles.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
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
MODEL_FILES = (CONFIG_FILE, WEIGHTS_FILE, STATE_FILE)


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


def model_root(path: str | os.PathLike[str]) -> Path:
    """``path``, or its ``model/`` folder when ``path`` is the output directory of a CLI
    ``train --out`` (which saves the model there): where a model given as either is."""
    root = Path(path)
    if not (root / CONFIG_FILE).is_file() and is_model_dir(root / "model"):
        return root / "model"
    return root


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _siblings(target: Path, kind: str) -> list[Path]:
    """The hidden ``.NAME.<kind>-*`` directories a save of ``target`` works in."""
    return sorted(target.parent.glob(f".{target.name}.{kind}-*"))


@contextlib.contextmanager
def _locked(target: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on ``target``'s parent directory while saving or recovering; yields
    whether it is held (always, with ``wait``). POSIX flock; without fcntl, as on Windows, saves
    are not serialised."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield True
        return
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def _move_user_files(source: Path, dest: Path, *, keep_existing: bool = False) -> None:
    """Move every entry of ``source`` that is not a model file into ``dest`` (with
    ``keep_existing``, not over an entry ``dest`` already has)."""
    for entry in sorted(source.iterdir()):
        if entry.name in MODEL_FILES or (keep_existing and (dest / entry.name).exists()):
            continue
        os.replace(entry, dest / entry.name)


def recover(path: str | os.PathLike[str]) -> None:
    """Finish a save of ``path`` that was killed midway (call with the lock held).

    Killed after the previous model was renamed aside but before the new one was renamed into
    place, the path is empty: the previous model goes back, with the user's files wherever the
    save had moved them. Leftover temporary and old directories are deleted.
    """
    target = Path(path)
    olds = _siblings(target, "old")
    if not target.exists() and olds:
        previous = max(olds, key=lambda p: p.stat().st_mtime)
        for tmp in _siblings(target, "tmp"):
            _move_user_files(tmp, previous)
        os.replace(previous, target)
    for leftover in [*_siblings(target, "tmp"), *_siblings(target, "old")]:
        # user files still in a leftover (only if a kill came mid-move) go back, not over any
        if target.exists() and leftover.is_dir():
            _move_user_files(leftover, target, keep_existing=True)
        shutil.rmtree(leftover, ignore_errors=True)


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
        overwrite: replace an existing lstmkit model directory at ``path``; files other than
            the model's own in that directory are kept.
    """
    from safetensors.torch import save_file

    given = Path(path)
    target = given.resolve()
    if target.parent == target:
        raise ModelFileError(f"cannot save a model to {given}: choose a directory to create")
    if target.exists() and not target.is_dir():
        raise ModelFileError(f"cannot save a model to {given}: it exists and is not a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelFileError(f"cannot save a model to {given}: {err.strerror}") from None
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lstmkit_version": __version__,
        "task": task,
    }
    with _locked(target):
        recover(target)
        if target.exists():
            if any(target.iterdir()) and not is_model_dir(target):
                raise ModelFileError(
                    f"refusing to overwrite {given}: it is a non-empty directory that is not an "
                    "lstmkit model; choose a new or empty directory"
                )
            if not overwrite:
                raise ModelFileError(f"{given} already exists (pass overwrite=True to replace it)")
        tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir()
        except OSError as err:
            raise ModelFileError(f"cannot save a model to {given}: {err.strerror}") from None
        try:
            weights = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
            save_file(weights, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT, "task": task})
            header["weights_sha256"] = _sha256(tmp / WEIGHTS_FILE)
            _json_dump({**header, "config": json_safe(dict(config))}, tmp / CONFIG_FILE)
            # safetensors writes owner-only (0600); give the weights the JSON files' mode.
            shutil.copymode(tmp / CONFIG_FILE, tmp / WEIGHTS_FILE)
            _json_dump(json_safe(dict(state or {})), tmp / STATE_FILE)
            if target.exists():
                old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(target, old)
                try:
                    _move_user_files(old, tmp)
                    os.replace(tmp, target)
                except BaseException:
                    _move_user_files(tmp, old)
                    os.replace(old, target)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return given


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
    """Read a model directory; returns ``(config, tensors on CPU, state)``. ``path`` may also be
    the output directory of a CLI ``train --out`` (the model in its ``model/`` folder).

    Raises :class:`~lstmkit.errors.ModelFileError`, naming the path and the problem, if the
    directory is missing, is not an lstmkit model, is from another format version or task, or is
    corrupt.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(path)
    resolved = root.resolve()
    if resolved.parent.is_dir() and (_siblings(resolved, "old") or _siblings(resolved, "tmp")):
        # A save was killed midway, or one is running: wait for it when the model is missing,
        # else tidy up only if no save holds the lock.
        with _locked(resolved, wait=not resolved.exists()) as held:
            if held:
                recover(resolved)
    if not root.exists():
        raise ModelFileError(f"no model at {root}: the directory does not exist")
    if not root.is_dir():
        raise ModelFileError(f"{root} is not a model directory (it is a file)")
    root = model_root(root)
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
    expected = header.get("weights_sha256")  # absent from models saved before it was recorded
    if expected is not None and _sha256(weights) != expected:
        raise ModelFileError(
            f"{weights} is corrupt: its SHA-256 does not match the one {CONFIG_FILE} recorded "
            "when it was saved (the file was changed or damaged since)"
        )
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


@contextlib.contextmanager
def state_errors(
    path: str | os.PathLike[str], config: Mapping[str, Any], state: Mapping[str, Any]
) -> Iterator[None]:
    """While restoring the fitted state (from state.json, with the shapes config.json gives):
    a missing key or a value of the wrong type or shape becomes a ModelFileError naming the file
    to blame, state.json unless a key is missing from both files."""
    try:
        yield
    except ModelFileError:
        raise
    except KeyError as err:
        key = err.args[0] if err.args else None
        if key not in config and key not in state:
            raise ModelFileError(
                f"{Path(path) / CONFIG_FILE} or {STATE_FILE} is incomplete: no key {key!r}"
            ) from None
        raise ModelFileError(
            f"{Path(path) / STATE_FILE} is corrupt or does not match {CONFIG_FILE}: KeyError: {err}"
        ) from None
    except (TypeError, ValueError, AttributeError, IndexError) as err:
        raise ModelFileError(
            f"{Path(path) / STATE_FILE} is corrupt or does not match {CONFIG_FILE}: "
            f"{type(err).__name__}: {err}"
        ) from None


def check_config_keys(
    config: Mapping[str, Any], expected: Iterable[str], path: str | os.PathLike[str]
) -> None:
    """Refuse keys a task does not know (a misspelt ``hiden_size`` would otherwise be ignored
    and the model rebuilt with the default), naming them and the known ones."""
    known = set(expected)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ModelFileError(
            f"{Path(path) / CONFIG_FILE} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"expected only {', '.join(sorted(known))}"
        )


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
