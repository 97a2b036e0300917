"""Argparse pieces and output helpers shared by the ``lstmkit`` commands.

The commands differ in their defaults, not in what an option means, so an option that several
commands take is defined once here and each command passes its own default.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from lstmkit._files import atomic_write

T = TypeVar("T")

# --- argparse types -------------------------------------------------------------------------------


def checked(
    text: str,
    convert: Callable[[str], T],
    ok: Callable[[T], bool],
    expected: str,
    in_range: str | None = None,
) -> T:
    """``convert(text)``, refused with "expected EXPECTED, got 'TEXT'" when it cannot be
    converted and with "expected IN_RANGE, got VALUE" (``in_range`` defaults to ``expected``)
    unless ``ok`` of it: the body of an argparse ``type``."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {in_range or expected}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return checked(text, int, lambda v: v >= 1, "a positive integer")


def probability(text: str) -> float:
    """A number in [0, 1): a dropout rate or a held-out fraction (NaN is refused)."""
    return checked(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def non_negative_float(text: str) -> float:
    """A number >= 0 (NaN is refused: the comparison is written so that it fails)."""
    return checked(text, float, lambda v: v >= 0, "a number >= 0")


def number(text: str) -> float:
    """Any number (argparse's own ``float`` would say "invalid float value"); the library
    checks its range, naming the option."""
    return checked(text, float, lambda v: True, "a number")


def devices(text: str) -> int | str | list[int]:
    """``--devices``: "auto", a count N >= 1, -1 (every device) or device indices "0,1"."""
    value = text.strip()
    if value.lower() == "auto":
        return "auto"
    try:
        if "," in value:
            indices = [int(part) for part in value.split(",") if part.strip()]
            if indices and all(i >= 0 for i in indices):
                return indices
        elif int(value) >= 1 or int(value) == -1:
            return int(value)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        "expected auto, a number of devices >= 1, -1 (all of them) or comma-separated device "
        f"indices such as 0,1, got {text!r}"
    )


def strategy(text: str) -> str:
    """``--strategy``: "auto" or a strategy name Lightning knows (ddp, ddp_spawn, fsdp, ...)."""
    value = text.strip().lower()
    if value == "auto":
        return value
    from lightning.pytorch.strategies import StrategyRegistry  # only when the option is given

    known = StrategyRegistry.available_strategies()
    if value not in known:
        raise argparse.ArgumentTypeError(
            f"expected auto or a Lightning strategy ({', '.join(known)}), got {text!r}"
        )
    if value.startswith("ddp_spawn"):  # measured: docs/scaling.md
        raise argparse.ArgumentTypeError(
            f"{text!r} pickles the training function for its new processes, and lstmkit's tasks "
            "train with closures that cannot be pickled; use ddp"
        )
    return value


def flat_names(values: list[list[str]] | None) -> list[str]:
    """Flatten repeated options that each take one or more names (commas allowed too)."""
    out: list[str] = []
    for group in values or []:
        for item in group:
            out.extend(name.strip() for name in item.split(",") if name.strip())
    return out


# --- parsers --------------------------------------------------------------------------------------


def add_command(subparsers: Any, name: str, *, help: str, description: str) -> Any:
    """``lstmkit NAME VERB``: the command's parser; returns the subparsers its verbs go in."""
    parser = subparsers.add_parser(name, help=help, description=description)
    return parser.add_subparsers(dest="verb", metavar="VERB", required=True)


def add_documented_command(subparsers: Any, name: str, *, help: str, doc: str | None) -> Any:
    """``lstmkit NAME [options]``, a command without verbs whose description is its module's
    docstring ``doc``, shown with its line breaks."""
    return subparsers.add_parser(
        name, help=help, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_verb(
    verbs: Any,
    name: str,
    func: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str | None = None,
    model: str | None = None,
) -> argparse.ArgumentParser:
    """A verb's parser, run as ``func(args)``; with ``model`` (the command's name) its first
    option is ``--model DIR`` (:func:`add_model_option`)."""
    parser = verbs.add_parser(name, help=help, description=description)
    parser.set_defaults(func=func)
    if model is not None:
        add_model_option(parser, model)
    return parser


# --- options --------------------------------------------------------------------------------------


def add_path_option(
    parser: Any, flag: str, help: str, *, metavar: str = "FILE", required: bool = False
) -> None:
    """An option naming a file or folder to read or write (``--data``, ``--val``, ``--out``,
    ``--plot`` ...); without ``required`` it defaults to None (not given)."""
    parser.add_argument(flag, required=required, default=None, metavar=metavar, help=help)


def add_column_option(parser: Any, flag: str, help: str, *, required: bool = False) -> None:
    """An option naming a column of the input table (``--time-col``, ``--label-col`` ...)."""
    parser.add_argument(flag, required=required, default=None, metavar="C", help=help)


def add_names_option(
    parser: Any, flag: str, help: str, *, required: bool = False, metavar: str = "C"
) -> None:
    """An option naming columns (or models ...): repeatable, each time one or more names, commas
    allowed too; :func:`flat_names` reads it (None, not given, when not ``required``)."""
    parser.add_argument(
        flag,
        required=required,
        action="append",
        nargs="+",
        default=None,
        metavar=metavar,
        help=help,
    )


def add_count_option(
    parser: Any, flag: str, default: int | None, help: str, metavar: str = "N"
) -> None:
    """An option taking a whole number >= 1; ``{}`` in ``help`` stands for the default."""
    parser.add_argument(
        flag, type=positive_int, default=default, metavar=metavar, help=help.format(default)
    )


def add_network_options(
    parser: argparse.ArgumentParser,
    *,
    hidden_size: int,
    num_layers: int,
    dropout: float | None = None,
    units: str = "LSTM units (default: {})",
    layers: str = "stacked layers (default: {})",
    dropout_help: str = "dropout (default: {:g})",
) -> None:
    """``--hidden-size --num-layers [--dropout]`` with the command's defaults; each help is a
    template in which ``{}`` stands for the default (so a command says what its units are)."""
    add_count_option(parser, "--hidden-size", hidden_size, units)
    add_count_option(parser, "--num-layers", num_layers, layers)
    if dropout is not None:
        add_dropout_option(parser, dropout, dropout_help)


def network_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The model keyword arguments of the options :func:`add_network_options` added."""
    names = ("hidden_size", "num_layers", "dropout")
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def add_dropout_option(
    parser: argparse.ArgumentParser, default: float, help: str = "dropout (default: {:g})"
) -> None:
    """``--dropout P``, a rate in [0, 1); ``{}`` in ``help`` stands for the default."""
    parser.add_argument(
        "--dropout", type=probability, default=default, metavar="P", help=help.format(default)
    )


def add_val_size_option(parser: argparse.ArgumentParser, default: float | None, help: str) -> None:
    """``--val-size F``, the held-out share in [0, 1) (every command meant a fraction)."""
    parser.add_argument("--val-size", type=probability, default=default, metavar="F", help=help)


TOKENIZERS = ("char", "word", "bpe")


def add_tokenizer_option(parser: argparse.ArgumentParser, default: str) -> None:
    """``--tokenizer {char,word,bpe}``: how texts become tokens (:mod:`lstmkit.data.tokenizers`);
    the command's default is listed first."""
    if default not in TOKENIZERS:
        raise ValueError(f"expected a default tokenizer among {TOKENIZERS}, got {default!r}")
    parser.add_argument(
        "--tokenizer",
        choices=(default, *(name for name in TOKENIZERS if name != default)),
        default=default,
        help=f"how texts are split into tokens: characters, words or bpe subwords (default: "
        f"{default})",
    )


def add_model_option(parser: argparse.ArgumentParser, command: str) -> None:
    """``--model DIR``: a model directory that ``lstmkit COMMAND train`` wrote."""
    parser.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help=f"the directory '{command} train --out' wrote, or the model directory inside it",
    )


def add_missing_option(parser: argparse.ArgumentParser, *, training: bool) -> None:
    """``--missing``: the missing-value policy; when applying a model it defaults to the model's."""
    parser.add_argument(
        "--missing",
        choices=("error", "interpolate", "ffill"),
        default="error" if training else None,
        help="what to do with missing values and gaps (default: error)"
        if training
        else "missing-value policy (default: the one used in training)",
    )


def add_seed_option(parser: argparse.ArgumentParser, what: str = "random seed") -> None:
    parser.add_argument("--seed", type=int, default=0, help=f"{what} (default: 0)")


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress``: a progress bar even when stderr is not a terminal (``--quiet``: none)."""
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show the training progress bar on stderr even when it is not a terminal (it is "
        "shown by default on a terminal; --quiet hides it)",
    )


def show_progress(args: argparse.Namespace) -> bool:
    """Whether to draw progress bars: never with ``--quiet``; always with ``--progress``;
    otherwise only when stderr is a terminal (so logs and pipes get none)."""
    if getattr(args, "quiet", False):
        return False
    if getattr(args, "progress", False):
        return True
    return stderr_is_terminal()


def stderr_is_terminal() -> bool:
    import sys

    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def add_threads_option(parser: argparse.ArgumentParser, default: int = 1) -> None:
    """``--threads N``, one by default: the models lstmkit trains from the command line gain
    little from a second core on an idle machine and lose ten times and more when another
    process keeps a core busy (OpenMP threads spin waiting for each other; docs/threads.md)."""
    add_count_option(
        parser,
        "--threads",
        default,
        "CPU threads for torch (default: {}); more pays only for large models on an otherwise "
        "idle machine (see docs/threads.md)",
    )


# TrainConfig's choices (lstmkit.train.config.PRECISIONS; not imported: building the parser must
# not load the training stack; a test checks that the two agree)
PRECISIONS = ("32", "mixed", "16-mixed", "bf16-mixed")
SCALING = ("devices", "num_nodes", "strategy", "precision")  # None: TrainConfig's default


def add_scaling_options(parser: argparse.ArgumentParser) -> None:
    """``--devices --num-nodes --strategy --precision``, passed to Lightning through
    :class:`~lstmkit.train.TrainConfig`; left out, TrainConfig's defaults hold."""
    group = parser.add_argument_group(
        "hardware and scaling",
        "Passed to Lightning, with its meaning: e.g. --devices 2 --strategy ddp trains in 2 "
        "processes, one per device, each on its share of every epoch's batches.",
    )
    group.add_argument(
        "--devices",
        type=devices,
        default=None,
        metavar="N|auto|I,J",
        help="how many devices (GPUs, or CPU processes on a machine without one) to train on per "
        "node, -1 for all, or which ones by index, e.g. 0,1 (default: auto, one GPU if there "
        "is one, else the CPU)",
    )
    group.add_argument(
        "--num-nodes",
        type=positive_int,
        default=None,
        metavar="N",
        help="machines taking part in distributed training, each running --devices processes "
        "(default: 1)",
    )
    group.add_argument(
        "--strategy",
        type=strategy,
        default=None,
        metavar="NAME",
        help="how the work is shared between devices: ddp (one process per device, gradients "
        "averaged every step; the one tested here, see docs/scaling.md), or another Lightning "
        "strategy such as fsdp or deepspeed; not ddp_spawn (default: auto, ddp when there are "
        "several devices)",
    )
    group.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="floating point of the training step: 32, or mixed precision on a GPU: 16-mixed, "
        "bf16-mixed, or mixed (bf16 where the GPU supports it, else 16); without CUDA mixed "
        "falls back to 32 with a warning (default: 32)",
    )


def add_training_options(
    parser: argparse.ArgumentParser,
    *,
    epochs: int,
    patience: int,
    batch_size: int | None = None,
    batch_help: str = "examples per batch",
    lr: float | None = None,
    impl: bool = False,
    threads: int = 1,
    writes: str,
) -> None:
    """The options of a ``train`` verb: ``--epochs --patience [--batch-size] [--lr] --seed
    [--impl] --progress --threads`` with the command's defaults, the scaling options
    (:func:`add_scaling_options`), and last ``--out DIR``, the folder the verb writes the model
    and ``writes`` (what else, in words) into.

    ``batch_help`` says what one batch holds for this command (its default is appended; no
    braces in it: it becomes a :func:`add_count_option` template).
    """
    add_count_option(
        parser, "--epochs", epochs, "maximum epochs (default: {}; early stopping may end sooner)"
    )
    add_count_option(
        parser,
        "--patience",
        patience,
        "stop after N epochs without a better validation loss (default: {})",
    )
    if batch_size is not None:
        add_count_option(parser, "--batch-size", batch_size, batch_help + " (default: {})")
    if lr is not None:
        parser.add_argument("--lr", type=float, default=lr, help=f"learning rate (default: {lr:g})")
    add_seed_option(parser)
    if impl:
        parser.add_argument(
            "--impl",
            choices=("auto", "reference", "fused", "native"),
            default="auto",
            help="LSTM engine (default: auto)",
        )
    add_progress_option(parser)
    add_threads_option(parser, default=threads)
    add_scaling_options(parser)
    add_path_option(parser, "--out", f"output directory for {writes}", metavar="DIR", required=True)


def training_kwargs(args: argparse.Namespace, run_dir: Path | None) -> dict[str, Any]:
    """The ``fit`` keyword arguments of the options :func:`add_training_options` added."""
    kwargs: dict[str, Any] = {"max_epochs": args.epochs, "patience": args.patience}
    for name in ("batch_size", "lr"):  # not every command has them
        if hasattr(args, name):
            kwargs[name] = getattr(args, name)
    kwargs.update(seed=args.seed, run_dir=run_dir, enable_progress_bar=show_progress(args))
    for name in SCALING:  # given on the command line: otherwise TrainConfig's default holds
        if getattr(args, name, None) is not None:
            kwargs[name] = getattr(args, name)
    return kwargs


def apply_threads(args: argparse.Namespace) -> None:
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


def load_model(args: argparse.Namespace, cls: type[T]) -> T:
    """How a verb that applies a saved model begins: ``--threads``, then ``cls.load(--model)``."""
    apply_threads(args)
    return cls.load(args.model)  # type: ignore[attr-defined]


def run_fit(fit: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Call a model's ``fit``; return the wall-clock seconds it took.

    After training on several processes (``--devices 2 --strategy ddp``) every process runs the
    rest of the command (saving the model needs them all), but only rank 0 prints: the others'
    stdout goes to the null device from here on."""
    start = time.perf_counter()
    fit(*args, **kwargs)
    seconds = time.perf_counter() - start
    from lstmkit.train.distributed import is_main_process

    if not is_main_process():
        import sys

        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the process)
    return seconds


# --- outputs --------------------------------------------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _check_creatable(path: Path, option: str) -> None:
    """``path`` does not exist: its nearest existing ancestor must be a writable directory."""
    above = _nearest_existing(path.parent)
    if not above.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR, f"{option} {str(path)!r} lies under a file, not a directory", str(above)
        )
    if not os.access(above, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES,
            f"{option} {str(path)!r} cannot be created: no write permission",
            str(above),
        )


def check_output_dir(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Refuse, before any work is done, an output directory that cannot be written: an existing
    file, a path under a file, or a directory without write permission (an OSError: exit 1)."""
    out = Path(path)
    if out.exists():
        if not out.is_dir():
            raise NotADirectoryError(
                errno.ENOTDIR, f"{option} must be a directory, but it is a file", str(out)
            )
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(
                errno.EACCES, f"{option} directory is not writable (permission denied)", str(out)
            )
    else:
        _check_creatable(out, option)
    return out


def check_output_file(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Like :func:`check_output_dir`, for an output file: refuse a directory, a path under a
    file and a read-only place."""
    out = Path(path)
    if out.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, f"{option} must be a file name, but it is a directory", str(out)
        )
    if out.exists():
        if not os.access(out.parent if str(out.parent) else Path("."), os.W_OK | os.X_OK):
            raise PermissionError(
                errno.EACCES, f"{option} cannot be replaced: no write permission", str(out.parent)
            )
    else:
        _check_creatable(out, option)
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a CSV via a temporary file beside it, so a failure leaves no half-written file."""
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json(data: Any, path: str | os.PathLike[str], *, sort_keys: bool = True) -> Path:
    """Write ``data`` as indented JSON, atomically like :func:`write_csv`."""

    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")

    return atomic_write(path, write)


def add_training_outputs(
    paths: dict[str, Path], model: Any, out: Path, *, title: str = "training"
) -> None:
    """Add the loss plot (written to ``out/loss.png``) and the training-log folder to ``paths``."""
    if model.history is not None and len(model.history):
        from lstmkit.viz import plot_loss_curves

        paths["loss plot"] = plot_loss_curves(model.history, out / "loss.png", title=title)
    run_dir = getattr(model.fit_result, "run_dir", None)
    if run_dir is not None:
        paths["training logs"] = Path(run_dir)


def print_training_outputs(
    paths: dict[str, Path],
    model: Any,
    out: Path,
    *,
    title: str = "training",
    heading: str | None = "wrote:",
) -> int:
    """The end of a ``train`` verb: add the loss plot and log folder to ``paths``
    (:func:`add_training_outputs`), print them all (:func:`print_paths`); returns exit code 0."""
    add_training_outputs(paths, model, out, title=title)
    print_paths(paths, heading)
    return 0


def print_paths(paths: dict[str, Path], heading: str | None = "wrote:") -> None:
    """``heading``, then one aligned ``name  path`` line per written file; nothing at all when
    no file was written (a verb whose outputs are all optional)."""
    if not paths:
        return
    if heading is not None:
        print(heading)
    width = max(len(name) for name in paths)
    for name, path in paths.items():
        print(f"  {name:<{width}}  {path}")
