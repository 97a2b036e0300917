"""What bounds "fused at least 3x faster than reference" at S2 (issue 3), measured.

S2 inference on one thread: the matrix multiplies every engine has to do (the input projection of
all steps at once, then one recurrent product per step, both through torch's GEMM), timed beside
torch.nn.LSTM, lstmkit's fused engine and its reference engine, interleaved, medians of 15.
Run: ``python benchmarks/s2_gemm_bound.py``. The result is recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

import lstmkit

T, B, D, H = 100, 32, 64, 128
ROUNDS = 15


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x = torch.randn(T, B, D)
    w_ih, w_hh, bias = torch.randn(4 * H, D), torch.randn(4 * H, H), torch.randn(4 * H)
    h = torch.randn(B, H)
    A = torch.empty(T, B, 4 * H)

    def gemms() -> None:
        torch.addmm(bias, x.view(T * B, D), w_ih.t(), out=A.view(T * B, 4 * H))
        for t in range(T):
            torch.addmm(A[t], h, w_hh.t(), out=A[t])

    reference = lstmkit.LSTM(D, H, impl="reference").eval()
    fused = lstmkit.LSTM(D, H, impl="fused").eval()
    vendor = torch.nn.LSTM(D, H).eval()
    calls: dict[str, Callable[[], object]] = {
        "torch.nn.LSTM": lambda: vendor(x),
        "GEMMs only": gemms,
        "lstmkit fused": lambda: fused(x),
        "lstmkit reference": lambda: reference(x),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    with torch.no_grad():
        for call in calls.values():  # warm-up (numba compiles or loads its kernels here)
            call()
            call()
        for r in range(ROUNDS):
            for name in order[r % len(order) :] + order[: r % len(order)]:
                start = time.perf_counter()
                calls[name]()
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["torch.nn.LSTM"])
    for name, values in times.items():
        ms = statistics.median(values) * 1e3
        print(f"{name:18s} {ms:6.1f} ms  {ms / 1e3 / base:.2f} x torch.nn.LSTM")


if __name__ == "__main__":
    main()
