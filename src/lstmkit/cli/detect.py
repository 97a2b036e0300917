"""``lstmkit detect train|score|stream|benchmark``: anomaly detection from CSV/Parquet files.

``train`` writes ``DIR/model/`` (the saved detector), ``DIR/scores.csv`` and ``DIR/anomalies.png``
(the training data scored) and ``DIR/run/`` (Lightning's logs). ``score`` writes the scores CSV,
``<stem>.intervals.csv``, ``<stem>.png`` and, with ``--labels``, ``<stem>.metrics.csv``.
``stream`` reads CSV rows from stdin and writes one score line per row at once.

Labels file: a CSV with columns ``start`` and ``end``: timestamps of the time column (or step
numbers for an integer time column), both inclusive; other columns are ignored.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from lstmkit.cli._options import (
    add_column_option,
    add_command,
    add_count_option,
    add_missing_option,
    add_names_option,
    add_network_options,
    add_path_option,
    add_seed_option,
    add_threads_option,
    add_training_options,
    add_val_size_option,
    add_verb,
    apply_threads,
    check_output_dir,
    flat_names,
    load_model,
    network_kwargs,
    number,
    print_paths,
    run_fit,
    training_kwargs,
    write_csv,
)
from lstmkit.errors import DataError


def register(subparsers: Any) -> None:
    verbs = add_command(
        subparsers,
        "detect",
        help="train, apply and stream anomaly detectors on time series",
        description="Detect anomalies in multivariate time series with an LSTM (prediction "
        "errors or autoencoder reconstruction errors) or the rolling z-score baseline.",
    )

    train = add_verb(
        verbs,
        "train",
        cmd_train,
        help="train a detector on (mostly nominal) data and save it",
        description="Train a detector; its fixed threshold comes from the validation part (the "
        "last --val-size of the data). Writes the model, the training data's scores and a plot.",
    )
    add_path_option(train, "--data", "CSV or Parquet file", required=True)
    add_column_option(train, "--time-col", "the timestamp column", required=True)
    add_names_option(
        train,
        "--columns",
        "the channels to model and score (repeat, list, or comma-separate)",
        required=True,
    )
    train.add_argument(
        "--method",
        choices=("prediction", "reconstruction", "zscore"),
        default="prediction",
        help="one-step-ahead LSTM errors (prediction, default; streams in O(1) per row), LSTM "
        "autoencoder errors (reconstruction) or the rolling z-score baseline (zscore)",
    )
    add_count_option(
        train,
        "--window",
        64,
        "rows per training chunk / autoencoder window / z-score window (default: {})",
        "W",
    )
    add_network_options(train, hidden_size=64, num_layers=1, layers="LSTM layers (default: {})")
    add_count_option(
        train,
        "--smoothing",
        4,
        "EWMA span of the per-channel errors, 1 for none (default: {})",
        "SPAN",
    )
    train.add_argument(
        "--threshold",
        choices=("quantile", "dynamic", "spot"),
        default="spot",
        help="SPOT from a false-alarm rate --risk (spot, default; streams use its calibrated "
        "threshold; quantile when the validation part has fewer than 20 scores), the fixed "
        "--quantile of the validation scores (quantile, the default before issue 15) or Hundman "
        "et al.'s per-window dynamic threshold (dynamic; batch scoring only, streams use the "
        "fixed one)",
    )
    train.add_argument(
        "--suppress",
        type=int,
        default=None,
        metavar="ROWS",
        help="no second alarm within this many rows of the last one: flagged runs that start "
        "within them join its interval (default: --window; 0: every run is an alarm)",
    )
    train.add_argument(
        "--hysteresis",
        type=number,
        default=1.0,
        metavar="H",
        help="in (0, 1]: a flagged run stays flagged while the score stays above H times the "
        "threshold (default: 1.0, none)",
    )
    train.add_argument(
        "--risk",
        type=number,
        default=1e-4,
        metavar="Q",
        help="false-alarm rate of --threshold spot (default: 1e-4, one in 10,000 rows)",
    )
    train.add_argument(
        "--quantile",
        type=number,
        default=1.0,
        metavar="Q",
        help="quantile of the validation scores used as the fixed threshold (default: 1.0, "
        "their maximum)",
    )
    add_val_size_option(
        train,
        0.2,
        "trailing fraction of the data for early stopping and the threshold (default: 0.2)",
    )
    add_missing_option(train, training=True)
    add_training_options(train, epochs=40, patience=10, writes="the model and files")

    score = add_verb(
        verbs,
        "score",
        cmd_score,
        help="score a table with a saved detector; intervals, plot and metrics",
        description="Score every row of a table with a saved detector. Writes the scores CSV, "
        "the detected intervals (<stem>.intervals.csv), a plot (<stem>.png) and, with --labels, "
        "the metrics (<stem>.metrics.csv).",
        model="detect",
    )
    add_path_option(score, "--data", "a table with the model's columns", required=True)
    add_path_option(
        score, "--out", "CSV file for the per-row scores", metavar="FILE.csv", required=True
    )
    add_path_option(
        score,
        "--labels",
        "CSV of labelled anomalies with columns start,end (timestamps, inclusive): print and "
        "write point-wise, event-wise and point-adjusted precision/recall/F1",
    )
    add_missing_option(score, training=False)
    score.add_argument(
        "--threshold",
        choices=("quantile", "dynamic", "spot"),
        default=None,
        help="override the model's thresholding: the fixed threshold fitted in training "
        "(quantile), the per-window dynamic threshold (dynamic) or SPOT calibrated in training "
        "(spot) (default: the model's)",
    )
    add_threads_option(score, default=1)

    stream = add_verb(
        verbs,
        "stream",
        cmd_stream,
        help="score CSV rows from stdin one at a time (prediction and zscore detectors)",
        description="Read CSV from stdin: a header line naming at least the training columns, "
        "then one row per time step. Writes a header and then one line 'row,score,is_anomaly' "
        "(plus the time column when the header has it) per row, flushed at once. Rows are "
        "numbered from 1, the header not counted; each record must fit on one line. Bad rows "
        "are reported on stderr.",
        model="detect",
    )
    stream.add_argument(
        "--on-bad-row",
        choices=("skip", "stop"),
        default="skip",
        help="a row with the wrong number of fields or a non-numeric value: report it on stderr "
        "and skip it, keeping the state (skip, default), or report it and exit with status 1 "
        "(stop)",
    )
    add_threads_option(stream, default=1)

    bench = add_verb(
        verbs,
        "benchmark",
        cmd_benchmark,
        help="event-wise F1 of every method on a synthetic series, and streaming latency; or "
        "the online detector on the Numenta Anomaly Benchmark (--nab DIR)",
        description="Generate a seeded synthetic series with injected anomalies, train each "
        "method on its clean first half, print point, event and point-adjusted metrics on the "
        "whole series, and time the prediction stream per row (batch size 1). With --nab DIR: "
        "stream every NAB series through the online LSTM detector (learning from nothing after "
        "NAB's probationary period) and print its NAB scores for the three profiles.",
    )
    add_path_option(
        bench,
        "--nab",
        "a NAB folder (data/, labels/combined_windows.json, labels/combined_labels.json): "
        "run the NAB benchmark instead of the synthetic one",
        metavar="DIR",
    )
    bench.add_argument(
        "--series",
        nargs="+",
        default=None,
        metavar="TEXT",
        help="with --nab: only the series whose path contains one of these texts (default: all 58)",
    )
    bench.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        metavar="N",
        help="with --nab: the seeds to run, scored separately and averaged (default: --seed)",
    )
    add_count_option(
        bench, "--jobs", 2, "with --nab: worker processes, one torch thread each (default: {})"
    )
    add_count_option(
        bench,
        "--horizon",
        None,
        "with --nab: the online detector forecasts K rows ahead from each window and scores a "
        "row by the mean absolute error of the K forecasts made for it (default: 1, the "
        "one-step error)",
        metavar="K",
    )
    add_path_option(
        bench,
        "--report",
        "with --nab: write the scoreboard with ours beside it (e.g. ANOMALY.md); the file's "
        "hand-written '## ' sections after it are kept",
        metavar="FILE.md",
    )
    add_count_option(bench, "--rows", 4000, "rows (default: {})")
    add_count_option(bench, "--epochs", 40, "maximum epochs (default: {})")
    add_count_option(bench, "--hidden-size", 64, "LSTM units (default: {})")
    add_count_option(bench, "--steps", 2000, "stream updates to time (default: {})")
    add_seed_option(bench)
    add_threads_option(bench, default=1)
    add_path_option(
        bench,
        "--out",
        "also write the metrics table to a CSV (with --nab: the per-series table; the totals "
        "go to <stem>.totals.csv)",
        metavar="FILE.csv",
    )


def _stem(path: Path) -> Path:
    return path.with_suffix("") if path.suffix else path


def _outputs(det: Any, data: pd.DataFrame, result: Any, stem: Path, labels: Any) -> dict:
    from lstmkit.viz.anomaly import plot_anomalies

    paths = {
        "scores": write_csv(result.scores, stem.with_name(stem.name + ".csv")),
        "intervals": write_csv(result.intervals, stem.with_name(stem.name + ".intervals.csv")),
    }
    paths["plot"] = plot_anomalies(
        data,
        result.scores,
        result.intervals,
        stem.with_name(stem.name + ".png"),
        time_col=det.columns["time_col"],
        columns=det.channels,
        labels=labels,
    )
    return paths


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.tasks.anomaly import AnomalyDetector

    apply_threads(args)
    out = check_output_dir(args.out)  # before training, not after
    det = AnomalyDetector(
        args.method,
        window=args.window,
        **network_kwargs(args),
        smoothing=args.smoothing,
        threshold=args.threshold,
        quantile=args.quantile,
        risk=args.risk,
        suppress=args.suppress,
        hysteresis=args.hysteresis,
        val_size=args.val_size,
    )
    seconds = run_fit(
        det.fit,
        args.data,
        time_col=args.time_col,
        columns=flat_names(args.columns),
        missing=args.missing,
        **training_kwargs(args, out / "run" if args.method != "zscore" else None),
    )
    table = det.read(args.data, missing=args.missing)
    result = det.detect(table)
    epochs = f"{det.fit_result.epochs} epochs, " if det.fit_result else ""
    print(
        f"trained a {det.method} detector in {seconds:.1f} s ({epochs}window {det.window}); "
        f"fixed threshold {det.threshold_:.4g}; {len(result.intervals)} interval(s) flagged in "
        "the training data"
    )
    paths = {"model": det.save(out / "model")}
    paths.update(_outputs(det, table.frame, result, out / "scores", None))
    print_paths(paths)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from lstmkit.data.interval_labels import read_labels
    from lstmkit.tasks.anomaly import AnomalyDetector, format_evaluation

    apply_threads(args)
    if args.labels:
        read_labels(args.labels)  # a bad labels file fails before any scoring
    det = AnomalyDetector.load(args.model)
    if args.threshold:
        det.threshold = args.threshold
    table = det.read(args.data, missing=args.missing)
    result = det.detect(table)
    labels = read_labels(args.labels) if args.labels else None
    stem = _stem(Path(args.out))
    paths = _outputs(det, table.frame, result, stem, labels)
    print(
        f"scored {len(result.scores)} rows with the {det.method} detector "
        f"({det.threshold} threshold): {len(result.intervals)} interval(s) detected"
    )
    if labels is not None:
        metrics = det.evaluate_views(result, labels)
        print(format_evaluation(metrics))
        print("point-adjusted counts a whole labelled interval as found when one row is flagged")
        ucr = det.evaluate(result, labels).loc["model", "ucr_top_within_100"]
        if ucr == ucr:  # exactly one labelled interval
            print(
                "UCR view (one labelled anomaly): the top score is "
                + ("within" if ucr else "NOT within")
                + " 100 rows of it"
            )
        paths["metrics"] = write_csv(
            metrics.reset_index(), stem.with_name(stem.name + ".metrics.csv")
        )
    print_paths(paths)
    return 0


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"


def cmd_stream(args: argparse.Namespace) -> int:
    from lstmkit.tasks.anomaly import AnomalyDetector
    from lstmkit.tasks.anomaly.csv_stream import BadRow, score_csv_lines

    det = load_model(args, AnomalyDetector)
    # bytes when stdin has a binary buffer: a line that is not UTF-8 is one bad row, not the end
    scored = score_csv_lines(det, getattr(sys.stdin, "buffer", sys.stdin), source="stdin")
    out = sys.stdout
    time_col = scored.time_col
    out.write("row," + (f"{time_col}," if time_col is not None else "") + "score,is_anomaly\n")
    out.flush()
    bad = 0
    for record in scored:
        if isinstance(record, BadRow):
            bad += 1
            where = f"data row {record.row}: {record.problem}"
            if args.on_bad_row == "stop":  # bad data, not bad usage: exit 1 through main
                raise DataError(f"{where}; stopping (--on-bad-row stop)")
            print(f"lstmkit: warning: {where}; skipped", file=sys.stderr)
            sys.stderr.flush()
            continue
        stamp = f"{record.time}," if record.time is not None else ""
        out.write(f"{record.row},{stamp}{_fmt(record.score)},{int(record.is_anomaly)}\n")
        out.flush()
    if bad:
        print(f"lstmkit: {bad} bad row(s) skipped", file=sys.stderr)
    return 0


def cmd_nab(args: argparse.Namespace) -> int:
    from lstmkit.tasks.anomaly import nab
    from lstmkit.tasks.anomaly.nab_benchmark import run_nab

    names = nab.series_names(args.nab)
    if args.series:
        names = [n for n in names if any(text in n for text in args.series)]
        if not names:
            raise DataError(f"no NAB series matches --series {' '.join(args.series)}")
    seeds = args.seeds if args.seeds is not None else [args.seed]
    options = {} if args.horizon is None else {"horizon": args.horizon}
    report = run_nab(args.nab, names=names, seeds=seeds, jobs=args.jobs, options=options)
    print(report.text())
    paths = {}
    if args.out:
        out = Path(args.out)
        paths["per-series"] = write_csv(report.per_series, out)
        paths["totals"] = write_csv(
            report.totals, _stem(out).with_name(_stem(out).name + ".totals.csv")
        )
    if args.report:
        command = (
            f"lstmkit detect benchmark --nab {args.nab}"
            + (" --series " + " ".join(args.series) if args.series else "")
            + " --seeds "
            + " ".join(str(s) for s in seeds)
            + f" --jobs {args.jobs}"
            + (f" --horizon {args.horizon}" if args.horizon is not None else "")
            + (f" --out {args.out}" if args.out else "")
            + f" --report {args.report}"
        )
        from lstmkit._files import atomic_write
        from lstmkit.tasks.anomaly.nab_benchmark import merge_report

        target = Path(args.report)
        previous = target.read_text(encoding="utf-8") if target.is_file() else None
        text = merge_report(report.markdown(command), previous)
        path = atomic_write(args.report, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        paths["report"] = path
    print_paths(paths)
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from lstmkit.tasks.anomaly.benchmark import run_benchmark

    apply_threads(args)
    if args.nab:
        return cmd_nab(args)
    report = run_benchmark(
        rows=args.rows,
        epochs=args.epochs,
        hidden_size=args.hidden_size,
        steps=args.steps,
        seed=args.seed,
    )
    print(report.text())
    if args.out:
        print_paths({"metrics": write_csv(report.metrics, args.out)})
    return 0
