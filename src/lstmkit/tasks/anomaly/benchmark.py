"""The anomaly benchmark behind ``lstmkit detect benchmark``: seeded, on a synthetic series.

Each method (prediction, reconstruction, the rolling z-score baseline) is trained on the clean
first half of :func:`lstmkit.data.synthetic_anomalies.make_anomaly_series` and scored on the whole
series with each threshold (quantile, dynamic, SPOT at risk 1e-4); the table holds point-wise,
event-wise and point-adjusted precision, recall and F1. The prediction detector's stream is then
timed per update (one row, batch size 1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmkit.data.synthetic_anomalies import make_anomaly_series
from lstmkit.tasks.anomaly.task import AnomalyDetector


@dataclass
class BenchmarkReport:
    metrics: pd.DataFrame  # one row per (method, threshold, view)
    latency_ms: dict[str, float]  # median, p99, mean per stream update
    hidden_size: int

    def text(self) -> str:
        from lstmkit._table import format_table

        table = self.metrics
        rows = []
        for (method, threshold), part in table.groupby(["method", "threshold"], sort=False):
            r = part.set_index("view")
            rows.append(
                [
                    method,
                    threshold,
                    f"{r.loc['event', 'f1']:.3f}",
                    f"{r.loc['event', 'precision']:.3f}",
                    f"{r.loc['event', 'recall']:.3f}",
                    f"{r.loc['point', 'f1']:.3f}",
                    f"{r.loc['point_adjusted', 'f1']:.3f}",
                ]
            )
        head = [
            "method",
            "threshold",
            "event F1",
            "event P",
            "event R",
            "point F1",
            "point-adj. F1 (flatters)",
        ]
        lat = self.latency_ms
        return (
            format_table(head, rows)
            + f"\n\nstream latency per row (prediction, hidden {self.hidden_size}, batch 1): "
            f"median {lat['median']:.4f} ms, p99 {lat['p99']:.4f} ms, mean {lat['mean']:.4f} ms"
        )


def time_stream(det: AnomalyDetector, values: np.ndarray, steps: int) -> dict[str, float]:
    """Median, 99th percentile and mean wall time of ``stream.update`` over ``steps`` rows."""
    stream = det.stream()
    times = np.empty(steps)
    clock = time.perf_counter
    n = values.shape[0]
    for i in range(steps):
        row = values[i % n]
        t0 = clock()
        stream.update(row)
        times[i] = clock() - t0
    ms = times * 1e3
    return {
        "median": float(np.median(ms)),
        "p99": float(np.quantile(ms, 0.99)),
        "mean": float(ms.mean()),
    }


def run_benchmark(
    *,
    rows: int = 4000,
    epochs: int = 40,
    hidden_size: int = 64,
    steps: int = 2000,
    seed: int = 0,
) -> BenchmarkReport:
    syn = make_anomaly_series(rows, channels=2, n_anomalies=10, seed=seed)
    train = syn.frame.iloc[: syn.clean_rows]
    frames = []
    stream_det = None
    for method in ("zscore", "prediction", "reconstruction"):
        # fitted with the quantile so that threshold_ is the quantile: the "quantile" rows score
        # with it, while "spot" runs from the SPOT calibrated beside it (fitted with the default
        # threshold="spot", threshold_ would be SPOT's z and the "quantile" rows would use that)
        det = AnomalyDetector(method, window=64, hidden_size=hidden_size, threshold="quantile")
        det.fit(
            train,
            time_col=syn.time_col,
            columns=syn.columns,
            max_epochs=epochs,
            seed=seed,
            enable_progress_bar=False,
        )
        for threshold in ("quantile", "dynamic", "spot"):
            det.threshold = threshold
            m = det.evaluate_views(syn.frame, syn.labels).reset_index()
            m.insert(0, "threshold", threshold)
            m.insert(0, "method", method)
            frames.append(m)
        if method == "prediction":
            stream_det = det
    assert stream_det is not None
    values = syn.frame[syn.columns].to_numpy(np.float64)
    latency = time_stream(stream_det, values, steps)
    return BenchmarkReport(
        metrics=pd.concat(frames, ignore_index=True), latency_ms=latency, hidden_size=hidden_size
    )


__all__ = ["BenchmarkReport", "run_benchmark", "time_stream"]
