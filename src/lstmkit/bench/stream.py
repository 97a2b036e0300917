"""Streaming latency: the wall time of one step with the state carried, batch size 1.

This is the cost a live system pays per incoming row. Contenders, timed in the same process with
their steps interleaved in rounds so that machine noise hits all alike:

* ``torch.nn.LSTMCell`` — one fused cell call with carried ``(h, c)``: the floor for an LSTM step.
* ``lstmkit LSTMCell`` — lstmkit's cell (the spec's step) with carried state.
* ``AnomalyDetector stream`` — a fitted next-step anomaly detector's ``stream().update(row)``: the
  whole per-row pipeline (check, scale, LSTM step, error, smoothing, threshold).

Each contender reports the median, 99th percentile and mean over its timed steps.

:func:`run_online_stream_bench` times the online detector (:class:`~lstmkit.tasks.anomaly.online.
OnlineDetector`, the one run over NAB) the same way: each ``update(row)`` after its probationary
period, score, threshold and the periodic online update included, on a seeded synthetic series with
anomalies. Its rows are reported three ways: those that ran an update (every ``update_every``-th
row), those that did not, and all of them; with rows per second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError
from lstmkit.nn import LSTMCell

STREAM_CONTENDERS = ("torch.nn.LSTMCell", "lstmkit LSTMCell", "AnomalyDetector stream")
ONLINE_CONTENDERS = (
    "OnlineDetector row, no update",
    "OnlineDetector row, with update",
    "OnlineDetector row, all",
)


def _cell_step(cell: torch.nn.Module, channels: int, hidden_size: int) -> Callable[[], Any]:
    x_t = torch.randn(1, channels)
    state = [(torch.zeros(1, hidden_size), torch.zeros(1, hidden_size))]

    def step() -> None:
        with torch.no_grad():
            out = cell(x_t, state[0])
        # torch's cell returns (h, c), lstmkit's (h, (h, c)); both carry (h, c) on.
        state[0] = out if isinstance(out[1], torch.Tensor) else out[1]

    return step


def _detector_step(channels: int, hidden_size: int, seed: int) -> Callable[[], Any]:
    from lstmkit.data.synthetic_anomalies import make_anomaly_series
    from lstmkit.tasks.anomaly import AnomalyDetector

    syn = make_anomaly_series(1200, channels=channels, n_anomalies=2, seed=seed)
    detector = AnomalyDetector("prediction", window=32, hidden_size=hidden_size)
    # One epoch is enough: latency does not depend on how well the weights are trained.
    detector.fit(
        syn.frame.iloc[: syn.clean_rows],
        time_col=syn.time_col,
        columns=syn.columns,
        max_epochs=1,
        seed=seed,
        enable_progress_bar=False,
    )
    stream = detector.stream()
    rows = syn.frame[syn.columns].to_numpy(np.float64)
    position = [0]

    def step() -> None:
        stream.update(rows[position[0] % len(rows)])
        position[0] += 1

    return step


def run_stream_bench(
    *,
    hidden_size: int = 64,
    channels: int = 2,
    steps: int = 2000,
    warmup: int = 200,
    round_size: int = 100,
    seed: int = 0,
    contenders: tuple[str, ...] = STREAM_CONTENDERS,
) -> list[dict[str, Any]]:
    """Per-step latency of each contender; one result dict each (milliseconds)."""
    unknown = [c for c in contenders if c not in STREAM_CONTENDERS]
    if unknown:
        raise ConfigError(
            f"unknown stream contender(s) {unknown}; choose from {', '.join(STREAM_CONTENDERS)}"
        )
    if steps < 1 or warmup < 0 or round_size < 1:
        raise ConfigError(
            f"steps and round_size must be >= 1 and warmup >= 0, got steps={steps}, "
            f"round_size={round_size}, warmup={warmup}"
        )
    torch.manual_seed(seed)
    calls: dict[str, Callable[[], Any]] = {}
    for name in contenders:
        if name == "torch.nn.LSTMCell":
            calls[name] = _cell_step(
                torch.nn.LSTMCell(channels, hidden_size), channels, hidden_size
            )
        elif name == "lstmkit LSTMCell":
            calls[name] = _cell_step(LSTMCell(channels, hidden_size), channels, hidden_size)
        else:
            calls[name] = _detector_step(channels, hidden_size, seed)
    for call in calls.values():
        for _ in range(warmup):
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    clock = time.perf_counter
    while any(len(s) < steps for s in samples.values()):
        for name, call in calls.items():
            for _ in range(min(round_size, steps - len(samples[name]))):
                start = clock()
                call()
                samples[name].append((clock() - start) * 1000.0)
    results = []
    for name, times in samples.items():
        ms = np.asarray(times)
        results.append(
            {
                "contender": name,
                "hidden_size": hidden_size,
                "channels": channels,
                "batch": 1,
                "steps": len(times),
                "median_ms": float(np.median(ms)),
                "p99_ms": float(np.quantile(ms, 0.99)),
                "mean_ms": float(ms.mean()),
                "rows_per_s": 1000.0 / float(ms.mean()),
            }
        )
    return results


def _summary(ms: np.ndarray) -> dict[str, float | None]:
    if ms.size == 0:
        return {"median_ms": None, "p99_ms": None, "mean_ms": None, "rows_per_s": None}
    mean = float(ms.mean())
    return {
        "median_ms": float(np.median(ms)),
        "p99_ms": float(np.quantile(ms, 0.99)),
        "mean_ms": mean,
        "rows_per_s": 1000.0 / mean,
    }


def run_online_stream_bench(
    *, rows: int = 5000, probation: int = 750, seed: int = 0, **options: Any
) -> list[dict[str, Any]]:
    """Per-row latency of :class:`~lstmkit.tasks.anomaly.online.OnlineDetector` over ``rows``
    rows after a probationary period of ``probation`` rows (untimed; it ends with the initial
    training). ``options`` go to the detector (its defaults otherwise). One result dict each for
    the rows without an update, with one, and all (milliseconds; ``None`` where no row fell in
    that group)."""
    from lstmkit.data.synthetic_anomalies import make_anomaly_series
    from lstmkit.tasks.anomaly import OnlineDetector

    rows = positive_int("rows", rows)
    detector = OnlineDetector(1, probation=probation, seed=seed, **options)
    n = detector.probation + rows
    syn = make_anomaly_series(n, channels=1, n_anomalies=max(1, rows // 1000), seed=seed)
    values = syn.frame[syn.columns].to_numpy(np.float64)
    for row in values[: detector.probation]:
        detector.update(row)
    every = detector.options["update_every"]
    times = np.empty(rows)
    updated = np.zeros(rows, dtype=bool)
    clock = time.perf_counter
    for i, row in enumerate(values[detector.probation :]):
        start = clock()
        detector.update(row)
        times[i] = (clock() - start) * 1000.0
        # the rule update() follows: a few Adam steps when this count divides evenly
        updated[i] = (detector.rows - detector.probation) % every == 0
    base = {
        "hidden_size": detector.options["hidden_size"],
        "channels": 1,
        "batch": 1,
        "lookback": detector.options["lookback"],
        "probation": detector.probation,
        "update_every": every,
        "update_steps": detector.options["steps"],
        "memory": detector.options["memory"],
    }
    results = []
    for name, mask in zip(ONLINE_CONTENDERS, (~updated, updated, np.ones(rows, bool)), strict=True):
        results.append(
            {"contender": name, **base, "steps": int(mask.sum()), **_summary(times[mask])}
        )
    return results


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def render_stream(results: list[dict[str, Any]], header: list[str]) -> str:
    from lstmkit._table import format_table

    rows = [
        [
            r["contender"],
            str(r["hidden_size"]),
            str(r["steps"]),
            _ms(r["median_ms"]),
            _ms(r["p99_ms"]),
            _ms(r["mean_ms"]),
            "n/a" if r["mean_ms"] is None else f"{1000.0 / r['mean_ms']:.0f}",
        ]
        for r in results
    ]
    table = format_table(
        ["streaming step (batch 1)", "hidden", "steps", "median ms", "p99 ms", "mean ms", "rows/s"],
        rows,
    )
    return "\n".join([*header, "", table])
