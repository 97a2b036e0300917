"""``lstmkit inspect``: look inside a recurrent network — gate heatmaps and gradient flow.

* ``lstmkit inspect --model DIR [--data FILE] [--out DIR]`` — for a saved model (an experiment
  model saved with ``lstmkit experiments run --save-models``, or a Forecaster saved by
  ``Forecaster.save``): ``gates.png`` (i, f, g, o, c, h over one input sequence) and
  ``gradient_flow.png`` (‖∂L/∂h_t‖, ‖∂L/∂c_t‖ against t, next to a fresh vanilla RNN of the same
  size on the same sequence).
* ``lstmkit inspect --fresh [--T 100]`` — the vanishing gradient of fresh (untrained) models on
  one adding-problem sequence: LSTM, LSTM without forget gate and vanilla RNN on one plot.

Input sequence (``--data``): for an experiment model, by default one sequence drawn from the
experiment it was trained on (``--seed``); or a CSV / ``.npy`` file of shape (time, features). For
a Forecaster, the data file it reads (CSV or Parquet with its columns); the last ``lookback`` rows
of the first series are used.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import Any

import torch

from lstmkit.cli._options import add_documented_command, check_output_dir
from lstmkit.errors import ConfigError, DataError, ModelFileError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_documented_command(
        subparsers,
        "inspect",
        help="gate heatmaps and gradient flow of a saved model (or of fresh models)",
        doc=__doc__,
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", metavar="DIR", help="a saved model directory")
    src.add_argument(
        "--fresh", action="store_true", help="fresh LSTM vs vanilla RNN on the adding problem"
    )
    p.add_argument("--data", metavar="FILE", help="input sequence file (see above)")
    p.add_argument("--out", default="inspect", help="directory for the PNG files (default inspect)")
    p.add_argument("--seed", type=int, default=0, help="seed of the drawn sequence / fresh weights")
    p.add_argument("--T", type=int, default=100, help="with --fresh: sequence length (default 100)")
    p.add_argument("--hidden-size", type=int, default=32, help="with --fresh: units (default 32)")
    p.add_argument("--max-units", type=int, default=64, help="units drawn per heatmap (default 64)")
    p.set_defaults(func=_inspect)


def _inspect(args: argparse.Namespace) -> int:
    out = check_output_dir(args.out)  # before any work
    if args.fresh:
        from lstmkit.experiments.vanishing import vanishing_gradient_plot

        path = out / "gradient_flow.png"
        flows = vanishing_gradient_plot(
            path, T=args.T, hidden_size=args.hidden_size, seed=args.seed
        )
        for name, flow in flows.items():
            ratio = float(flow.h[0] / flow.h[-1]) if float(flow.h[-1]) > 0 else 0.0
            print(f"{name}: |dL/dh_0| / |dL/dh_T| = {ratio:.3g}")
        print(f"wrote {path}")
        return 0
    for path in inspect_model(args.model, args.data, out, seed=args.seed, max_units=args.max_units):
        print(f"wrote {path}")
    return 0


def _read_sequence(path: str, input_size: int) -> torch.Tensor:
    """A (T, input_size) float tensor from a CSV (numeric columns) or a .npy file (no pickles)."""
    import numpy as np

    file = Path(path)
    if not file.is_file():
        raise DataError(f"--data {file}: no such file")
    if file.suffix == ".npy":
        try:
            values = np.load(file, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise DataError(f"--data {file}: not a plain numeric .npy array ({err})") from None
    else:
        import pandas as pd

        try:
            frame = pd.read_csv(file)
        except pd.errors.EmptyDataError:
            raise DataError(
                f"--data {file}: the file is empty; expected a CSV of numbers"
            ) from None
        except (UnicodeDecodeError, pd.errors.ParserError) as err:
            kind = "not UTF-8 text" if isinstance(err, UnicodeDecodeError) else "not a valid CSV"
            raise DataError(
                f"--data {file}: {kind} (is it a binary file?); expected a CSV of numbers or .npy"
            ) from None
        values = frame.select_dtypes("number").to_numpy()
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != input_size:
        raise DataError(
            f"--data {file}: expected a (time, {input_size}) array for this model, "
            f"got shape {values.shape}"
        )
    return torch.from_numpy(values)


def inspect_model(
    model_dir: str, data: str | None, out: Path, *, seed: int = 0, max_units: int = 64
) -> list[Path]:
    """Write ``gates.png`` and ``gradient_flow.png`` for the model saved in ``model_dir``."""
    from lstmkit.tasks import persistence

    config, _, _ = persistence.load_model_dir(model_dir)
    model_dir = str(persistence.model_root(model_dir))  # or the train --out folder
    header_task = _saved_task(model_dir)
    if header_task == "ExperimentModel":
        return _inspect_experiment_model(model_dir, config, data, out, seed, max_units)
    if header_task == "Forecaster":
        return _inspect_forecaster(model_dir, data, out, seed, max_units)
    raise ModelFileError(
        f"{model_dir} holds a {header_task!r} model; lstmkit inspect reads experiment models and "
        "Forecasters"
    )


def _saved_task(model_dir: str) -> Any:
    import json

    from lstmkit.tasks.persistence import CONFIG_FILE

    with open(Path(model_dir) / CONFIG_FILE, encoding="utf-8") as fh:
        return json.load(fh).get("task")


def _inspect_experiment_model(
    model_dir: str, config: dict[str, Any], data: str | None, out: Path, seed: int, max_units: int
) -> list[Path]:
    from lstmkit.experiments.models import MODEL_LABELS, SequenceModel, load_model
    from lstmkit.experiments.tasks import make_task
    from lstmkit.viz.gates import plot_gates
    from lstmkit.viz.gradient_flow import model_gradient_flow, plot_gradient_flow

    model, config = load_model(model_dir)
    name = MODEL_LABELS.get(config["model"], config["model"])
    task = None
    if config.get("experiment"):
        task = make_task(config["experiment"], **dict(config.get("task_params") or {}))
    if data is not None:
        x = _read_sequence(data, int(config["input_size"]))
        loss_of = None
    else:
        if task is None:
            raise ConfigError(f"{model_dir} names no experiment; pass --data FILE")
        batch = task.sample(1, torch.Generator().manual_seed(seed))
        # One sequence, cut to its own length (a batch of one is padded only for tasks read at
        # the last step, whose targets do not depend on the padding).
        steps = int(batch.lengths[0])
        one = dataclasses.replace(batch, inputs=batch.inputs[:, :steps])
        x = one.inputs[0]
        loss_of = lambda outputs: task.loss(outputs, one)  # noqa: E731
    labels = _input_labels(config.get("experiment"), x.shape[1])
    paths = [
        plot_gates(
            model.rnn,
            x,
            out / "gates.png",
            max_units=max_units,
            input_labels=labels,
            title=f"{name} trained on {task.describe() if task else 'a saved model'}",
        )
    ]
    if loss_of is None:
        loss_of = lambda outputs: outputs.square().mean()  # noqa: E731
    flows = {f"{name} (saved)": model_gradient_flow(model, x, loss_of)}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = SequenceModel(
            "rnn",
            int(config["input_size"]),
            int(config["hidden_size"]),
            int(config["output_size"]),
            config["readout"],
        )
    flows["vanilla RNN (fresh, same size)"] = model_gradient_flow(fresh, x, loss_of)
    paths.append(plot_gradient_flow(flows, out / "gradient_flow.png"))
    return paths


def _input_labels(experiment: str | None, width: int) -> list[str] | None:
    from lstmkit.experiments.tasks import REBER_SYMBOLS, TEMPORAL_SYMBOLS

    if experiment == "reber" and width == 7:
        return list(REBER_SYMBOLS)
    if experiment == "temporal-order" and width == 8:
        return list(TEMPORAL_SYMBOLS)
    if experiment in ("adding", "multiplication") and width == 2:
        return ["value", "marker"]
    return None


def _inspect_forecaster(
    model_dir: str, data: str | None, out: Path, seed: int, max_units: int
) -> list[Path]:
    import numpy as np

    from lstmkit.nn import RNN
    from lstmkit.tasks import Forecaster
    from lstmkit.viz.gates import plot_gates
    from lstmkit.viz.gradient_flow import plot_gradient_flow, state_gradients

    if data is None:
        raise ConfigError("a Forecaster needs --data: the CSV or Parquet file it forecasts from")
    forecaster = Forecaster.load(model_dir)
    encoder = forecaster.net.encoder
    # The Forecaster's own preprocessing: its columns, scaling and window layout.
    table = forecaster.read(data)
    series = forecaster._series_values(table)
    _, _, values = series[0]
    lookback = int(forecaster.lookback)
    if len(values) < lookback:
        raise DataError(f"{data} has {len(values)} rows; the model needs lookback={lookback}")
    windows = forecaster._windows(series[:1], [np.array([len(values)])])
    past = windows.past[0]  # (L, F) scaled
    title = f"Forecaster encoder ({encoder.num_layers} layer(s), {encoder.hidden_size} units)"
    paths = [plot_gates(encoder, past, out / "gates.png", max_units=max_units, title=title)]
    flows = {"Forecaster encoder LSTM": state_gradients(encoder, past, seed=seed)}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        rnn = RNN(encoder.input_size, encoder.hidden_size, batch_first=True)
    flows["vanilla RNN (fresh, same size)"] = state_gradients(rnn, past, seed=seed)
    paths.append(
        plot_gradient_flow(
            flows,
            out / "gradient_flow.png",
            title="Gradient of a loss read at the last input step (projection of h_T)",
        )
    )
    return paths
