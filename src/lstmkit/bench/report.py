"""What ``lstmkit bench`` prints and writes: the machine header, the table and the JSON file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from lstmkit._machine import cpu_isa, cpu_model
from lstmkit._table import format_table
from lstmkit._version import __version__
from lstmkit.bench.core import BASELINE, memory_method

TABLE_COLUMNS = ("shape", "mode", "contender", "ms", "x torch", "peak MiB", "n", "note")


def environment(device: str | torch.device = "cpu") -> dict[str, Any]:
    """The facts a timing depends on, for the header of the table and the JSON file."""
    device = torch.device(device)
    env = {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "lstmkit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "cpu_isa": cpu_isa(),
        "memory_method": memory_method(device),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


def header_lines(env: dict[str, Any]) -> list[str]:
    lines = [
        f"lstmkit {env['lstmkit']}, torch {env['torch']}, python {env['python']}, {env['date_utc']}"
        " UTC",
        f"device {env['device']}"
        + (f" ({env['gpu']})" if "gpu" in env else "")
        + f", CPU {env['cpu_model']} ({env.get('cpu_isa', 'ISA unknown')}), {env['cpu_count']} "
        f"CPUs, {env['threads']} torch threads",
        f"peak memory: {env['memory_method']}",
    ]
    return lines


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g}" if value < 10 else f"{value:.0f}"


def table_rows(results: Sequence[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        peak = "" if r["peak_mib"] is None else f"{r['peak_mib']:.1f}"
        note = "" if r["reason"] is None else r["reason"]
        rows.append(
            [
                r["shape"],
                r["mode"],
                r["label"],
                "n/a" if r["status"] != "ok" else _fmt_ms(r["median_ms"]),
                ratio,
                peak,
                str(r["repeats"]) if r["repeats"] else "",
                (r["status"] + ": " if r["status"] == "error" else "") + note,
            ]
        )
    return rows


def render(results: Sequence[dict[str, Any]], env: dict[str, Any]) -> str:
    """The header, the table, and what the ratio column means."""
    return "\n".join(
        header_lines(env)
        + ["", format_table(TABLE_COLUMNS, table_rows(results)), ""]
        + [
            f"ms: median of n interleaved timed calls; x torch: ms / ms of {BASELINE} "
            "(torch.nn.LSTM) on the same shape and mode; train = forward + backward of "
            "output.sum(), float32."
        ]
    )


def write_json(
    path: str | os.PathLike[str],
    results: Sequence[dict[str, Any]],
    env: dict[str, Any],
    settings: dict[str, Any],
) -> Path:
    """Write ``{"environment", "settings", "results"}`` to ``path`` (folders made as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        json.dumps({"environment": env, "settings": settings, "results": list(results)}, indent=2)
        + "\n"
    )
    tmp.replace(path)
    return path


def default_json_path(now: dt.datetime | None = None) -> Path:
    now = now or dt.datetime.now(dt.timezone.utc)
    return Path("bench-results") / f"bench-{now.strftime('%Y%m%d-%H%M%S')}.json"
