"""``lstmkit classify train|predict|evaluate|benchmark``: text classification from CSV/TSV/Parquet
tables, and numeric sequences from ``.ts`` files or long tables (one row per time step: see
:mod:`lstmkit.cli.classify_sequences`).

``train`` reads a table of texts and labels, trains a :class:`~lstmkit.tasks.SequenceClassifier`,
prints its metrics on the held-out rows (the "test" split if there is one, else "val") and writes,
under ``--out DIR``::

    DIR/model/          the saved model (config.json, weights.safetensors, state.json)
    DIR/metrics.json    accuracy, macro-F1, per-class precision/recall/F1, confusion matrix
    DIR/confusion.png   the confusion matrix (counts, colours by share of the true class)
    DIR/loss.png        training and validation loss per epoch
    DIR/run/            Lightning's CSV logs and checkpoints

Every ``--data`` accepts ``bundled:NAME`` (e.g. ``bundled:sentiment``) as well as a path.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lstmkit.cli import classify_sequences as sequences
from lstmkit.cli._options import (
    add_column_option,
    add_command,
    add_count_option,
    add_dropout_option,
    add_path_option,
    add_seed_option,
    add_threads_option,
    add_tokenizer_option,
    add_training_options,
    add_val_size_option,
    add_verb,
    apply_threads,
    check_output_dir,
    load_model,
    print_training_outputs,
    run_fit,
    training_kwargs,
)
from lstmkit.errors import ConfigError, DataError

# --epochs/--patience/--batch-size defaults: texts, and numeric sequences (TrainConfig's)
TEXT_TRAINING = {"epochs": 20, "patience": 3, "batch_size": 32}
SEQUENCE_TRAINING = {"epochs": 100, "patience": 10, "batch_size": 64}


def _data_option(parser: argparse.ArgumentParser, help_text: str, required: bool = True) -> None:
    parser.add_argument(
        "--data",
        required=required,
        metavar="FILE",
        help=f"{help_text}: CSV/TSV (.csv/.tsv/.txt) or Parquet file, or bundled:NAME "
        "(e.g. bundled:sentiment); numeric sequences: a UCR/UEA .ts file, or a long table "
        "with --series-col",
    )


def register(subparsers: Any) -> None:
    verbs = add_command(
        subparsers,
        "classify",
        help="train, apply, evaluate and benchmark sequence classifiers (texts, numeric series)",
        description="Classify texts (one label per row of a table) or numeric sequences (a .ts "
        "file, or a long table with one row per time step) with a bidirectional LSTM.",
    )

    # --- train -----------------------------------------------------------------------------
    train = add_verb(
        verbs,
        "train",
        cmd_train,
        help="train a classifier, evaluate it on the held-out rows and save it",
        description="Train a text classifier; print its metrics on the test split (or the "
        "validation rows); write the model, metrics and plots under --out.",
    )
    _data_option(train, "training table, one text and label per row")
    train.add_argument(
        "--text-col", default="text", metavar="C", help="text column (default: text)"
    )
    train.add_argument(
        "--label-col", default="label", metavar="C", help="label column (default: label)"
    )
    add_column_option(
        train,
        "--split-col",
        "split column: rows 'train' train, 'val'/'valid'/'dev' validate (early stopping), "
        "'test' is held out and scored at the end; without it every row trains and "
        "--val-size of them validate",
    )
    add_path_option(
        train, "--val", "a separate validation table with the same columns (instead of val rows)"
    )
    add_val_size_option(
        train,
        None,
        "fraction of the training rows held out for early stopping when there are no "
        "validation rows (default: 0.1 for texts; numeric sequences: 0.1 from 1,000 sequences "
        "on, below none and a cosine learning-rate schedule)",
    )
    add_tokenizer_option(train, "word")
    add_count_option(
        train, "--min-freq", 1, "keep tokens seen at least N times in training (default: {})"
    )
    add_count_option(
        train,
        "--max-vocab",
        None,
        "word tokenizer: keep the N most frequent words; bpe: the subword vocabulary size "
        "(default: all words; 2000 subwords)",
    )
    add_count_option(
        train, "--max-length", None, "keep the first N tokens of each text (default: all)"
    )
    add_count_option(
        train, "--embed-size", None, "embedding size (default: 100, or the dimension of --vectors)"
    )
    add_path_option(train, "--vectors", "initialise the embeddings from a word2vec/GloVe text file")
    train.add_argument(
        "--freeze-embeddings", action="store_true", help="keep the embeddings fixed in training"
    )
    add_count_option(train, "--hidden-size", 128, "LSTM units (default: {})")
    add_count_option(train, "--num-layers", 1, "stacked layers (default: {})")
    train.add_argument(
        "--unidirectional",
        action="store_true",
        help="a forward-only LSTM (default: bidirectional)",
    )
    train.add_argument(
        "--pooling",
        choices=("last", "mean", "max", "attention"),
        default="last",
        help="how the LSTM outputs become one vector: last (final states, default), mean, max, "
        "attention",
    )
    add_dropout_option(
        train, 0.0, "dropout on the embeddings, between layers and before the head (default: {:g})"
    )
    train.add_argument(
        "--class-weights",
        choices=("none", "balanced"),
        default="none",
        help="balanced: weigh each class's loss by n / (classes * count) (default: none)",
    )
    train.add_argument(
        "--ensemble",
        type=_ensemble,
        default="auto",
        metavar="K",
        help="networks trained with seeds seed, seed+1, ...; predictions average their "
        "probabilities, and training costs K times one network's. auto (default): 5 for numeric "
        "sequences under 1,000 training sequences without --val, else 1",
    )
    add_training_options(
        train,
        epochs=20,
        patience=3,
        batch_size=32,
        batch_help="texts or sequences per batch",
        lr=1e-3,
        impl=True,
        writes="the model and reports",
    )
    for action in train._actions:  # numeric sequences get the API's defaults (the benchmark's)
        if action.dest in TEXT_TRAINING:
            action.default = None
            action.help = (action.help or "").replace(
                f"(default: {TEXT_TRAINING[action.dest]}",
                f"(default: {TEXT_TRAINING[action.dest]} for texts, "
                f"{SEQUENCE_TRAINING[action.dest]} for numeric sequences",
            )
    sequences.add_sequence_options(train, training=True)

    # --- predict ---------------------------------------------------------------------------
    predict = add_verb(
        verbs,
        "predict",
        cmd_predict,
        help="label every row of a table with a saved classifier",
        description="Predict a label (and class probabilities) for every text of a table.",
        model="classify",
    )
    _data_option(predict, "table of texts")
    add_column_option(predict, "--text-col", "text column (default: the model's)")
    predict.add_argument(
        "--no-proba",
        action="store_true",
        help="leave out the p_<label> probability columns",
    )
    add_path_option(
        predict,
        "--out",
        "CSV to write: the input columns, 'prediction' and p_<label> per class",
        metavar="FILE.csv",
        required=True,
    )
    sequences.add_sequence_options(predict, training=False)
    add_threads_option(predict)

    # --- evaluate --------------------------------------------------------------------------
    evaluate = add_verb(
        verbs,
        "evaluate",
        cmd_evaluate,
        help="accuracy, macro-F1 and per-class scores of a saved classifier",
        description="Score a saved classifier on labelled rows; optionally beside a bag-of-words "
        "logistic-regression baseline fitted on the training rows.",
        model="classify",
    )
    _data_option(evaluate, "labelled table")
    add_column_option(evaluate, "--text-col", "text column (default: the model's)")
    add_column_option(evaluate, "--label-col", "label column (default: the model's)")
    evaluate.add_argument(
        "--split",
        default=None,
        metavar="NAME",
        help="score only the rows of this split, e.g. test (default: every row)",
    )
    add_column_option(evaluate, "--split-col", "split column (default: the model's)")
    add_path_option(evaluate, "--plot", "write the confusion matrix plot", metavar="FILE.png")
    add_path_option(evaluate, "--json", "write the metrics as JSON", metavar="FILE.json")
    evaluate.add_argument(
        "--baseline",
        action="store_true",
        help="also fit and score TF-IDF + logistic regression (scikit-learn); it trains on the "
        "'train' rows of --data (or on --baseline-train) and is scored on the same rows as "
        "the model",
    )
    add_path_option(
        evaluate,
        "--baseline-train",
        "the baseline's training table (default: the 'train' split rows of --data)",
    )
    add_seed_option(evaluate, "the baseline's random seed")
    sequences.add_sequence_options(evaluate, training=False)
    add_threads_option(evaluate)

    from lstmkit.cli.classify_benchmark import register_benchmark

    register_benchmark(verbs)


# --- helpers ------------------------------------------------------------------------------------


def print_summary(rows: list[tuple[str, dict[str, Any]]]) -> None:
    from lstmkit._table import format_table

    print(
        format_table(
            ["model", "accuracy", "macro-F1", "n"],
            [
                [name, f"{r['accuracy']:.4f}", f"{r['macro_f1']:.4f}", str(r["n"])]
                for name, r in rows
            ],
        )
    )


def _held_out(clf: Any, data: str, split_col: str | None) -> tuple[str | None, Any]:
    """The rows train scores: the 'test' split, else 'val' rows, else none."""
    if split_col is None:
        return None, None
    for name in ("test", "val", "valid", "validation", "dev"):
        try:
            frame = clf.select_rows(data, split=name, split_col=split_col)
        except DataError:
            continue
        return name, frame
    return None, None


def _ensemble(text: str) -> int | str:
    """``--ensemble``: "auto" or a number of members >= 1."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 'auto' or an int >= 1, got {text!r}")
    return value


# --- commands -----------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import SequenceClassifier
    from lstmkit.tasks.classify.metrics import format_report

    apply_threads(args)
    if sequences.is_sequence_input(args):
        return sequences.cmd_train(args)
    if args.missing is not None:
        raise ConfigError(
            f"--missing {args.missing} applies to numeric sequences (a .ts file or "
            "--series-col), not to texts: a text has no missing values"
        )
    for name, value in TEXT_TRAINING.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    options: dict[str, Any] = {"min_freq": args.min_freq}
    if args.max_vocab is not None:
        options["vocab_size" if args.tokenizer == "bpe" else "max_size"] = args.max_vocab
    if args.tokenizer == "char" and "max_size" in options:
        raise ConfigError("--max-vocab applies to the word and bpe tokenizers, not char")
    out = check_output_dir(args.out)  # before training, not after
    clf = SequenceClassifier(
        args.tokenizer,
        tokenizer_options=options,
        embed_size=args.embed_size,
        **sequences.classifier_kwargs(args),
        vectors=args.vectors,
        freeze_embeddings=args.freeze_embeddings,
        val_size=0.1 if args.val_size is None else args.val_size,
    )
    train_options = training_kwargs(args, out / "run")  # the seed is a training option
    seconds = run_fit(
        clf.fit_frame,
        args.data,
        args.text_col,
        args.label_col,
        args.split_col,
        val=args.val,
        **train_options,
    )
    result = clf.fit_result
    print(
        f"trained a {'bi' if clf.bidirectional else ''}LSTM ({clf.pooling} pooling) on "
        f"{len(clf.classes)} classes in {seconds:.1f} s: {sequences.epochs_text(result)}"
    )
    paths: dict[str, Path] = {"model": clf.save(out / "model")}
    part, rows = _held_out(clf, args.data, args.split_col)
    if part is None and args.val is not None:
        part, rows = "validation file", args.val
    if part is not None:
        report = clf.report_frame(rows)
        print(format_report(report, title=f"{part} rows:"))
        sequences.write_scores(paths, report, out, part=part)
    else:
        print("no test or validation rows to score (use --split-col or --val)")
    return print_training_outputs(paths, clf, out)


def cmd_predict(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import SequenceClassifier

    clf = load_model(args, SequenceClassifier)
    if clf.numeric:
        return sequences.cmd_predict(args, clf)
    frame = clf.predict_frame(args.data, text_col=args.text_col, proba=not args.no_proba)
    return sequences.write_predictions(frame, args.out, "rows")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.classify import SequenceClassifier
    from lstmkit.tasks.classify.metrics import bow_logistic_baseline, format_report

    clf = load_model(args, SequenceClassifier)
    if clf.numeric:
        return sequences.cmd_evaluate(args, clf)
    columns = {"text_col": args.text_col, "label_col": args.label_col}
    saved = clf.columns or {}  # the names the model was fitted with: the defaults
    if not (args.text_col or saved.get("text_col")) or not (
        args.label_col or saved.get("label_col")
    ):
        raise ConfigError("name the columns with --text-col and --label-col")
    split_col = args.split_col or saved.get("split_col")
    texts, labels = clf.read_examples(
        args.data, **columns, split=args.split, split_col=args.split_col
    )
    report = clf.report(texts, labels)
    where = f"split {args.split!r} of {args.data}" if args.split else str(args.data)
    results: dict[str, Any] = {"data": str(args.data), "split": args.split, "model": report}
    summary = [("lstm", report)]
    if args.baseline:
        if args.baseline_train is not None:
            train = clf.read_examples(args.baseline_train, **columns)
            source = str(args.baseline_train)
        else:
            if split_col is None:
                raise ConfigError(
                    "--baseline needs training rows: the data has no split column (give "
                    "--split-col), or pass --baseline-train FILE"
                )
            if args.split is None or args.split.lower() == "train":
                raise ConfigError(
                    "--baseline trains on the 'train' rows of --data, so score other rows: "
                    "pass --split test (or val), or --baseline-train FILE"
                )
            train = clf.read_examples(args.data, **columns, split="train", split_col=split_col)
            source = f"split 'train' of {args.data}"
        baseline = bow_logistic_baseline(*train, texts, labels, seed=args.seed)
        baseline["trained_on"] = source
        results["baseline"] = baseline
        summary.append(("bow-logreg", baseline))
    print(f"scored {len(texts)} rows ({where})")
    print(format_report(report, title="lstm:"))
    if args.baseline:
        print(f"baseline: {results['baseline']['model']}, trained on {source}")
    print_summary(summary)
    return sequences.write_evaluation(args, report, results)
