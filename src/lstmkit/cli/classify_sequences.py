"""``lstmkit classify train|predict|evaluate`` on numeric sequences, and ``classify benchmark``.

Sequences come as a UCR/UEA ``.ts`` file (``--data X_TRAIN.ts [--test X_TEST.ts]``) or a
long-format CSV/Parquet table, one row per time step (``--data FILE --series-col C --time-col C
--label-col C [--columns C ...]``); :mod:`lstmkit.data.long_sequences` reads both. A model trained
on a table keeps its column names as the defaults of ``predict`` and ``evaluate``.

``predict`` writes a CSV of ``series``, ``prediction`` and ``p_<label>`` per class; ``evaluate``
prints the metrics frame (accuracy, macro-F1, n) and the per-class report.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lstmkit.cli._options import (
    add_column_option,
    add_names_option,
    add_path_option,
    check_output_dir,
    flat_names,
    network_kwargs,
    print_paths,
    print_training_outputs,
    run_fit,
    training_kwargs,
    write_csv,
    write_json,
)
from lstmkit.errors import ConfigError, DataError

MISSING_CHOICES = ("auto", "mask", "decay", "grud", "interpolate", "linear", "mean", "ffill")

TEXT_ONLY = {
    "split_col": "--split-col",
    "val": "--val",
    "vectors": "--vectors",
    "embed_size": "--embed-size",
    "max_vocab": "--max-vocab",
}


def add_sequence_options(parser: argparse.ArgumentParser, *, training: bool) -> None:
    """``--series-col --time-col --columns`` (and ``--test`` for train)."""
    group = parser.add_argument_group(
        "numeric sequences (a .ts file, or a long table with one row per time step)"
    )
    default = "" if training else " (default: the model's)"
    add_column_option(
        group, "--series-col", f"long table: the column naming each row's sequence{default}"
    )
    add_column_option(
        group,
        "--time-col",
        f"long table: the column ordering the rows of a sequence (default: file order)"
        f"{'' if training else '; the model' + chr(39) + 's if it had one'}",
    )
    add_names_option(
        group,
        "--columns",
        "long table: the feature columns (default: "
        + ("every column but series, time and label)" if training else "the model's)"),
    )
    if training:
        group.add_argument(
            "--missing",
            # written out, not imported: the CLI's parser is built for every command, and
            # `forecast predict` must not import the classify task (tests/cli/test_cli_imports);
            # a test checks this list against tasks/classify/missing.METHODS
            choices=MISSING_CHOICES,
            default=None,
            help="what the network sees of empty cells (NaN) and irregular --time-col steps: "
            "mask (value carried forward, observed mask, time since the last observation), "
            "decay (the same, the value decaying toward the mean, GRU-D's input decay), grud "
            "(decay and GRU-D's hidden-state decay), interpolate (linear in time, with the mask "
            "and time), linear, mean or ffill (imputation only); auto: the "
            "default method when the training data has gaps or irregular times, else none "
            "(default: auto; numeric sequences only, texts have no missing values)",
        )
        add_path_option(
            group,
            "--test",
            "held-out sequences (.ts, or a table with the same columns) scored after training",
        )


def is_ts(data: Any) -> bool:
    """True when ``data`` names a ``.ts`` or ``.ts.gz`` file (a path, or ``bundled:NAME``)."""
    from lstmkit.data.datasets import resolve_data_path
    from lstmkit.data.ts_format import is_ts_path

    if not isinstance(data, str | Path):
        return False
    return is_ts_path(resolve_data_path(data))


def is_sequence_input(args: argparse.Namespace) -> bool:
    """True when ``--data`` is a ``.ts`` file or ``--series-col`` is given."""
    return is_ts(getattr(args, "data", None)) or getattr(args, "series_col", None) is not None


def read(args: argparse.Namespace, data: Any, defaults: dict[str, Any] | None, labels: bool):
    """The :class:`~lstmkit.data.long_sequences.Sequences` of ``data`` with the command's column
    options, falling back to the model's (``defaults``)."""
    from lstmkit.data.long_sequences import read_sequences

    saved = defaults or {}
    columns = flat_names(args.columns) if args.columns else None
    ts = is_ts(data)
    label_col = getattr(args, "label_col", None)
    if label_col is None and not ts:
        label_col = saved.get("label_col") if labels else None
    return read_sequences(
        data,
        series_col=None if ts else (args.series_col or saved.get("series_col")),
        time_col=None if ts else (args.time_col or saved.get("time_col")),
        label_col=None if ts else label_col,
        columns=None if ts else (columns or saved.get("columns")),
    )


def require_labels(seqs: Any, what: str) -> list[Any]:
    if seqs.labels is None:
        raise DataError(
            f"{seqs.source}: {what} needs labels, and it has none (a .ts file needs "
            "'@classLabel true ...' and a label after each series; a table needs --label-col)"
        )
    return seqs.labels


def check_known_labels(clf: Any, labels: list[Any], source: str) -> None:
    """DataError when labels to score against were never seen in training."""
    unseen = sorted({str(v) for v in labels} - {str(c) for c in clf.classes})
    if unseen:
        raise DataError(
            f"{source}: label(s) {unseen} do not occur in the training labels "
            f"{[str(c) for c in clf.classes]}; the model cannot predict them"
        )


def epochs_text(result: Any) -> str:
    """``N epoch(s)[, stopped early][, best epoch B]``: how a classifier's training went."""
    return (
        f"{result.epochs} epoch(s)"
        + (", stopped early" if result.stopped_early else "")
        + (f", best epoch {result.best_epoch}" if result.best_epoch is not None else "")
    )


def write_scores(paths: dict[str, Path], report: dict[str, Any], out: Path, **about: Any) -> None:
    """Add ``out/metrics.json`` (``about``, then the report) and ``out/confusion.png``."""
    from lstmkit.viz.confusion import plot_confusion_matrix

    paths["metrics"] = write_json({**about, **report}, out / "metrics.json", sort_keys=False)
    paths["confusion plot"] = plot_confusion_matrix(
        report["confusion_matrix"], report["labels"], out / "confusion.png"
    )


def write_evaluation(args: argparse.Namespace, report: dict[str, Any], results: Any) -> int:
    """The end of ``evaluate``: ``--plot`` (the confusion matrix of ``report``) and ``--json``
    (``results``) when given, and their paths printed."""
    from lstmkit.viz.confusion import plot_confusion_matrix

    paths: dict[str, Path] = {}
    if args.plot:
        paths["confusion plot"] = plot_confusion_matrix(
            report["confusion_matrix"], report["labels"], args.plot
        )
    if args.json:
        paths["metrics"] = write_json(results, args.json, sort_keys=False)
    print_paths(paths)
    return 0


def classifier_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``SequenceClassifier`` options ``train`` takes alike for texts and sequences."""
    return dict(
        **network_kwargs(args),
        bidirectional=not args.unidirectional,
        pooling=args.pooling,
        class_weights=None if args.class_weights == "none" else args.class_weights,
        max_length=args.max_length,
        ensemble=args.ensemble,
        impl=args.impl,
    )


def write_predictions(frame: Any, out: str, unit: str) -> int:
    """Print how many ``unit`` (rows, sequences) got each predicted label; write ``frame``'s
    CSV to ``out`` and print its path."""
    counts = frame["prediction"].value_counts()
    print(
        f"predicted {len(frame)} {unit}: "
        + ", ".join(f"{label} {int(n)}" for label, n in counts.items())
    )
    print_paths({"predictions": write_csv(frame, out)})
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import SequenceClassifier
    from lstmkit.tasks.classify.metrics import format_report

    given = [flag for name, flag in TEXT_ONLY.items() if getattr(args, name, None) is not None]
    if args.freeze_embeddings:
        given.append("--freeze-embeddings")
    if given:
        raise ConfigError(f"{', '.join(given)} apply to texts, not to numeric sequences")
    out = check_output_dir(args.out)  # before reading and training, not after
    seqs = read(args, args.data, None, labels=True)
    require_labels(seqs, "training")
    test = None
    if args.test is not None:
        test = read(args, args.test, None, labels=True)
        require_labels(test, "--test")
    # None leaves the API's numeric default (val_size "auto", TrainConfig's epochs/patience/batch)
    clf = SequenceClassifier(
        None, **classifier_kwargs(args), val_size=args.val_size, missing=args.missing or "auto"
    )
    options = {k: v for k, v in training_kwargs(args, out / "run").items() if v is not None}
    seconds = run_fit(clf.fit_sequences, seqs, **options)  # keeps a table's column names
    result = clf.fit_result
    print(
        f"trained on {len(seqs.series)} sequences ({clf.n_features} feature(s), "
        f"{len(clf.classes)} classes) in {seconds:.1f} s: {epochs_text(result)}"
        + (f" (member 1 of an ensemble of {len(clf.nets)})" if len(clf.nets) > 1 else "")
        + (f"; gaps/irregular times read as {clf.missing_method!r}" if clf.missing_method else "")
    )
    paths: dict[str, Path] = {"model": clf.save(out / "model")}
    if test is not None:
        check_known_labels(clf, test.labels, test.source)
        report = clf.report(test.series, test.labels, times=test.times)
        print(format_report(report, title=f"test ({test.source}):"))
        write_scores(paths, report, out, part="test", data=test.source)
    else:
        print("no test sequences to score (use --test)")
    return print_training_outputs(paths, clf, out)


def cmd_predict(args: argparse.Namespace, clf: Any) -> int:
    import pandas as pd

    seqs = read(args, args.data, clf.columns, labels=False)
    proba = clf.predict_proba(seqs.series, times=seqs.times)
    frame = pd.DataFrame({"series": seqs.ids})
    frame["prediction"] = [clf.classes[k] for k in proba.argmax(axis=1)]
    if not args.no_proba:
        for k, label in enumerate(clf.classes):
            frame[f"p_{label}"] = proba[:, k]
    return write_predictions(frame, args.out, "sequences")


def cmd_evaluate(args: argparse.Namespace, clf: Any) -> int:
    from lstmkit.tasks.classify.metrics import format_report

    if args.baseline or args.split is not None:
        raise ConfigError("--baseline and --split apply to text tables, not numeric sequences")
    seqs = read(args, args.data, clf.columns, labels=True)
    labels = require_labels(seqs, "evaluate")
    check_known_labels(clf, labels, seqs.source)
    frame = clf.evaluate(seqs.series, labels, times=seqs.times)
    report = clf.report(seqs.series, labels, times=seqs.times)
    print(f"scored {len(seqs.series)} sequences ({seqs.source})")
    print(format_report(report, title="lstm:"))
    print(frame.to_string(float_format=lambda v: f"{v:.4f}"))
    return write_evaluation(args, report, {"data": seqs.source, "model": report})


__all__ = ["add_sequence_options", "cmd_evaluate", "cmd_predict", "cmd_train", "is_sequence_input"]
