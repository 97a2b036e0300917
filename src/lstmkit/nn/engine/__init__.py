"""How a recurrent layer's loop over time is executed.

Engines behind one switch, ``impl=``:

* ``"reference"`` — the cell's ``step`` in a Python loop, autograd for gradients. The spec: every
  option, any dtype. Slow.
* ``"native"`` — torch's fused op (oneDNN on CPU, cuDNN on GPU) for the configurations torch has.
* ``"fused"`` — lstmkit's own engine for the variants (hand-written backward through time);
  ``"fused:numba"`` and ``"fused:torch"`` force one of its two paths where it can run
  (:mod:`lstmkit.nn.engine.fused.path_choice`; by default the faster is measured).
* ``"auto"`` — the fastest engine that supports the configuration: ``native`` where it applies,
  then ``fused``, then ``reference``; for the GRU on CPU ``fused`` first, as torch's CPU GRU op
  is the slower one there (BENCHMARKS.md: 6-16x the fused engine's time at S1, 1.3-2.4x at S2,
  never faster).

Each engine is a module with ``NAME``, ``unsupported(layer, want_trace) -> reason | None`` and
``run(layer, x, state, lengths, masks, want_trace) -> (output, final_state, trace)`` on time-major
tensors (:class:`~lstmkit.nn.engine.base.Engine`); what it reads from the layer is
:class:`~lstmkit.nn.engine.base.EngineLayer`. :data:`ENGINES` maps each name to its engine; the
cell's ``kind`` (``"lstm"``, ``"gru"``, ``"rnn"``) is the one key engines dispatch on. All are
tested against ``reference`` in float64.
"""

from __future__ import annotations

from lstmkit.errors import ConfigError, UnsupportedConfigError
from lstmkit.nn.engine import fused, native, reference
from lstmkit.nn.engine.base import Engine, EngineLayer

IMPLS = ("auto", "reference", "fused", "native", "fused:numba", "fused:torch")
ENGINES: dict[str, Engine] = {"reference": reference, "fused": fused, "native": native}
_AUTO_ORDER = ("native", "fused", "reference")


def check_impl(impl: str) -> str:
    if impl not in IMPLS:
        raise ConfigError(f"impl must be one of {', '.join(map(repr, IMPLS))}, got {impl!r}")
    return impl


def _auto_order(layer: EngineLayer) -> tuple[str, ...]:
    """The engines ``auto`` tries for ``layer``, fastest first."""
    if layer.cell.kind == "gru" and all(p.device.type == "cpu" for p in layer.parameters()):
        return ("fused", "native", "reference")
    return _AUTO_ORDER


def resolve(impl: str, layer: EngineLayer, want_trace: bool = False) -> Engine:
    """The engine that will run ``layer`` for ``impl``; a clear error if it cannot."""
    check_impl(impl)
    if impl == "auto":
        for name in _auto_order(layer):
            if ENGINES[name].unsupported(layer, want_trace) is None:
                return ENGINES[name]
        raise AssertionError("the reference engine supports every configuration")
    engine = ENGINES[impl.partition(":")[0]]
    reason = engine.unsupported(layer, want_trace)
    if reason is not None:
        raise UnsupportedConfigError(
            f"impl={impl!r} does not support this configuration ({reason}); "
            "use impl='auto' to pick an engine that does, or impl='reference'"
        )
    return engine
