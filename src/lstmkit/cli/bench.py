"""``lstmkit bench``: time torch.nn.LSTM and lstmkit's engines side by side, print and save."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import torch

from lstmkit.bench import (
    IMPLS,
    MODES,
    QUICK_SHAPES,
    SHAPES,
    VARIANTS,
    environment,
    render,
    run_bench,
    select_contenders,
    select_shapes,
    write_json,
)
from lstmkit.bench.report import default_json_path
from lstmkit.cli._options import positive_int


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def register(subparsers: Any) -> None:
    shapes = ", ".join(f"{s.name} ({s.describe()})" for s in SHAPES.values())
    parser = subparsers.add_parser(
        "bench",
        help="time torch.nn.LSTM against lstmkit's engines and variants",
        description=(
            "Time contenders side by side in one process: warm-up, then interleaved repeats, "
            "median reported with its ratio to torch.nn.LSTM on the same shape and mode. "
            f"Shapes: {shapes}."
        ),
    )
    parser.add_argument(
        "--shapes",
        type=_names,
        help=f"comma-separated shapes to run (default: all; {','.join(QUICK_SHAPES)} with --quick)",
    )
    parser.add_argument(
        "--modes",
        type=_names,
        default=list(MODES),
        help=f"comma-separated modes among {','.join(MODES)} (default: both)",
    )
    parser.add_argument(
        "--variants",
        type=_names,
        help=f"comma-separated variants among {','.join(VARIANTS)} (default: all)",
    )
    parser.add_argument(
        "--impls",
        type=_names,
        help=f"comma-separated implementations among {','.join(IMPLS)} (default: all); "
        "torch.nn.LSTM plain is always timed, as the baseline of the ratios",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run: shapes S1,S2 unless --shapes is given, 5 repeats, 1 warm-up call",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="whole sequences: timed calls per contender (default 10, 5 with --quick); not used "
        "by --stream, which times --stream-steps single steps per contender instead",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        help="whole sequences: untimed calls per contender first (default 2, 1 with --quick); "
        "not used by --stream, which always runs 200 untimed steps per step contender and the "
        "online detector's 750-row probation untimed",
    )
    parser.add_argument(
        "--max-ms",
        type=float,
        default=5000.0,
        help="whole sequences: time budget in ms for one contender's timed calls at one shape "
        "and mode: slower contenders get fewer repeats, at least 3 (default 5000; 0 for no "
        "cap); --stream has no budget",
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory pass (one call each)"
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="torch device to run on, e.g. cpu or cuda (default cpu); --stream always runs on "
        "the CPU",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        help="torch CPU threads (default: torch's own default, usually the number of cores)",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="instead of whole sequences, time one streaming step with carried state at batch "
        "size 1 (torch.nn.LSTMCell, lstmkit's LSTMCell, a fitted anomaly detector's stream), and "
        "the online anomaly detector's rows after its probation (periodic updates included; "
        "rows with and without an update apart): median, 99th percentile, mean per step, rows/s",
    )
    parser.add_argument(
        "--stream-hidden", type=int, default=64, help="hidden units for --stream (default 64)"
    )
    parser.add_argument(
        "--stream-steps",
        type=int,
        help="--stream: timed steps per step contender, and timed rows of the online detector "
        "after its probation (default 5000, 1000 with --quick)",
    )
    parser.add_argument(
        "--out",
        help="where to write the JSON results (default bench-results/bench-<UTC time>.json)",
    )
    parser.set_defaults(func=run)


def check_device(name: str) -> str:
    """Refuse a device torch cannot parse or this machine does not have, before any timing."""
    from lstmkit.errors import ConfigError

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(
            f"--device {name!r} is not a torch device; expected e.g. cpu, cuda or cuda:0"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"--device {name!r}: this torch build has no usable CUDA GPU "
                f"(torch {torch.__version__}); use --device cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"--device {name!r}: there are {torch.cuda.device_count()} CUDA device(s)"
            )
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError(f"--device {name!r}: MPS is not available here; use --device cpu")
    elif device.type != "cpu":
        raise ConfigError(f"--device {name!r}: expected cpu, cuda[:N] or mps")
    return name


def run(args: argparse.Namespace) -> int:
    check_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.stream:
        return run_stream(args)
    shapes = select_shapes(args.shapes or (QUICK_SHAPES if args.quick else None))
    contenders = select_contenders(args.variants, args.impls)
    repeats = args.repeats or (5 if args.quick else 10)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    settings = {
        "shapes": [s.name for s in shapes],
        "modes": args.modes,
        "contenders": [c.name for c in contenders],
        "repeats": repeats,
        "warmup": warmup,
        "max_ms": args.max_ms or None,
        "command": "lstmkit " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("lstmkit") else None,
    }
    results = run_bench(
        shapes,
        args.modes,
        contenders,
        repeats,
        warmup,
        max_ms=args.max_ms or None,
        memory=not args.no_memory,
        device=args.device,
        progress=None if getattr(args, "quiet", False) else _say_timing,
    )
    env = environment(args.device)
    print(render(results, env))
    path = write_json(args.out or default_json_path(), results, env, settings)
    print(f"results written to {path}")
    errors = [r for r in results if r["status"] == "error"]
    if errors:
        print(f"lstmkit: {len(errors)} contender(s) failed; see the note column", file=sys.stderr)
        return 1
    return 0


def _say_timing(message: str) -> None:
    print(f"timing {message} ...", file=sys.stderr, flush=True)


def run_stream(args: argparse.Namespace) -> int:
    from lstmkit.bench.report import header_lines
    from lstmkit.bench.stream import render_stream, run_online_stream_bench, run_stream_bench

    steps = args.stream_steps or (1000 if args.quick else 5000)
    settings = {
        "mode": "stream",
        "hidden_size": args.stream_hidden,
        "steps": steps,
        "online_probation": 750,
    }
    if not getattr(args, "quiet", False):
        print("timing streaming steps ...", file=sys.stderr, flush=True)
    results = run_stream_bench(hidden_size=args.stream_hidden, steps=steps)
    results += run_online_stream_bench(rows=steps, probation=settings["online_probation"])
    env = environment("cpu")
    print(render_stream(results, header_lines(env)[:2]))
    path = write_json(args.out or default_json_path(), results, env, settings)
    print(f"results written to {path}")
    return 0
