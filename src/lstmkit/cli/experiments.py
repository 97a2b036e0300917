"""``lstmkit experiments``: the classic LSTM experiments (Hochreiter & Schmidhuber, 1997).

* ``lstmkit experiments list`` — the experiments, their paper sections and default settings.
* ``lstmkit experiments run NAME|all [options]`` — train the models on one experiment (or on every
  experiment of the report), write ``<id>.json`` and ``<id>.png`` into ``--results``.
* ``lstmkit experiments report [--run] [--quick]`` — (re)run everything if asked, then assemble
  every result into one Markdown file (``EXPERIMENTS.md``).
* ``lstmkit experiments text [--parts ...] [--quick]`` — the measurements of the text tasks on
  bundled data (``lstmkit.experiments.text_eval``), written to ``text.json`` and ``TEXT.md``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from lstmkit.cli._options import (
    add_documented_command,
    add_seed_option,
    add_threads_option,
    apply_threads,
)
from lstmkit.errors import ConfigError
from lstmkit.experiments.models import MODELS
from lstmkit.experiments.tasks import TASKS, make_task

log = logging.getLogger(__name__)

DEFAULT_RESULTS = "experiments-results"
DEFAULT_REPORT = "EXPERIMENTS.md"


def _csv(kind: type) -> Any:
    def parse(text: str) -> tuple[Any, ...]:
        try:
            return tuple(kind(s.strip()) for s in text.split(",") if s.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {kind.__name__}s, got {text!r}"
            ) from None

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_documented_command(
        subparsers,
        "experiments",
        help="the classic LSTM experiments of Hochreiter & Schmidhuber (1997): run, report",
        doc=__doc__,
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    p_list = verbs.add_parser("list", help="list the experiments and their default settings")
    p_list.set_defaults(func=_list)

    p_run = verbs.add_parser(
        "run", help="train the models on one experiment (or 'all') and write JSON + PNG"
    )
    p_run.add_argument("name", help=f"experiment: {', '.join(TASKS)}, or 'all' (the full report)")
    _add_run_options(p_run)
    p_run.set_defaults(func=_run)

    p_text = verbs.add_parser(
        "text",
        help="measure the text tasks on bundled data (fixed seed) and write TEXT.md",
        description="Train and score the classifier, language model, tagger and seq2seq models "
        "with the settings their docs quote; write <results>/text.json and a Markdown report.",
    )
    p_text.add_argument(
        "--parts",
        type=_csv(str),
        default=None,
        help="comma-separated parts (default all): classifier, language-model, throughput, "
        "tagger, seq2seq",
    )
    add_seed_option(p_text)
    p_text.add_argument(
        "--quick", action="store_true", help="tiny data and budgets (seconds; for tests)"
    )
    p_text.add_argument(
        "--results", default=DEFAULT_RESULTS, help=f"results directory (default {DEFAULT_RESULTS})"
    )
    p_text.add_argument(
        "--report", default="TEXT.md", help="Markdown report to write (default TEXT.md)"
    )
    add_threads_option(p_text, default=1)
    p_text.set_defaults(func=_text)

    p_rep = verbs.add_parser("report", help="assemble every result into one Markdown file")
    p_rep.add_argument(
        "--output",
        default=DEFAULT_REPORT,
        help=f"the Markdown file to write (default {DEFAULT_REPORT})",
    )
    p_rep.add_argument(
        "--run",
        action="store_true",
        help="first run every experiment of the report (with --quick: the quick versions)",
    )
    p_rep.add_argument(
        "--quick",
        action="store_true",
        help="the quick runs (tiny, seconds) instead of the full ones",
    )
    p_rep.add_argument(
        "--results", default=DEFAULT_RESULTS, help=f"results directory (default {DEFAULT_RESULTS})"
    )
    p_rep.add_argument("--jobs", type=int, default=1, help="with --run: runs in parallel (<= 2)")
    p_rep.set_defaults(func=_report)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--T", type=int, help="sequence length parameter T (adding, multiplication, copy)"
    )
    p.add_argument("--p", type=int, help="time lag p (long-lag)")
    p.add_argument("--K", type=int, help="pattern length K (copy)")
    p.add_argument(
        "--targets",
        choices=("every", "final"),
        help="long-lag: train on every next symbol (the paper's task; default) or the final one",
    )
    p.add_argument(
        "--models",
        type=_csv(str),
        help=f"comma-separated models (default all): {', '.join(MODELS)}",
    )
    p.add_argument("--seeds", type=_csv(int), help="comma-separated seeds (default 0,1,2,3,4)")
    p.add_argument("--budget-sequences", type=int, help="training sequences per run")
    p.add_argument("--budget-seconds", type=float, help="training seconds per run")
    p.add_argument("--hidden-size", type=int, help="units of the recurrent layer")
    p.add_argument(
        "--regime",
        choices=("modern", "paper"),
        default="modern",
        help="training regime: modern (Adam, mini-batches, clipping; default) or paper (the 1997 "
        "paper's online gradient descent, learning rate, squared error and initialisation)",
    )
    p.add_argument("--lr", type=float, help="learning rate (Adam, or SGD with --regime paper)")
    p.add_argument(
        "--forget-bias", type=float, help="initial forget-gate bias of the LSTMs that have one"
    )
    p.add_argument("--batch-size", type=int, help="sequences per training step")
    p.add_argument("--eval-every", type=int, help="validation check every N training sequences")
    p.add_argument("--test-size", type=int, help="test sequences (default 2560 as in the paper)")
    p.add_argument(
        "--validation-size",
        type=int,
        help="validation sequences read by the stop rule (default 512; the test set's size makes "
        "a run that stops on validation far less likely to miss the criterion on test)",
    )
    p.add_argument(
        "--direct",
        action="store_true",
        help="input-to-output connections beside the recurrent layer (the paper's net for "
        "long-lag task 2a)",
    )
    p.add_argument(
        "--memory-after",
        type=int,
        help="with --direct: train the direct connections alone for N sequences, then add the "
        "recurrent path (the paper added its memory cell once the error stopped decreasing)",
    )
    p.add_argument(
        "--no-stop",
        action="store_true",
        help="train the whole budget instead of stopping at the criterion",
    )
    p.add_argument(
        "--jobs", type=int, default=1, help="runs in parallel, one torch thread each (default 1)"
    )
    p.add_argument("--quick", action="store_true", help="tiny problems and budgets (seconds)")
    p.add_argument(
        "--results", default=DEFAULT_RESULTS, help=f"results directory (default {DEFAULT_RESULTS})"
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace a result file of the same name that holds runs with other settings "
        "(default: refuse before training)",
    )
    p.add_argument(
        "--save-models",
        metavar="DIR",
        help="also save every trained model (config.json + weights.safetensors) under DIR",
    )


def _list(args: argparse.Namespace) -> int:
    from lstmkit.experiments.settings import FULL_PLAN, make_config

    for name, cls in TASKS.items():
        task = make_task(name)
        print(f"{name:15s} {cls.title} — paper Section {cls.section}")
        print(f"{'':15s} criterion: {cls.criterion}; solved at >= {100 * cls.solved_share:.2f} %")
        c = make_config(name)
        print(
            f"{'':15s} defaults: {task.describe()}, hidden {c.hidden_size}, lr {c.lr:g}, batch "
            f"{c.batch_size}, budget {c.budget_sequences:,} sequences / {c.budget_seconds:g} s"
        )
    print("report plan (lstmkit experiments run all):")
    for name, params in FULL_PLAN:
        print(f"  {make_task(name, **params).describe()}")
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "models": args.models,
        "seeds": args.seeds,
        "budget_sequences": args.budget_sequences,
        "budget_seconds": args.budget_seconds,
        "hidden_size": args.hidden_size,
        "lr": args.lr,
        "forget_bias": args.forget_bias,
        "batch_size": args.batch_size,
        "eval_every": args.eval_every,
        "test_size": args.test_size,
        "validation_size": args.validation_size,
        "direct": True if args.direct else None,
        "memory_after": args.memory_after,
        "stop_when_solved": False if args.no_stop else None,
    }


def _run(args: argparse.Namespace) -> int:
    from lstmkit.experiments.runner import run_experiment, write_result
    from lstmkit.experiments.settings import config_command, make_config, plan

    params = {"T": args.T, "p": args.p, "K": args.K, "targets": args.targets}
    if args.name == "all":
        if any(v is not None for v in params.values()):
            raise ConfigError("--T, --p, --K and --targets apply to one experiment, not to 'all'")
        configs = plan(quick=args.quick, regime=args.regime)
        overrides = {k: v for k, v in _overrides(args).items() if v is not None}
        if overrides:
            from lstmkit.experiments.settings import with_overrides

            configs = [with_overrides(c, **overrides) for c in configs]
    else:
        given = {k: v for k, v in params.items() if v is not None}
        configs = [
            make_config(
                args.name,
                quick=args.quick,
                task_params=given,
                regime=args.regime,
                **_overrides(args),
            )
        ]
    _check_jobs(args.jobs)
    if not args.replace:  # refuse before training, not after it
        from lstmkit.experiments.runner import result_conflict

        for config in configs:
            conflict = result_conflict(config, args.results)
            if conflict:
                raise ConfigError(
                    f"{conflict}; pass --replace to replace them or --results DIR to keep both"
                )
    for config in configs:
        print(
            f"running {config.result_id}: models {', '.join(config.models)}, seeds "
            f"{', '.join(map(str, config.seeds))}",
            flush=True,
        )
        result = run_experiment(
            config, jobs=args.jobs, save_models=args.save_models, command=config_command(config)
        )
        json_path, png_path = write_result(result, args.results, replace_other=args.replace)
        _print_summary(result)
        print(f"wrote {json_path}\nwrote {png_path}", flush=True)
    return 0


def _check_jobs(jobs: int) -> None:
    if jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")


def _print_summary(result: Any) -> None:
    from lstmkit.experiments.report import model_table

    print(model_table(result))


def _report(args: argparse.Namespace) -> int:
    from lstmkit.experiments.report import build_report
    from lstmkit.experiments.runner import read_results, run_experiment, write_result
    from lstmkit.experiments.settings import config_command, plan

    _check_jobs(args.jobs)
    if args.run:
        for config in plan(quick=args.quick):
            print(f"running {config.result_id}", flush=True)
            # Models are saved so that the report can look inside the trained networks.
            result = run_experiment(
                config,
                jobs=args.jobs,
                save_models=Path(args.results) / "models",
                command=config_command(config),
            )
            write_result(result, args.results, replace_other=True)  # a full rerun
    # Quick and full results may share the directory; a report holds one kind.
    results = [r for r in read_results(args.results) if r.config.quick == args.quick]
    path = build_report(results, output=args.output, results_dir=args.results)
    print(f"wrote {path} ({len(results)} experiment result(s))")
    return 0


def _text(args: argparse.Namespace) -> int:
    from lstmkit.experiments.text_eval import PARTS, run_text_eval, write_outputs

    apply_threads(args)

    def say(message: str) -> None:
        print(message, flush=True)

    result = run_text_eval(args.parts or PARTS, seed=args.seed, quick=args.quick, progress=say)
    name = "text-quick.json" if args.quick else "text.json"
    for path in write_outputs(result, Path(args.results) / name, Path(args.report)):
        print(f"wrote {path}")
    return 0
