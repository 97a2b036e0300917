"""Which of the fused engine's two paths (numba or torch ops) runs a call, measured on this machine.

The numba path's size limits (:data:`.numba_path.NUMBA_MAX_UNITS` and its siblings) were measured
on one CPU; on another the crossover sits elsewhere. So the first call of a new
(cell kind, variant options, batch x hidden class, dtype, threads, training or inference) on a
machine times both paths on that call's own inputs (forward only, a warm-up and two timed runs
each), keeps the faster, and caches the choice on disk, as cuDNN's benchmark mode does. Later
calls of the same class, in this process or the next, read the cache. Both paths compute the
same function (parity tests hold each to the reference), so the choice changes speed, not
results beyond floating-point rounding.

``LSTMKIT_FUSED_PATH`` sets the mode:

* ``measure`` (default): as above;
* ``limits``: the fixed size limits, as before this module;
* ``numba`` / ``torch``: that path wherever it can run.

The cache is ``fused-paths.json`` in ``$LSTMKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lstmkit``, else
``~/.cache/lstmkit``. It records the lstmkit version and the CPU model and is ignored (and
rewritten) when either differs; an unwritable cache directory only costs re-measuring.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lstmkit._machine import cpu_model
from lstmkit._version import __version__

log = logging.getLogger(__name__)

MODES = ("measure", "limits", "numba", "torch")
ENV_MODE = "LSTMKIT_FUSED_PATH"
CACHE_FILE = "fused-paths.json"

_lock = threading.Lock()
_choices: dict[str, str] | None = None  # the cache, loaded on first use
# Measurements made in this process (statistics for tests and benchmarks; not locked).
MEASURED: list[str] = []


def mode() -> str:
    """The mode ``LSTMKIT_FUSED_PATH`` asks for (``measure`` when unset)."""
    value = os.environ.get(ENV_MODE, "measure").strip().lower() or "measure"
    if value not in MODES:
        log.warning("%s=%r is not one of %s; measuring", ENV_MODE, value, MODES)
        return "measure"
    return value


def cache_path() -> Path:
    if os.environ.get("LSTMKIT_CACHE_DIR"):
        root = Path(os.environ["LSTMKIT_CACHE_DIR"])
    elif os.environ.get("XDG_CACHE_HOME"):
        root = Path(os.environ["XDG_CACHE_HOME"]) / "lstmkit"
    else:
        root = Path.home() / ".cache" / "lstmkit"
    return root / CACHE_FILE


def _stamp() -> dict[str, str]:
    return {"lstmkit": __version__, "cpu": cpu_model()}


def _load() -> dict[str, str]:
    global _choices
    if _choices is None:
        _choices = {}
        try:
            saved = json.loads(cache_path().read_text(encoding="utf-8"))
            if isinstance(saved, dict) and saved.get("stamp") == _stamp():
                _choices = {
                    str(k): v
                    for k, v in saved.get("choices", {}).items()
                    if v in ("numba", "torch")
                }
        except (OSError, ValueError):
            pass
    return _choices


def _save(choices: dict[str, str]) -> None:
    path = cache_path()
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"stamp": _stamp(), "choices": choices}, indent=1))
        os.replace(tmp, path)
    except OSError as err:
        log.debug("fused path cache not written (%s): %s", path, err)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def forget() -> None:
    """Drop the in-memory cache (the next call reads the file again)."""
    global _choices
    with _lock:
        _choices = None


def key(kind: str, plan: Any, x: Tensor, hidden: int, training: bool) -> str:
    """The class of a call whose best path is assumed the same: the cell kind, its variant
    options, batch x hidden rounded up to a power of two, dtype, threads, training or not."""
    units = max(1, x.shape[1] * hidden)
    units_class = 1 << (units - 1).bit_length()
    masks = ("zoneout" if any(k is not None for k in plan.keep) else "") + (
        "dropout" if plan.h_mask is not None else ""
    )
    return "|".join(
        [
            kind,
            repr(plan.options),
            masks,
            f"BH<={units_class}",
            str(x.dtype).removeprefix("torch."),
            f"threads={torch.get_num_threads()}",
            "train" if training else "infer",
        ]
    )


def _time(run: Callable[[], Any], repeats: int = 2) -> float:
    run()  # warm-up: numba compiles, the workspace pool fills
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def choose(call_key: str, run_numba: Callable[[], Any], run_torch: Callable[[], Any]) -> str:
    """The cached choice for ``call_key``, or the faster of the two runs (then cached)."""
    with _lock:
        cached = _load().get(call_key)
    if cached is not None:
        return cached
    with torch.no_grad():
        t_numba = _time(run_numba)
        t_torch = _time(run_torch)
    winner = "numba" if t_numba <= t_torch else "torch"
    MEASURED.append(call_key)
    log.debug(
        "fused path for %s: %s (numba %.3f ms, torch ops %.3f ms)",
        call_key,
        winner,
        t_numba * 1e3,
        t_torch * 1e3,
    )
    with _lock:
        choices = _load()
        choices[call_key] = winner
        _save(dict(choices))
    return winner


__all__ = ["MODES", "cache_path", "choose", "forget", "key", "mode"]
