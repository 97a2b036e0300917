"""What CPU this is: the facts a timing, or a path chosen by timing, depends on."""

from __future__ import annotations

import functools
import platform


@functools.cache
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``'s "model name"; else what platform knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_isa() -> str:
    """The widest vector instruction set torch's CPU kernels use here (e.g. "AVX2", "AVX512")."""
    import torch

    try:
        return str(torch.backends.cpu.get_cpu_capability()).upper()
    except (AttributeError, RuntimeError):  # older torch
        return "unknown"


__all__ = ["cpu_isa", "cpu_model"]
