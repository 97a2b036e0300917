"""``lstmkit quickstart``: the main job end to end on real data, in about a minute on a laptop CPU.

Trains a quantile forecaster on the bundled El Niño series (monthly mean sea-surface temperature
of the Niño 1+2 region, 1950-2010; NOAA Climate Prediction Center, via statsmodels), backtests it
over the last years of the series, which training never saw, against the naive, seasonal-naive
and (with statsforecast installed) AutoETS, AutoARIMA and Theta baselines, and writes the model,
the forecasts and the plots.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lstmkit.cli._options import (
    add_progress_option,
    add_seed_option,
    add_threads_option,
    apply_threads,
    check_output_dir,
    print_paths,
    show_progress,
    write_csv,
)
from lstmkit.cli.forecast import (
    model_name,
    print_metrics,
    print_verdict,
    train_outputs,
)

# The Forecaster's defaults (chosen across the dev set, FORECASTING.md), not settings tuned on
# this series: a newcomer sees what they would get on their own data.
HORIZON = 12
BACKTEST_WINDOWS = 8  # 8 x 12 months, all inside the held-out test part (the last 110 months)
TRAINING: dict[str, Any] = {"max_epochs": 100, "patience": 10, "lr": 1e-3, "batch_size": 64}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "quickstart",
        help="train, backtest and plot a forecaster on bundled real data (about a minute)",
        description=(
            "Train a 12-month-ahead LSTM forecaster with 10%-90% prediction intervals on the "
            "bundled El Nino sea-surface temperature series (NOAA, 1950-2010), backtest it on the "
            "last 8 years against the naive and seasonal-naive baselines, and write the model, "
            "forecasts and plots."
        ),
    )
    parser.add_argument(
        "--out",
        default="lstmkit-quickstart",
        metavar="DIR",
        help="output directory (default: ./lstmkit-quickstart)",
    )
    add_seed_option(parser)
    parser.add_argument(
        "--epochs",
        type=int,
        default=TRAINING["max_epochs"],
        metavar="N",
        help=f"maximum epochs (default: {TRAINING['max_epochs']}; early stopping "
        "usually ends sooner)",
    )
    add_progress_option(parser)
    add_threads_option(parser, default=1)
    parser.set_defaults(func=cmd_quickstart)


def cmd_quickstart(args: argparse.Namespace) -> int:
    from lstmkit.data import dataset_path
    from lstmkit.tasks import Forecaster
    from lstmkit.tasks.forecast.statistical import available as stats_available

    apply_threads(args)
    start = time.perf_counter()
    out = check_output_dir(args.out)  # before any work
    data = dataset_path("elnino_sst_monthly")
    print(f"data: {data} (monthly sea-surface temperature, Nino 1+2, 1950-2010, NOAA)")
    forecaster = Forecaster(horizon=HORIZON)
    forecaster.fit(
        data,
        time_col="date",
        targets="sst",
        **{**TRAINING, "max_epochs": args.epochs},
        seed=args.seed,
        run_dir=out / "run",
        enable_progress_bar=show_progress(args),
    )
    result = forecaster.fit_result
    trained = time.perf_counter() - start
    print(
        f"trained in {trained:.1f} s: {result.epochs} epochs, best epoch {result.best_epoch}, "
        f"lookback {forecaster.lookback} months, horizon {HORIZON} months"
    )

    backtest = forecaster.backtest(windows=BACKTEST_WINDOWS, statistical=stats_available())
    print(
        f"\nbacktest: the last {BACKTEST_WINDOWS} years, one {HORIZON}-month forecast per year "
        f"(held-out data, the {model_name(forecaster)} model fitted before the refit on all rows):"
    )
    print_metrics(forecaster, backtest.metrics)
    print_verdict(forecaster, backtest.metrics)

    paths = train_outputs(
        forecaster,
        out,
        metrics=backtest.metrics,
        last_window=backtest.last_windows(),
        history=forecaster.training_data.frame,
    )
    paths["backtest forecasts"] = write_csv(backtest.forecasts, out / "backtest.csv")
    paths["next 12 months"] = write_csv(forecaster.predict(data), out / "forecast.csv")
    print_paths(paths, "\nwrote:")
    print(f"\ndone in {time.perf_counter() - start:.1f} s")
    return 0
