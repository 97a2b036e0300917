"""How a recurrent layer's loop over time is executed.

Engines behind one switch, ``impl=``:

* ``"reference"`` — the cell's ``step`` in a Python loop, autograd for gradients. The spec: every
  option, any dtype. Slow.
* ``"native"`` — torch's fused op (oneDNN on CPU, cuDNN on GPU) for the configurations torch has.
* ``"fused"`` — lstmkit's own engine for the variants (hand-written backward through time).
* ``"auto"`` — the fastest engine that supports the configuration: ``native`` where it applies,
  then ``fused``, then ``reference``; for the GRU on CPU ``fused`` first, as torch's CPU GRU op
  is the slower one there (BENCHMARKS.md: 6-16x the fused engine's time at S1, 1.3-2.4x at S2,
  never faster).

Each engine module has ``NAME``, ``unsupported(layer, want_trace) -> reason | None`` and
``run(layer, x, state, lengths, masks, want_trace) -> (output, final_state, trace)`` on time-major
tensors. All are tested against ``reference`` in float64.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from lstmkit.errors import ConfigError, UnsupportedConfigError

IMPLS = ("auto", "reference", "fused", "native")
_AUTO_ORDER = ("native", "fused", "reference")


def check_impl(impl: str) -> str:
    if impl not in IMPLS:
        raise ConfigError(f"impl must be one of {', '.join(map(repr, IMPLS))}, got {impl!r}")
    return impl


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"lstmkit.nn.engine.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"lstmkit.nn.engine.{name}":
            return None
        raise


def _auto_order(layer: Any) -> tuple[str, ...]:
    """The engines ``auto`` tries for ``layer``, fastest first."""
    if layer.mode == "GRU" and all(p.device.type == "cpu" for p in layer.parameters()):
        return ("fused", "native", "reference")
    return _AUTO_ORDER


def resolve(impl: str, layer: Any, want_trace: bool = False) -> ModuleType:
    """The engine module that will run ``layer`` for ``impl``; a clear error if it cannot."""
    check_impl(impl)
    if impl == "auto":
        for name in _auto_order(layer):
            module = _module(name)
            if module is not None and module.unsupported(layer, want_trace) is None:
                return module
        raise AssertionError("the reference engine supports every configuration")
    module = _module(impl)
    if module is None:
        raise UnsupportedConfigError(
            f"impl={impl!r} is not available in this version of lstmkit; "
            "use impl='auto' or impl='reference'"
        )
    reason = module.unsupported(layer, want_trace)
    if reason is not None:
        raise UnsupportedConfigError(
            f"impl={impl!r} does not support this configuration ({reason}); "
            "use impl='auto' to pick an engine that does, or impl='reference'"
        )
    return module
