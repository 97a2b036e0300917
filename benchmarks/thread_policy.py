"""How a training step's time depends on torch's thread count when the machine is idle and when
another process keeps one core busy (docs/threads.md).

    python benchmarks/thread_policy.py

Each configuration runs in a fresh interpreter (OpenMP reads OMP_WAIT_POLICY at start-up); the
"busy" rows run beside a Python busy-loop on one core. Prints one Markdown table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

STEP = r"""
import sys, time, torch
threads, impl, hidden = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
from lstmkit.nn import LSTM
torch.manual_seed(0)
x = torch.randn(32, 50, 16)
if impl == "torch":
    m = torch.nn.LSTM(16, hidden, batch_first=True)
else:
    m = LSTM(16, hidden, batch_first=True, impl="fused", layer_norm=True)
opt = torch.optim.Adam(m.parameters())
def step():
    out, _ = m(x)
    loss = out.pow(2).mean()
    opt.zero_grad(); loss.backward(); opt.step()
for _ in range(3):
    step()
times = []
for _ in range(21):
    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
times.sort()
print(f"{times[len(times) // 2] * 1e3:.1f} {times[int(len(times) * 0.9)] * 1e3:.1f}")
"""

CASES = [
    ("torch.nn.LSTM", "torch", 64),
    ("torch.nn.LSTM", "torch", 256),
    ("lstmkit fused, layer norm", "fused", 64),
]
POLICIES = [(1, None), (2, None), (2, "PASSIVE")]


def run(threads: int, impl: str, hidden: int, policy: str | None) -> str:
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run(
        [sys.executable, "-c", STEP, str(threads), impl, str(hidden)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    median, p90 = out.stdout.split()
    return f"{median} ({p90})"


def main() -> None:
    rows = []
    for busy in (False, True):
        burner = None
        if busy:
            burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(1.0)
        try:
            for label, impl, hidden in CASES:
                cells = [run(t, impl, hidden, p) for t, p in POLICIES]
                rows.append(
                    f"| {'busy' if busy else 'idle'} | {label}, H={hidden} | "
                    + " | ".join(cells)
                    + " |"
                )
        finally:
            if burner is not None:
                burner.kill()
    head = " | ".join(
        f"{t} thread{'s' if t > 1 else ''}{', ' + p if p else ''}" for t, p in POLICIES
    )
    print(f"| other core | training step (B=32, T=50) | {head} |")
    print("|---|---|" + "---|" * len(POLICIES))
    print("\n".join(rows))
    print("\nms per step: median (90th percentile) of 21 steps")


if __name__ == "__main__":
    main()
