"""Runs a command that starts DDP ranks itself (Lightning's "ddp" starts the script again for each
further rank), for the DDP tests: a clean rank environment, one thread, and a timeout that ends
every rank."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest


def run_ddp(argv: list[str], *, cwd: Path | None = None) -> tuple[str, str]:
    """Run ``argv`` to the end; fail the test on a timeout or a non-zero exit. Returns (stdout,
    stderr)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # a rank variable left from an outer launcher would make the child think it is a later rank
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "NODE_RANK", "MASTER_PORT"):
        env.pop(name, None)
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,  # rank 0 starts rank 1; a timeout ends both
    )
    try:
        stdout, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"the DDP run timed out:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    assert proc.returncode == 0, stderr[-3000:]
    return stdout, stderr
