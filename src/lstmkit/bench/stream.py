"""Streaming latency: the wall time of one step with the state carried, batch size 1.

This is the cost a live system pays per incoming row. Contenders, timed in the same process with
their steps interleaved in rounds so that machine noise hits all alike:

* ``torch.nn.LSTMCell`` — one fused cell call with carried ``(h, c)``: the floor for an LSTM step.
* ``lstmkit LSTMCell`` — lstmkit's cell (the spec's step) with carried state.
* ``AnomalyDetector stream`` — a fitted next-step anomaly detector's ``stream().update(row)``: the
  whole per-row pipeline (check, scale, LSTM step, error, smoothing, threshold).

Each contender reports the median, 99th percentile and mean over its timed steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from lstmkit.errors import ConfigError
from lstmkit.nn import LSTMCell

STREAM_CONTENDERS = ("torch.nn.LSTMCell", "lstmkit LSTMCell", "AnomalyDetector stream")


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
            }
        )
    return results


def render_stream(results: list[dict[str, Any]], header: list[str]) -> str:
    from lstmkit._table import format_table

    rows = [
        [
            r["contender"],
            str(r["hidden_size"]),
            str(r["steps"]),
            f"{r['median_ms']:.4f}",
            f"{r['p99_ms']:.4f}",
            f"{r['mean_ms']:.4f}",
        ]
        for r in results
    ]
    table = format_table(
        ["streaming step (batch 1)", "hidden", "steps", "median ms", "p99 ms", "mean ms"], rows
    )
    return "\n".join([*header, "", table])
