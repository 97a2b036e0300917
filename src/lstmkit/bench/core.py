"""Shapes, contenders and the timing loop of ``lstmkit bench``.

Every contender of one shape and mode runs in the same process on the same input. Each is warmed
up, then the repeats are interleaved (one timed call of each contender per round, the order rotated
each round) so that noise from the machine hits all of them alike, and the median is reported.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError, UnsupportedConfigError
from lstmkit.nn import GRU, LSTM


@dataclass(frozen=True)
class Shape:
    """A problem size: T steps, batch B, D input features, H hidden units."""

    name: str
    T: int
    B: int
    D: int
    H: int

    def describe(self) -> str:
        return f"T={self.T} B={self.B} D={self.D} H={self.H}"


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("S1", 100, 1, 32, 64),
        Shape("S2", 100, 32, 64, 128),
        Shape("S3", 100, 64, 256, 256),
        Shape("S4", 100, 64, 512, 512),
    )
}
QUICK_SHAPES = ("S1", "S2")
MODES = ("inference", "train")

#: The variants of the cell and layer that are benchmarked, as keyword arguments of lstmkit's layer.
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "peephole": {"peephole": True},
    "coupled": {"coupled_gates": True},
    "layernorm": {"layer_norm": True},
    "recdrop": {"recurrent_dropout": 0.25},
    "zoneout": {"zoneout": 0.1},
    "nofg": {"forget_gate": False},  # the 1997 cell, no forget gate (not among issue 3's)
    "gru": {},
}
IMPLS = ("torch", "native", "reference", "fused")
BASELINE = "torch/plain"


@dataclass(frozen=True)
class Contender:
    """One implementation of one variant; ``build(D, H)`` makes the layer (time-major input)."""

    impl: str
    variant: str
    build: Callable[[int, int], nn.Module]

    @property
    def name(self) -> str:
        return f"{self.impl}/{self.variant}"

    @property
    def label(self) -> str:
        if self.impl == "torch":
            return f"torch.nn.{'GRU' if self.variant == 'gru' else 'LSTM'} {self.variant}"
        return f"lstmkit {self.impl} {self.variant}"


def _lstmkit_builder(impl: str, variant: str) -> Callable[[int, int], nn.Module]:
    if variant == "gru":
        return lambda D, H: GRU(D, H, impl=impl)
    options = VARIANTS[variant]
    return lambda D, H: LSTM(D, H, impl=impl, **options)


def all_contenders() -> list[Contender]:
    """Every contender, the baseline ``torch.nn.LSTM`` first."""
    contenders = [
        Contender("torch", "plain", lambda D, H: nn.LSTM(D, H)),
        Contender("native", "plain", _lstmkit_builder("native", "plain")),
        Contender("torch", "gru", lambda D, H: nn.GRU(D, H)),
        Contender("native", "gru", _lstmkit_builder("native", "gru")),
    ]
    for impl in ("fused", "reference"):
        contenders += [Contender(impl, v, _lstmkit_builder(impl, v)) for v in VARIANTS]
    return contenders


def select_contenders(
    variants: Iterable[str] | None = None, impls: Iterable[str] | None = None
) -> list[Contender]:
    """The contenders matching the filters; the baseline is always included (ratios need it)."""
    variants = _check_names("variant", variants, VARIANTS)
    impls = _check_names("impl", impls, IMPLS)
    return [
        c
        for c in all_contenders()
        if c.name == BASELINE or (c.variant in variants and c.impl in impls)
    ]


def select_shapes(names: Iterable[str] | None) -> list[Shape]:
    return [SHAPES[n] for n in _check_names("shape", names, SHAPES)]


def _check_names(kind: str, names: Iterable[str] | None, known: Iterable[str]) -> list[str]:
    known = list(known)
    if names is None:
        return known
    names = list(names)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ConfigError(
            f"unknown {kind} {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {', '.join(known)}"
        )
    return names


# --- peak memory ------------------------------------------------------------------------------


def memory_method(device: torch.device) -> str:
    if device.type == "cuda":
        return "torch.cuda.max_memory_allocated during one call, minus memory allocated before"
    return (
        "peak of the running sum of tensor allocations and frees that torch.profiler records "
        "(profile_memory) during one call, at operator granularity; buffers that numba kernels "
        "allocate themselves are not seen"
    )


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """The profiler's C++ side logs two lines per session to fd 2 (no setting turns them off once
    torch is loaded); the call was already run by the timing loop, so nothing else is hidden."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def peak_memory_mib(call: Callable[[], Any], device: torch.device) -> float | None:
    """Peak memory one ``call`` needs beyond what was in use before it, in MiB (see above).

    On CPU there is no peak counter to reset, so the profiler's memory records are replayed in
    time order: each event's *self* usage (its own allocations minus its own frees) is added to
    a running total, whose maximum is the peak. Memory allocated and freed inside one operator
    is not seen; tensors that live across operators are.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        call()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20
    from torch.profiler import ProfilerActivity, profile

    with (
        _native_stderr_silenced(),
        profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof,
    ):
        call()
    running = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        running += event.self_cpu_memory_usage
        peak = max(peak, running)
    return peak / 2**20


# --- the timing loop --------------------------------------------------------------------------


def _make_call(module: nn.Module, x: Tensor, mode: str) -> Callable[[], Any]:
    params = [p for p in module.parameters() if p.requires_grad]
    if mode == "inference":
        module.eval()

        def call() -> Any:
            with torch.no_grad():
                return module(x)[0]

    else:
        module.train()

        def call() -> Any:
            for p in params:
                p.grad = None
            output = module(x)[0]
            output.sum().backward()

    return call


def _timed(call: Callable[[], Any], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) * 1000.0


def run_bench(
    shapes: Sequence[Shape] | None = None,
    modes: Sequence[str] = MODES,
    contenders: Sequence[Contender] | None = None,
    repeats: int = 10,
    warmup: int = 2,
    *,
    max_ms: float | None = 5000.0,
    min_repeats: int = 3,
    memory: bool = True,
    device: str | torch.device = "cpu",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Time every contender on every shape and mode; one result dict per (shape, mode, contender).

    ``max_ms`` caps the time spent on the timed repeats of one contender at one shape and mode: a
    contender slower than ``max_ms / repeats`` per call gets fewer repeats (at least
    ``min_repeats``), and one slower than 1 s per call one warm-up call. A contender that raises
    :class:`~lstmkit.errors.UnsupportedConfigError` is reported with ``status="n/a"`` and the
    reason; any other exception with ``status="error"`` and the message.
    """
    shapes = list(SHAPES.values()) if shapes is None else list(shapes)
    contenders = all_contenders() if contenders is None else list(contenders)
    for mode in modes:
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if repeats < 1 or warmup < 0 or min_repeats < 1:
        raise ConfigError(
            f"repeats and min_repeats must be >= 1 and warmup >= 0, "
            f"got repeats={repeats}, min_repeats={min_repeats}, warmup={warmup}"
        )
    device = torch.device(device)
    say = progress or (lambda message: None)
    results = []
    for shape in shapes:
        for mode in modes:
            say(f"{shape.name} ({shape.describe()}) {mode}")
            results += _bench_one(
                shape, mode, contenders, repeats, warmup, max_ms, min_repeats, device, seed
            )
    if memory:
        say("peak memory (one call each)")
        for shape in shapes:
            for mode in modes:
                _measure_memory(shape, mode, contenders, results, device, seed)
    _add_ratios(results)
    return results


def _build(contender: Contender, shape: Shape, device: torch.device, seed: int) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return contender.build(shape.D, shape.H).to(device)


def _input(shape: Shape, device: torch.device, seed: int) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape.T, shape.B, shape.D, generator=generator).to(device)  # (T, B, D)


def _bench_one(
    shape: Shape,
    mode: str,
    contenders: Sequence[Contender],
    repeats: int,
    warmup: int,
    max_ms: float | None,
    min_repeats: int,
    device: torch.device,
    seed: int,
) -> list[dict[str, Any]]:
    x = _input(shape, device, seed)
    rows: list[dict[str, Any]] = []
    calls: dict[int, Callable[[], Any]] = {}
    planned: dict[int, int] = {}
    for index, contender in enumerate(contenders):
        row = {
            "shape": shape.name,
            **{k: getattr(shape, k) for k in "TBDH"},
            "mode": mode,
            "contender": contender.name,
            "label": contender.label,
            "impl": contender.impl,
            "variant": contender.variant,
            "status": "ok",
            "reason": None,
            "median_ms": None,
            "min_ms": None,
            "repeats": 0,
            "ratio": None,
            "peak_mib": None,
        }
        rows.append(row)
        try:
            call = _make_call(_build(contender, shape, device, seed), x, mode)
            first = _timed(call, device)
            warm = [_timed(call, device) for _ in range(warmup if first < 1000 else 1)]
        except UnsupportedConfigError as err:
            row.update(status="n/a", reason=str(err))
            continue
        except Exception as err:  # noqa: BLE001 - reported in the table, the run goes on
            row.update(status="error", reason=f"{type(err).__name__}: {err}")
            continue
        per_call = statistics.median(warm) if warm else first
        count = repeats
        if max_ms is not None and per_call * repeats > max_ms:
            count = max(min_repeats, int(max_ms // max(per_call, 1e-3)))
        calls[index], planned[index] = call, min(count, repeats)

    times: dict[int, list[float]] = {index: [] for index in calls}
    order = list(calls)
    for round_ in range(max(planned.values(), default=0)):
        shift = round_ % len(order)
        for index in order[shift:] + order[:shift]:
            if len(times[index]) < planned[index]:
                times[index].append(_timed(calls[index], device))
    for index, samples in times.items():
        rows[index].update(
            median_ms=statistics.median(samples), min_ms=min(samples), repeats=len(samples)
        )
    return rows


def _measure_memory(
    shape: Shape,
    mode: str,
    contenders: Sequence[Contender],
    results: list[dict[str, Any]],
    device: torch.device,
    seed: int,
) -> None:
    x = _input(shape, device, seed)
    for row in results:
        if row["shape"] != shape.name or row["mode"] != mode or row["status"] != "ok":
            continue
        contender = next(c for c in contenders if c.name == row["contender"])
        call = _make_call(_build(contender, shape, device, seed), x, mode)
        call()  # the first call's one-off allocations (workspaces, caches) are not the peak's
        row["peak_mib"] = peak_memory_mib(call, device)


def _add_ratios(results: list[dict[str, Any]]) -> None:
    baseline = {
        (r["shape"], r["mode"]): r["median_ms"]
        for r in results
        if r["contender"] == BASELINE and r["median_ms"]
    }
    for row in results:
        base = baseline.get((row["shape"], row["mode"]))
        if base and row["median_ms"] is not None:
            row["ratio"] = row["median_ms"] / base
