"""``lstmkit forecast train|predict|backtest``: forecasting from CSV/Parquet files.

``train`` reads a table, trains a :class:`~lstmkit.tasks.Forecaster`, prints its test-part metrics
beside the naive and seasonal-naive baselines and writes, under ``--out DIR``::

    DIR/model/         the saved model (config.json, weights.safetensors, state.json)
    DIR/metrics.csv    the evaluation table
    DIR/forecast.png   the last test window: history, forecast, interval band, actual values
    DIR/loss.png       training and validation loss per epoch
    DIR/run/           Lightning's CSV logs and checkpoints (best.ckpt, last.ckpt)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from lstmkit._files import atomic_write
from lstmkit.cli._options import (
    add_column_option,
    add_command,
    add_count_option,
    add_missing_option,
    add_names_option,
    add_network_options,
    add_path_option,
    add_threads_option,
    add_training_options,
    add_training_outputs,
    add_val_size_option,
    add_verb,
    apply_threads,
    check_output_dir,
    check_output_file,
    flat_names,
    network_kwargs,
    print_paths,
    probability,
    run_fit,
    training_kwargs,
    write_csv,
    write_json,
)
from lstmkit.errors import ConfigError


def _quantiles(text: str) -> tuple[float, ...] | None:
    if text.strip().lower() == "none":
        return None
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers in (0, 1) such as 0.1,0.5,0.9, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one quantile, e.g. 0.1,0.5,0.9")
    return values


def register(subparsers: Any) -> None:
    verbs = add_command(
        subparsers,
        "forecast",
        help="train, apply and backtest time-series forecasters",
        description="Forecast time series from a CSV or Parquet table of timestamps and values.",
    )

    train = add_verb(
        verbs,
        "train",
        cmd_train,
        help="train a forecaster, evaluate it on the held-out end of the data and save it",
        description="Train a forecaster; print its test metrics beside the naive and "
        "seasonal-naive baselines; write the model, metrics and plots under --out.",
    )
    add_path_option(
        train,
        "--data",
        "CSV (.csv/.tsv/.txt) or Parquet (.parquet) file, one row per timestamp",
        required=True,
    )
    add_column_option(train, "--time-col", "the timestamp column", required=True)
    add_names_option(
        train,
        "--target",
        "column(s) to forecast; repeat or list several for multivariate targets",
        required=True,
    )
    add_names_option(train, "--covariates", "past covariates: columns known only up to the present")
    add_names_option(
        train,
        "--future-covariates",
        "known-future covariates (calendar, planned values); predicting then needs their "
        "future values (forecast predict --future)",
    )
    add_column_option(train, "--id-col", "series id column: train one global model on many series")
    train.add_argument(
        "--freq",
        default=None,
        metavar="ALIAS",
        help="pandas frequency alias (e.g. D, h, MS, QS); inferred by default",
    )
    add_missing_option(train, training=True)
    train.add_argument(
        "--horizon", required=True, type=int, metavar="H", help="number of steps to forecast"
    )
    add_count_option(
        train,
        "--lookback",
        None,
        "input steps (default: max(2*horizon, 2*season), clipped to the data)",
        "L",
    )
    train.add_argument(
        "--quantiles",
        type=_quantiles,
        default=(0.1, 0.5, 0.9),
        metavar="Q,Q,...",
        help="quantiles for prediction intervals (default: 0.1,0.5,0.9, an 80%% interval); "
        "none: point forecasts trained with the mean squared error",
    )
    train.add_argument(
        "--model",
        choices=("hybrid", "lstm", "ets", "auto"),
        default="hybrid",
        help="hybrid (default): exponential smoothing removes each window's level and "
        "seasonality and the LSTM forecasts the rest (after Smyl's ES-RNN); lstm: the LSTM "
        "forecasts each window normalised by its last value; ets: statsforecast's AutoETS, no "
        "network; auto: fit hybrid and lstm, keep the best of them and AutoETS on the val part",
    )
    train.add_argument(
        "--window-norm",
        choices=("last", "mean", "revin", "none"),
        default="last",
        help="how each input window is normalised before the network sees it (default: last)",
    )
    train.add_argument(
        "--transform",
        choices=("auto", "log", "none"),
        default="auto",
        help="log the targets: auto does when they are positive and their swings grow with "
        "their level (default: auto)",
    )
    add_count_option(
        train,
        "--ensemble",
        5,
        "networks trained with consecutive seeds; the forecast is their median (default: {})",
    )
    train.add_argument(
        "--combine",
        choices=("ets", "none"),
        default="ets",
        help="ets (default): every forecast and quantile is the mean of the network ensemble's "
        "and an exponential-smoothing model's (damped trend and season, chosen by AICc); none: "
        "the network alone. Models with covariates forecast with the network alone",
    )
    train.add_argument(
        "--no-refit",
        dest="refit",
        action="store_false",
        help="do not train again on all rows after validation chose the epochs (by default the "
        "saved model is refitted, so it has seen the latest data)",
    )
    train.add_argument(
        "--decoder",
        choices=("direct", "autoregressive"),
        default="direct",
        help="all steps at once (direct, default) or step by step from an LSTM "
        "decoder (autoregressive)",
    )
    add_network_options(
        train,
        hidden_size=64,
        num_layers=1,
        dropout=0.0,
        units="LSTM hidden units (default: {})",
        layers="stacked LSTM layers (default: {})",
        dropout_help="dropout between layers and before the head (default: {:g})",
    )
    train.add_argument(
        "--scaler",
        choices=("standard", "minmax", "none"),
        default="standard",
        help="per-column scaling fitted on the training rows (default: standard)",
    )
    add_count_option(
        train, "--season", None, "season length in steps (default: from the frequency)", "M"
    )
    add_val_size_option(train, 0.15, "fraction of each series kept for validation (default: 0.15)")
    train.add_argument(
        "--test-size",
        type=probability,
        default=0.15,
        metavar="F",
        help="fraction of each series kept for testing (default: 0.15)",
    )
    add_training_options(
        train,
        epochs=100,
        patience=10,
        batch_size=64,
        batch_help="windows per batch",
        lr=1e-3,
        writes="the model, metrics, plots and training logs",
    )

    predict = add_verb(
        verbs,
        "predict",
        cmd_predict,
        help="forecast the steps after the end of each series with a saved model",
        description="Forecast the next horizon steps after the end of the data with a saved model.",
        model="forecast",
    )
    add_path_option(
        predict,
        "--data",
        "history: a table with the model's columns, at least lookback rows",
        required=True,
    )
    add_path_option(
        predict,
        "--future",
        "known-future covariate values for the forecast timestamps (needed "
        "only if the model has future covariates)",
    )
    add_missing_option(predict, training=False)
    add_path_option(
        predict, "--out", "CSV file to write the forecasts to", metavar="FILE.csv", required=True
    )
    add_path_option(
        predict, "--plot", "also write a plot of the history and forecast", metavar="FILE.png"
    )
    add_threads_option(predict)

    backtest = add_verb(
        verbs,
        "backtest",
        cmd_backtest,
        help="rolling-origin evaluation of a saved model against the baselines",
        description="Forecast the last K windows of each series with a saved model (no refit) and "
        "print MAE, RMSE, sMAPE and MASE beside the naive and seasonal-naive baselines.",
        model="forecast",
    )
    add_path_option(backtest, "--data", "a table with the model's columns", required=True)
    add_count_option(
        backtest,
        "--windows",
        5,
        "number of forecast windows at the end of each series (default: {})",
        "K",
    )
    add_count_option(
        backtest, "--stride", None, "steps between window origins (default: the horizon)", "S"
    )
    add_missing_option(backtest, training=False)
    add_path_option(
        backtest,
        "--out",
        "also write every window's forecasts and actual values to a CSV",
        metavar="FILE.csv",
    )
    add_threads_option(backtest)

    bench = add_verb(
        verbs,
        "benchmark",
        cmd_benchmark,
        help="rolling-origin benchmark of the default LSTM, the hybrid and the statistical "
        "baselines over a set of series",
        description="Fit each method once on the rows before the first of several forecast "
        "origins at the end of each series and score its forecasts from every origin (no refit "
        "between origins): MASE, sMAPE, 80 % interval coverage, fit and predict seconds, over "
        "several seeds. Each CSV holds a time column first and the series in its first numeric "
        "column. Writes a Markdown report and a JSON.",
    )
    bench.add_argument(
        "paths",
        nargs="+",
        metavar="DIR_OR_FILE",
        help="CSV files, or directories whose *.csv files are all benchmarked",
    )
    add_count_option(bench, "--seeds", 3, "seeds per LSTM method, 0..N-1 (default: {})")
    add_count_option(
        bench,
        "--origins",
        3,
        "forecast origins per series, ceil(horizon/2) steps apart (default: {})",
        "K",
    )
    add_count_option(
        bench,
        "--horizon",
        None,
        "forecast steps for every series (default: by season: 12 monthly, 8 quarterly, 10 yearly)",
        "H",
    )
    bench.add_argument(
        "--methods",
        default="default,hybrid,lstm,auto",
        metavar="M,M",
        help="LSTM methods to run: default (the Forecaster's defaults: the hybrid averaged with "
        "exponential smoothing), hybrid and lstm (each network alone), auto (default: all four)",
    )
    bench.add_argument(
        "--out",
        default="FORECASTING.md",
        metavar="FILE.md",
        help="Markdown report (default: FORECASTING.md); the JSON goes beside it",
    )
    add_threads_option(bench, default=1)


def train_outputs(
    forecaster: Any,
    out: Path,
    *,
    metrics: pd.DataFrame,
    last_window: pd.DataFrame,
    history: pd.DataFrame,
) -> dict[str, Path]:
    """Write the model, metrics, forecast plot and loss plot under ``out``; returns the paths."""
    from lstmkit.viz import plot_forecasts

    cols = forecaster.columns
    paths: dict[str, Path] = {"model": forecaster.save(out / "model")}
    paths["metrics"] = write_csv(metrics.reset_index(), out / "metrics.csv")
    actual = last_window.drop(columns=list(cols["targets"])).rename(
        columns={f"{t}_actual": t for t in cols["targets"]}
    )
    # the history each series had at its window's origin
    if cols["id_col"] is None:
        origin: Any = last_window["origin"].min()
    else:
        origins = last_window.groupby(cols["id_col"])["origin"].first()
        origin = history[cols["id_col"]].map(origins)
    before = history[history[cols["time_col"]] < origin]
    for i, path in enumerate(
        plot_forecasts(
            before,
            last_window,
            out,
            time_col=cols["time_col"],
            targets=cols["targets"],
            id_col=cols["id_col"],
            actual=actual,
        )
    ):
        paths["forecast plot" if i == 0 else f"forecast plot {i + 1}"] = path
    add_training_outputs(paths, forecaster, out)
    return paths


def print_metrics(forecaster: Any, metrics: pd.DataFrame) -> None:
    """The metrics table, with what the coverage column means when there is one."""
    from lstmkit.tasks.forecast.task import format_metrics

    print(format_metrics(metrics))
    if forecaster.quantiles and "coverage" in metrics.columns:
        lo, hi = forecaster.quantiles[0], forecaster.quantiles[-1]
        print(
            f"coverage: share of actual values inside the {lo:g}-{hi:g} quantile interval "
            f"(nominal {hi - lo:.0%})"
        )


def model_name(forecaster: Any) -> str:
    """What forecasts, in words: "hybrid", or "hybrid + ETS" with the default combination."""
    return forecaster.model + (" + ETS" if forecaster.combined else "")


def print_verdict(forecaster: Any, metrics: pd.DataFrame) -> None:
    """Say plainly whether a baseline beat the LSTM, and suggest what to do if one did."""
    from lstmkit.tasks.forecast import statistical as forecast_stats

    if "ets" not in metrics.index:
        print(f"(statistical baselines not shown: {forecast_stats.MISSING_NOTE})")
    scores = metrics["MASE"].drop("model").dropna()
    if scores.empty:
        return
    best = str(scores.idxmin())
    model, base = float(metrics.loc["model", "MASE"]), float(scores.min())
    name = model_name(forecaster)
    if model <= base:
        print(
            f"\nthe {name} model beats every baseline: MASE {model:.3f} vs the best, "
            f"{best}, {base:.3f}"
        )
    else:
        print(
            f"\na simple baseline wins here: {best} MASE {base:.3f} vs the {name} "
            f"model {model:.3f}; prefer it for this series (--model auto keeps AutoETS when it "
            "wins on the val part)"
        )


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.tasks import Forecaster

    apply_threads(args)
    if args.horizon < 1:
        raise ConfigError(f"--horizon must be a positive number of steps, got {args.horizon}")
    out = check_output_dir(args.out)  # before training, not after
    forecaster = Forecaster(
        horizon=args.horizon,
        lookback=args.lookback,
        quantiles=args.quantiles,
        model=args.model,
        window_norm=args.window_norm,
        transform=args.transform,
        ensemble=args.ensemble,
        refit=args.refit,
        combine=args.combine,
        decoder=args.decoder,
        **network_kwargs(args),
        scaler=args.scaler,
        season=args.season,
        val_size=args.val_size,
        test_size=args.test_size,
    )
    seconds = run_fit(
        forecaster.fit,
        args.data,
        time_col=args.time_col,
        targets=flat_names(args.target),
        past_covariates=flat_names(args.covariates),
        future_covariates=flat_names(args.future_covariates),
        id_col=args.id_col,
        freq=args.freq,
        missing=args.missing,
        **training_kwargs(args, out / "run"),
    )
    evaluation = forecaster.evaluate_windows(part="test", statistical=True)
    result = forecaster.fit_result
    epochs = ", ".join(map(str, forecaster.epochs))
    targets = forecaster.columns["targets"]
    logged = [t for t, lg in zip(targets, forecaster.log_targets, strict=True) if lg]
    averaged = " averaged with exponential smoothing" if forecaster.combined else ""
    print(
        f"trained in {seconds:.1f} s: {forecaster.model} ensemble of {forecaster.ensemble}"
        f"{averaged}, "
        f"epochs chosen on validation {epochs} (first member stopped after {result.epochs}); "
        f"lookback {forecaster.lookback}, horizon {forecaster.horizon}, season "
        f"{forecaster.season}" + (f"; logged targets: {', '.join(logged)}" if logged else "")
    )
    print(
        "\ntest-part metrics (every window whose forecast lies in the last "
        f"{args.test_size:g} of each series), of the ensemble fitted before the refit, which "
        "never saw the test part:"
    )
    print_metrics(forecaster, evaluation.metrics)
    print_verdict(forecaster, evaluation.metrics)
    if forecaster.refit:
        print(
            "the saved model was then trained again on all rows for the same epochs; its "
            "forecasts (forecast predict) start from the latest data"
        )
    paths = train_outputs(
        forecaster,
        out,
        metrics=evaluation.metrics,
        last_window=evaluation.last_windows(forecaster.columns["id_col"]),
        history=forecaster.training_data.frame,
    )
    print_paths(paths, "\nwrote:")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from lstmkit.tasks import Forecaster

    apply_threads(args)
    check_output_file(args.out)
    if args.plot:
        check_output_file(args.plot, "--plot")
    forecaster = Forecaster.load(args.model)
    frame = forecaster.predict(args.data, future=args.future, missing=args.missing)
    paths = {"forecasts": write_csv(frame, args.out)}
    n_series = len(frame) // forecaster.horizon
    if args.plot:
        from lstmkit.viz import plot_forecast

        cols = forecaster.columns
        history = forecaster.read(args.data, missing=args.missing).frame
        if cols["id_col"] is not None:  # plot the first series
            key = frame[cols["id_col"]].iloc[0]
            history = history[history[cols["id_col"]] == key]
            frame = frame[frame[cols["id_col"]] == key]
        paths["plot"] = plot_forecast(
            history, frame, args.plot, time_col=cols["time_col"], target=cols["targets"][0]
        )
    print(f"forecast {forecaster.horizon} steps for {n_series} series")
    print_paths(paths)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from lstmkit.tasks import Forecaster

    apply_threads(args)
    if args.out:
        check_output_file(args.out)
    forecaster = Forecaster.load(args.model)
    data = forecaster.read(args.data, missing=args.missing)
    result = forecaster.backtest(data, windows=args.windows, stride=args.stride)
    stride = args.stride or forecaster.horizon
    print(
        f"backtest: {args.windows} window(s) of {forecaster.horizon} steps, origins {stride} "
        "steps apart, at the end of each series (no refit)"
    )
    print_metrics(forecaster, result.metrics)
    if args.out:
        print_paths({"forecasts": write_csv(result.forecasts, args.out)})
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    import shlex

    from lstmkit.tasks.forecast import benchmark as fb

    apply_threads(args)
    files = fb.series_files(args.paths)
    check_output_file(args.out)
    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in names if m not in fb.LSTM_METHODS]
    if unknown or not names:
        raise ConfigError(
            f"--methods takes a comma-separated list of {', '.join(fb.LSTM_METHODS)}, "
            f"got {args.methods!r}"
        )
    result = fb.run_benchmark(
        files,
        methods={m: fb.LSTM_METHODS[m] for m in names},
        seeds=range(args.seeds),
        origins=args.origins,
        horizon=args.horizon,
        progress=lambda line: print(line, flush=True),
    )
    command = "lstmkit " + " ".join(shlex.quote(a) for a in args.argv)
    out = Path(args.out)
    markdown = fb.benchmark_markdown(result, command=command)
    paths = {
        "report": atomic_write(out, lambda tmp: tmp.write_text(markdown, encoding="utf-8")),
        "json": write_json(result.to_dict(), out.with_suffix(".json"), sort_keys=False),
    }
    print()
    for name in result.methods:
        print(f"mean MASE {name:<15} {result.mean_mase(name):.3f}")
    print_paths(paths)
    return 0
