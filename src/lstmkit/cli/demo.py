"""``lstmkit demo``: an LSTM and a vanilla RNN on the adding problem, side by side."""

from __future__ import annotations

import argparse
import time
from typing import Any

from lstmkit._table import format_table
from lstmkit.experiments.adding import SOLVED_ERROR
from lstmkit.experiments.demo import DemoResult, run_demo


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="train an LSTM and a vanilla RNN on the adding problem and compare them (~1 min)",
        description=(
            "Train an LSTM and a vanilla tanh RNN of the same size for the same CPU time on "
            "the adding problem (Hochreiter & Schmidhuber, 1997), then score both on one held-out "
            "test set. The LSTM bridges the long time lag; the RNN does not."
        ),
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=30.0,
        help="training time for each model, in seconds of CPU time on one thread; the same as "
        "wall-clock time on an idle machine (default 30)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for weights, training and test data (default 0)"
    )
    parser.add_argument(
        "--seq-len",
        type=int,
        default=50,
        help="T, the length of each sequence (default 50, at least 11)",
    )
    parser.add_argument(
        "--hidden", type=int, default=64, help="hidden units of each model (default 64)"
    )
    parser.set_defaults(func=run)


def format_result(result: DemoResult) -> str:
    headers = [
        "model",
        "test MSE",
        f"solved (|err|<{SOLVED_ERROR})",
        "train CPU s",
        "sequences seen",
        "solved validation after",
    ]
    rows = [
        [
            r.model,
            f"{r.test_mse:.5f}",
            f"{100 * r.solved:.1f}%",
            f"{r.train_seconds:.1f}",
            str(r.sequences_seen),
            "-" if r.solved_after_s is None else f"{r.solved_after_s:.1f} s",
        ]
        for r in result.results
    ]
    rows.append(["predict the mean", f"{result.baseline_mse:.5f}", "", "", "", ""])
    lstm, rnn = result.by_model("LSTM"), result.by_model("RNN")
    if result.lstm_wins:
        verdict = (
            f"verdict: the LSTM solved the adding problem (T={result.seq_len}) and the RNN did not "
            f"({100 * lstm.solved:.1f}% vs {100 * rnn.solved:.1f}% of test sequences)."
        )
    else:
        better = "LSTM" if lstm.test_mse < rnn.test_mse else "RNN"
        verdict = (
            f"verdict: not decided in this budget: LSTM {100 * lstm.solved:.1f}%, RNN "
            f"{100 * rnn.solved:.1f}% of test sequences solved; "
            f"the {better} has the lower test MSE."
        )
    title = (
        f"adding problem, T={result.seq_len}, hidden size {result.hidden_size}, "
        f"seed {result.seed}, {result.test_size} test sequences"
    )
    return "\n".join([title, "", format_table(headers, rows), "", verdict])


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    result = run_demo(
        seconds=args.seconds, seq_len=args.seq_len, hidden_size=args.hidden, seed=args.seed
    )
    print(format_result(result))
    print(f"(took {time.perf_counter() - start:.0f} s)")
    return 0
