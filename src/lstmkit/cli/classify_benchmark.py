"""``lstmkit classify benchmark DIR``: the numeric classifier beside a hand-written torch BiLSTM and
MiniRocket on a folder of UCR/UEA ``.ts`` train/test pairs (see
:mod:`lstmkit.tasks.classify.benchmark`); writes ``CLASSIFICATION.md`` and a JSON beside it."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from lstmkit._files import atomic_write
from lstmkit.cli._options import (
    add_names_option,
    add_threads_option,
    add_verb,
    apply_threads,
    flat_names,
    print_paths,
)
from lstmkit.errors import ConfigError


def register_benchmark(verbs: Any) -> None:
    bench = add_verb(
        verbs,
        "benchmark",
        cmd_benchmark,
        help="the numeric classifier vs a hand-written BiLSTM and MiniRocket on .ts pairs",
        description="Fit and score each model with each seed on every NAME_TRAIN.ts / "
        "NAME_TEST.ts pair in DIR; write a markdown table and a JSON.",
    )
    bench.add_argument("folder", metavar="DIR", help="folder of NAME_TRAIN.ts / NAME_TEST.ts")
    add_names_option(
        bench,
        "--models",
        "models to run: default, bilstm (hand-written torch), minirocket (needs sktime), "
        "or a named variant (default: default bilstm minirocket)",
        metavar="M",
    )
    bench.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        metavar="S",
        help="random seeds (default: 0 1 2)",
    )
    bench.add_argument(
        "--sets", nargs="+", default=None, metavar="NAME", help="only these sets (default: all)"
    )
    bench.add_argument(
        "--max-steps",
        type=int,
        default=256,
        metavar="N",
        help="LSTM models see longer series averaged down to at most N steps (default: 256; "
        "0 = full length)",
    )
    bench.add_argument(
        "--missing-rates",
        type=float,
        nargs="+",
        default=None,
        metavar="R",
        help="instead of the models: remove this share of the values at random (e.g. 0.3 0.5 "
        "0.7) and run the default classifier with each --missing-methods, beside it on the "
        "complete data",
    )
    bench.add_argument(
        "--missing-methods",
        nargs="+",
        default=None,
        metavar="M",
        help="with --missing-rates: mask, decay, interpolate, linear, mean, ffill (default: all)",
    )
    bench.add_argument(
        "--out",
        default=None,
        metavar="FILE.md",
        help="markdown report; the JSON goes beside it (default: CLASSIFICATION.md, with "
        "--missing-rates CLASSIFICATION-missing.md)",
    )
    add_threads_option(bench, default=1)


def cmd_benchmark(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify.benchmark import run_benchmark, write_report

    apply_threads(args)
    if args.missing_rates:
        return missing_benchmark(args)
    if args.missing_methods:
        raise ConfigError("--missing-methods needs --missing-rates")
    args.out = args.out or "CLASSIFICATION.md"
    models = flat_names(args.models) if args.models else ["default", "bilstm", "minirocket"]
    results = run_benchmark(
        args.folder,
        models=models,
        seeds=args.seeds,
        sets=args.sets,
        max_steps=args.max_steps or None,
    )
    command = (
        f"lstmkit classify benchmark {shlex.quote(str(args.folder))} --models {' '.join(models)} "
        f"--seeds {' '.join(map(str, args.seeds))} --max-steps {args.max_steps} "
        f"--threads {args.threads}"
        + (f" --sets {' '.join(args.sets)}" if args.sets else "")
        + f" --out {shlex.quote(str(args.out))}"
    )
    md, data = write_report(results, args.out, command)
    print(md.read_text(encoding="utf-8"))
    print_paths({"report": md, "results": data})
    return 0


def missing_benchmark(args: argparse.Namespace) -> int:
    """``--missing-rates``: the default classifier with each missing-value method."""
    import json

    from lstmkit.tasks.classify.benchmark import (
        MISSING_METHODS,
        missing_markdown,
        run_missing_benchmark,
    )

    if args.models:
        raise ConfigError("--models and --missing-rates are two benchmarks: choose one")
    methods = args.missing_methods or list(MISSING_METHODS)
    results = run_missing_benchmark(
        args.folder,
        rates=args.missing_rates,
        methods=methods,
        seeds=args.seeds,
        sets=args.sets,
        max_steps=args.max_steps or None,
    )
    out = Path(args.out or "CLASSIFICATION-missing.md")
    command = (
        f"lstmkit classify benchmark {shlex.quote(str(args.folder))} --missing-rates "
        f"{' '.join(map(str, args.missing_rates))} --missing-methods {' '.join(methods)} "
        f"--seeds {' '.join(map(str, args.seeds))} --max-steps {args.max_steps} "
        f"--threads {args.threads}"
        + (f" --sets {' '.join(args.sets)}" if args.sets else "")
        + f" --out {shlex.quote(str(out))}"
    )
    text = missing_markdown(results, command)
    atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    data = out.with_suffix(".json")
    payload = json.dumps({"command": command, **results}, indent=2) + "\n"
    atomic_write(data, lambda tmp: tmp.write_text(payload, encoding="utf-8"))
    print(text)
    print_paths({"report": out, "results": data})
    return 0
