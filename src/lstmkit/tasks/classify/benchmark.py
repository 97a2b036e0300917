"""``lstmkit classify benchmark DIR``: the numeric classifier beside two anchors on ``.ts`` pairs.

For every ``NAME_TRAIN.ts`` / ``NAME_TEST.ts`` pair in a folder and every seed, each model is fitted
on the train file and scored (accuracy) on the test file, in this process:

* ``default``: ``SequenceClassifier(tokenizer=None).fit(x, y, seed=s)``, the API's defaults;
* ``bilstm``: :func:`hand_written_bilstm`, the 30 lines of torch a user would write (a BiLSTM,
  its final states, a linear head, Adam, fixed epochs), written here so the anchor stays plain;
* ``minirocket``: MiniRocket (Dempster et al. 2021) and a ridge classifier, from ``sktime``
  when it is installed (``pip install 'lstmkit[tsc-bench]'``); skipped with a note otherwise;
* further names in :data:`VARIANTS` (classifier options under test).

Series longer than ``max_steps`` are shortened for the LSTM models by averaging runs of
``ceil(T / max_steps)`` steps (piecewise aggregate approximation), the same for every LSTM model,
so that the run fits a CPU budget; MiniRocket sees the full series.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.errors import ConfigError, DataError
from lstmkit.tasks.classify.missing import METHODS

ANCHORS = ("bilstm", "minirocket")
# Named classifier settings the benchmark can run beside the default:
# name -> (constructor options, fit options).
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # the numeric defaults before issue 13: a BiLSTM alone, 10 % held out for early stopping
    "plain": ({"conv_branch": False, "val_size": 0.1}, {}),
    # the default before its ensemble of seeds: one network
    "single": ({"ensemble": 1}, {}),
    "ens3": ({"ensemble": 3}, {}),
    "fcn": ({"conv_branch": True}, {}),
    "all-cosine": ({"val_size": 0}, {"schedule": "cosine"}),
    "fcn-all-cosine": ({"conv_branch": True, "val_size": 0}, {"schedule": "cosine"}),
    "fcn-all-cosine-b16": (
        {"conv_branch": True, "val_size": 0},
        {"schedule": "cosine", "batch_size": 16},
    ),
}


@dataclass
class Pair:
    name: str
    train: Any  # lstmkit.data.ts_format.TsData
    test: Any


def find_pairs(folder: str | Path, names: Sequence[str] | None = None) -> list[Pair]:
    """The ``NAME_TRAIN.ts``/``NAME_TEST.ts`` pairs in ``folder`` (sorted by name), read."""
    from lstmkit.data.ts_format import read_ts

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder of NAME_TRAIN.ts / NAME_TEST.ts files")
    found = sorted(p.name[: -len("_TRAIN.ts")] for p in folder.glob("*_TRAIN.ts"))
    if names:
        unknown = sorted(set(names) - set(found))
        if unknown:
            raise DataError(f"no {unknown} train files in {folder}; it holds {found}")
        found = [n for n in found if n in names]
    pairs = []
    for name in found:
        test = folder / f"{name}_TEST.ts"
        if not test.is_file():
            raise DataError(f"{folder / (name + '_TRAIN.ts')} has no {test.name} beside it")
        pairs.append(Pair(name, read_ts(folder / f"{name}_TRAIN.ts"), read_ts(test)))
    if not pairs:
        raise DataError(f"{folder} holds no NAME_TRAIN.ts / NAME_TEST.ts pairs")
    return pairs


def shorten(series: list[np.ndarray], max_steps: int | None) -> list[np.ndarray]:
    """Average runs of ``ceil(T_max / max_steps)`` steps (one factor for the whole set)."""
    longest = max(len(x) for x in series)
    if max_steps is None or longest <= max_steps:
        return series
    k = math.ceil(longest / max_steps)
    out = []
    for x in series:
        n = math.ceil(len(x) / k)
        padded = np.full((n * k, x.shape[1]), np.nan)
        padded[: len(x)] = x
        out.append(np.nanmean(padded.reshape(n, k, x.shape[1]), axis=1))
    return out


# --- the hand-written anchor: what a user writes in plain torch --------------------------------


class _BiLSTM(nn.Module):
    def __init__(self, n_features: int, n_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        _, (h, _) = self.lstm(packed)
        return self.head(torch.cat([h[-2], h[-1]], dim=1))


def hand_written_bilstm(
    train_x: list[np.ndarray],
    train_y: list[Any],
    test_x: list[np.ndarray],
    *,
    seed: int = 0,
    epochs: int = 100,
    hidden: int = 64,
    lr: float = 1e-3,
    batch_size: int = 16,
) -> list[Any]:
    """Standardise (train mean/std), a BiLSTM's final states into a linear head, Adam, cross
    entropy, ``epochs`` passes over shuffled mini-batches; no validation, no tricks."""
    torch.manual_seed(seed)
    classes = sorted(set(train_y))
    y = torch.tensor([classes.index(v) for v in train_y])
    flat = np.concatenate(train_x)
    mean, std = flat.mean(0), flat.std(0) + 1e-8

    def tensors(xs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        seqs = [torch.tensor((x - mean) / std, dtype=torch.float32) for x in xs]
        lengths = torch.tensor([len(s) for s in seqs])
        return nn.utils.rnn.pad_sequence(seqs, batch_first=True), lengths

    x, lengths = tensors(train_x)
    model = _BiLSTM(x.shape[2], len(classes), hidden)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(y)).split(batch_size):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch], lengths[batch]), y[batch])
            loss.backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        xt, lt = tensors(test_x)
        predicted = model(xt, lt).argmax(1)
    return [classes[k] for k in predicted.tolist()]


# --- MiniRocket (optional) -----------------------------------------------------------------------


def minirocket_available() -> str | None:
    """None when sktime's MiniRocket can be imported, else why not."""
    try:
        from sktime.transformations.panel.rocket import MiniRocketMultivariateVariable  # noqa: F401
    except Exception as err:  # ImportError, or a numba that does not load
        return f"MiniRocket needs sktime (pip install 'lstmkit[tsc-bench]'): {err}"
    return None


def minirocket(
    train_x: list[np.ndarray], train_y: list[Any], test_x: list[np.ndarray], *, seed: int = 0
) -> list[Any]:
    """MiniRocket features (sktime's ``MiniRocketMultivariate``; ``...Variable`` for unequal
    lengths, shorter series padded with 0) and a cross-validated ridge classifier on standardised
    features, as its authors recommend."""
    import pandas as pd
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sktime.transformations.panel.rocket import (
        MiniRocketMultivariate,
        MiniRocketMultivariateVariable,
    )

    if min(len(x) for x in train_x + test_x) < 9:  # MiniRocket's kernels span 9 steps
        raise DataError("MiniRocket needs series of at least 9 steps")
    equal = len({len(x) for x in train_x + test_x}) == 1

    def panel(xs: list[np.ndarray]) -> Any:
        if equal:  # (N, C, T)
            return np.stack([np.nan_to_num(x).T for x in xs])
        channels = xs[0].shape[1]
        return pd.DataFrame(
            {f"c{c}": [pd.Series(np.nan_to_num(x[:, c])) for x in xs] for c in range(channels)}
        )

    if equal:
        transform = MiniRocketMultivariate(random_state=seed)
    else:
        transform = MiniRocketMultivariateVariable(
            random_state=seed, pad_value_short_series=0.0, max_dilations_per_kernel=32
        )
    model = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    features = np.asarray(transform.fit_transform(panel(train_x)))
    model.fit(features, np.asarray(train_y))
    return model.predict(np.asarray(transform.transform(panel(test_x)))).tolist()


# --- the run -------------------------------------------------------------------------------------


def _default(options: dict[str, Any], fit_options: dict[str, Any]) -> Callable[..., list[Any]]:
    def run(train_x: Any, train_y: Any, test_x: Any, *, seed: int) -> list[Any]:
        from lstmkit.tasks.classify import SequenceClassifier

        clf = SequenceClassifier(None, **options)
        clf.fit(train_x, train_y, seed=seed, enable_progress_bar=False, **fit_options)
        return clf.predict(test_x)

    return run


def runners(models: Sequence[str]) -> dict[str, Callable[..., list[Any]]]:
    table: dict[str, Callable[..., list[Any]]] = {}
    for name in models:
        if name == "default":
            table[name] = _default({}, {})
        elif name == "bilstm":
            table[name] = hand_written_bilstm
        elif name == "minirocket":
            table[name] = minirocket
        elif name in VARIANTS:
            table[name] = _default(*VARIANTS[name])
        else:
            raise ConfigError(
                f"unknown model {name!r}; expected default, {', '.join(ANCHORS)} or one of "
                f"{sorted(VARIANTS)}"
            )
    return table


def run_benchmark(
    folder: str | Path,
    *,
    models: Sequence[str] = ("default", "bilstm", "minirocket"),
    seeds: Sequence[int] = (0, 1, 2),
    sets: Sequence[str] | None = None,
    max_steps: int | None = 256,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit and score every model on every pair with every seed; the results as JSON-safe dict
    (``runs``: one row per set, model and seed; ``skipped``: model -> reason)."""
    torch_threads = torch.get_num_threads()
    pairs = find_pairs(folder, sets)
    todo = runners(models)
    skipped: dict[str, str] = {}
    if "minirocket" in todo:
        reason = minirocket_available()
        if reason is not None:
            skipped["minirocket"] = reason
            del todo["minirocket"]
            log(f"skipping minirocket: {reason}")
    runs = []
    info = {}
    for pair in pairs:
        train_y, test_y = pair.train.labels, pair.test.labels
        if train_y is None or test_y is None:
            raise DataError(f"{pair.name}: the train and test files need labels")
        lengths = [len(x) for x in pair.train.series]
        info[pair.name] = {
            "n_train": len(train_y),
            "n_test": len(test_y),
            "channels": pair.train.n_channels,
            "length": [min(lengths), max(lengths)],
            "classes": len(set(train_y)),
        }
        short_train = shorten(pair.train.series, max_steps)
        short_test = shorten(pair.test.series, max_steps)
        info[pair.name]["lstm_length"] = max(len(x) for x in short_train)
        for name, fn in todo.items():
            full = name == "minirocket"
            train_x = pair.train.series if full else short_train
            test_x = pair.test.series if full else short_test
            for seed in seeds:
                start = time.perf_counter()
                predicted = fn(train_x, train_y, test_x, seed=seed)
                seconds = time.perf_counter() - start
                hits = [str(p) == str(t) for p, t in zip(predicted, test_y, strict=True)]
                acc = float(np.mean(hits))
                runs.append(
                    {"set": pair.name, "model": name, "seed": seed, "accuracy": acc,
                     "fit_seconds": seconds}
                )  # fmt: skip
                log(f"{pair.name:<24} {name:<12} seed {seed}: accuracy {acc:.4f} ({seconds:.1f} s)")
    return {
        "folder": str(folder),
        "models": list(todo),
        "seeds": list(seeds),
        "max_steps": max_steps,
        "sets": info,
        "runs": runs,
        "skipped": skipped,
        "machine": f"{platform.machine()}, torch {torch.__version__}, {torch_threads} thread(s)",
    }


# --- gaps: values removed at random ---------------------------------------------------------------

MISSING_METHODS = METHODS  # every method of lstmkit.tasks.classify.missing


def run_missing_benchmark(
    folder: str | Path,
    *,
    rates: Sequence[float] = (0.5,),
    methods: Sequence[str] = MISSING_METHODS,
    seeds: Sequence[int] = (0, 1, 2),
    sets: Sequence[str] | None = None,
    max_steps: int | None = 256,
    complete: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The default classifier with each ``missing`` method on every pair with ``rates`` of the
    values removed at random (train and test alike; per value, a generator seeded by the seed
    and the rate; every channel of every sequence keeps one value), beside the same classifier
    on the complete data (method ``"complete"``, rate 0; ``complete=False`` leaves it out).
    Series are shortened (``max_steps``) before values are removed, so the rate is that of what
    the network sees. ``runs``: one row per set, rate, method and seed."""
    from lstmkit.tasks.classify.missing import METHODS, remove_at_random

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ConfigError(f"unknown missing method(s) {unknown}; expected some of {list(METHODS)}")
    for rate in rates:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < 1:
            raise ConfigError(f"missing rates must be fractions in (0, 1), got {rate!r}")
    torch_threads = torch.get_num_threads()
    runs = []
    info = {}
    for pair in find_pairs(folder, sets):
        train_y, test_y = pair.train.labels, pair.test.labels
        if train_y is None or test_y is None:
            raise DataError(f"{pair.name}: the train and test files need labels")
        short_train = shorten(pair.train.series, max_steps)
        short_test = shorten(pair.test.series, max_steps)
        info[pair.name] = {
            "n_train": len(train_y),
            "n_test": len(test_y),
            "lstm_length": max(len(x) for x in short_train),
        }
        for seed in seeds:
            cases: list[tuple[float, str, Any, Any]] = []
            if complete:
                cases.append((0.0, "complete", short_train, short_test))
            for rate in rates:
                key = int(round(rate * 1000))
                train_x = remove_at_random(short_train, rate, seed=1_000_003 * seed + 2 * key)
                test_x = remove_at_random(short_test, rate, seed=1_000_003 * seed + 2 * key + 1)
                cases += [(float(rate), m, train_x, test_x) for m in methods]
            for rate, method, train_x, test_x in cases:
                options = {} if method == "complete" else {"missing": method}
                start = time.perf_counter()
                predicted = _default(options, {})(train_x, train_y, test_x, seed=seed)
                seconds = time.perf_counter() - start
                hits = [str(p) == str(t) for p, t in zip(predicted, test_y, strict=True)]
                acc = float(np.mean(hits))
                runs.append(
                    {"set": pair.name, "rate": rate, "method": method, "seed": seed,
                     "accuracy": acc, "fit_seconds": seconds}
                )  # fmt: skip
                log(
                    f"{pair.name:<24} rate {rate:.1f} {method:<8} seed {seed}: accuracy "
                    f"{acc:.4f} ({seconds:.1f} s)"
                )
    return {
        "folder": str(folder),
        "rates": [float(r) for r in rates],
        "methods": list(methods),
        "seeds": list(seeds),
        "max_steps": max_steps,
        "sets": info,
        "runs": runs,
        "machine": f"{platform.machine()}, torch {torch.__version__}, {torch_threads} thread(s)",
    }


def _report_head(title: str, command: str) -> list[str]:
    """A report's first lines: its title and the command that reproduces it."""
    return [title, "", "Reproduce with:", "", "```", command, "```", ""]


def missing_markdown(results: dict[str, Any], command: str) -> str:
    """The missing-value benchmark as Markdown: per set and rate, each method's accuracy (mean
    over seeds, max-min spread in brackets) beside the complete data's."""
    cells: dict[tuple[str, float, str], list[float]] = {}
    for row in results["runs"]:
        cells.setdefault((row["set"], row["rate"], row["method"]), []).append(row["accuracy"])
    methods = list(results["methods"])
    lines = [
        *_report_head("# Sequence classification with missing values", command),
        f"Seeds {results['seeds']}; {results['machine']}. Each rate is the share of values "
        "removed at random (per value, train and test alike) after series longer than "
        f"{results['max_steps']} steps were averaged down; `complete` is the same classifier "
        "on the data with nothing removed. Accuracy on the TEST file: mean over seeds, "
        "spread (max - min) in brackets.",
        "",
        "| set | rate | complete | " + " | ".join(methods) + " |",
        "|" + "---|" * (3 + len(methods)),
    ]

    def cell(key: tuple[str, float, str]) -> str:
        acc = cells.get(key)
        if not acc:
            return "-"
        return f"{np.mean(acc):.3f} ({max(acc) - min(acc):.3f})"

    means: dict[tuple[float, str], list[float]] = {}
    for name in results["sets"]:
        for rate in results["rates"]:
            if not any((name, rate, m) in cells for m in methods):
                continue
            row = [name, f"{rate:.1f}", cell((name, 0.0, "complete"))]
            row += [cell((name, rate, m)) for m in methods]
            lines.append("| " + " | ".join(row) + " |")
            for m in ("complete", *methods):
                key = (name, 0.0 if m == "complete" else rate, m)
                if key in cells:
                    means.setdefault((rate, m), []).append(float(np.mean(cells[key])))
    for rate in results["rates"]:
        row = ["**mean**", f"{rate:.1f}"]
        for m in ("complete", *methods):
            got = means.get((rate, m))
            row.append(f"**{np.mean(got):.3f}**" if got else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def summary(results: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """set -> model -> {mean, min, max, spread, seconds} (accuracy over seeds)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for row in results["runs"]:
        cell = out.setdefault(row["set"], {}).setdefault(row["model"], {"acc": [], "sec": []})
        cell["acc"].append(row["accuracy"])  # type: ignore[union-attr]
        cell["sec"].append(row["fit_seconds"])  # type: ignore[union-attr]
    for models in out.values():
        for name, cell in models.items():
            acc, sec = np.array(cell["acc"]), np.array(cell["sec"])
            models[name] = {
                "mean": float(acc.mean()),
                "min": float(acc.min()),
                "max": float(acc.max()),
                "spread": float(acc.max() - acc.min()),
                "seconds": float(sec.mean()),
            }
    return out


def markdown(results: dict[str, Any], command: str) -> str:
    """``CLASSIFICATION.md``: the command, the table (accuracy mean over seeds and max-min
    spread, fit seconds), the mean accuracy per model and how often the default wins."""
    table = summary(results)
    models = results["models"]
    lines = [
        *_report_head("# Sequence classification benchmark", command),
        f"Seeds {results['seeds']}; {results['machine']}. Accuracy on each set's TEST file: the "
        "mean over seeds, and the seed spread (max - min) in brackets; `s` is the mean fit (and "
        "predict) time in seconds.",
    ]
    if results["max_steps"]:
        lines.append(
            f"LSTM models see series longer than {results['max_steps']} steps averaged down to "
            "at most that many (column `steps`); MiniRocket sees the full series."
        )
    for name, reason in results["skipped"].items():
        lines.append(f"Not run: `{name}`: {reason}.")
    head = ["set", "train/test", "classes", "length", "steps"]
    head += [f"{m} acc (spread)" for m in models] + [f"{m} s" for m in models]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, info in results["sets"].items():
        lo, hi = info["length"]
        row = [name, f"{info['n_train']}/{info['n_test']}", str(info["classes"]),
               str(lo) if lo == hi else f"{lo}-{hi}", str(info["lstm_length"])]  # fmt: skip
        cells = table.get(name, {})
        row += [
            f"{cells[m]['mean']:.3f} ({cells[m]['spread']:.3f})" if m in cells else "-"
            for m in models
        ]
        row += [f"{cells[m]['seconds']:.1f}" if m in cells else "-" for m in models]
        lines.append("| " + " | ".join(row) + " |")
    means = {m: np.mean([table[s][m]["mean"] for s in table if m in table[s]]) for m in models}
    row = ["**mean**", "", "", "", ""] + [f"**{means[m]:.3f}**" for m in models]
    row += [f"{np.mean([table[s][m]['seconds'] for s in table]):.1f}" for m in models]
    lines.append("| " + " | ".join(row) + " |")
    if "default" in models:
        lines.append("")
        for other in (m for m in models if m != "default"):
            wins = sum(table[s]["default"]["mean"] > table[s][other]["mean"] for s in table)
            ties = sum(table[s]["default"]["mean"] == table[s][other]["mean"] for s in table)
            lines.append(
                f"- default vs {other}: better on {wins} of {len(table)} sets ({ties} tied); "
                f"mean accuracy {means['default']:.3f} vs {means[other]:.3f}."
            )
        worst = max(table[s]["default"]["spread"] for s in table)
        lines.append(f"- default's largest seed spread: {worst:.3f}.")
    return "\n".join(lines) + "\n"


def write_report(results: dict[str, Any], out: str | Path, command: str) -> tuple[Path, Path]:
    """Write ``out`` (markdown) and the JSON beside it (same name, ``.json``)."""
    out = Path(out)
    out.write_text(markdown(results, command), encoding="utf-8")
    data = out.with_suffix(".json")
    data.write_text(
        json.dumps({"command": command, **results, "summary": summary(results)}, indent=2) + "\n",
        encoding="utf-8",
    )
    return out, data


__all__ = [
    "MISSING_METHODS",
    "VARIANTS",
    "find_pairs",
    "hand_written_bilstm",
    "markdown",
    "minirocket",
    "missing_markdown",
    "run_benchmark",
    "run_missing_benchmark",
    "shorten",
    "summary",
    "write_report",
]
