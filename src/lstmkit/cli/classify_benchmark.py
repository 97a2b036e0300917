"""``lstmkit classify benchmark DIR``: the numeric classifier beside a hand-written torch BiLSTM and
MiniRocket on a folder of UCR/UEA ``.ts`` train/test pairs (see
:mod:`lstmkit.tasks.classify.benchmark`); writes ``CLASSIFICATION.md`` and a JSON beside it."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from lstmkit.cli._options import (
    add_threads_option,
    add_verb,
    apply_threads,
    flat_names,
    print_paths,
)


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
    bench.add_argument(
        "--models",
        nargs="+",
        action="append",
        default=None,
        metavar="M",
        help="models to run: default, bilstm (hand-written torch), minirocket (needs sktime), "
        "or a named variant (default: default bilstm minirocket)",
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
        "--out",
        default="CLASSIFICATION.md",
        metavar="FILE.md",
        help="markdown report; the JSON goes beside it (default: CLASSIFICATION.md)",
    )
    add_threads_option(bench, default=1)


def cmd_benchmark(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify.benchmark import run_benchmark, write_report

    apply_threads(args)
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
