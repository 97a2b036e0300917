"""Train several models on the same data with the same budget, and score them the paper's way.

For one experiment (a :class:`~lstmkit.experiments.tasks.Task` with its parameters), every model
and seed gets:

* the same training stream: batches drawn online from a generator seeded with the seed (every model
  of a seed sees the same sequences in the same order), the same validation set and the same test
  set (seeded with the seed plus fixed offsets);
* the same budget: a number of training sequences and/or wall-clock seconds (whichever ends first);
* a training regime (``RunConfig.regime``): ``"modern"`` — Adam with gradient-norm clipping on
  mini-batches, the task's own loss (cross-entropy for symbols), lstmkit's initialisation; or
  ``"paper"`` — the 1997 paper's: plain gradient descent on one sequence per update (online), its
  learning rate, squared error on sigmoid outputs summed over the sequence, weights uniform in
  its interval with its gate biases, no clipping (:data:`PAPER_SETTINGS`; see
  ``docs/experiments.md``).

Every ``eval_every`` sequences the model is scored on the validation set: that is the learning
curve, and the first check at which the task's criterion holds gives "sequences to criterion". By
default training stops once the criterion held at two checks in a row (the paper stops at its
criterion too); then the model is scored once on the test set (final error, share correct, solved
or not).

Results are plain dataclasses, written as JSON (:func:`write_result`) with a learning-curve PNG
(:func:`plot_learning_curves`). Runs can go two at a time in separate processes (``jobs=2``),
each with one torch thread.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstmkit._checks import positive_int
from lstmkit._files import atomic_write
from lstmkit._version import __version__
from lstmkit.errors import ConfigError
from lstmkit.experiments.models import (
    MODEL_LABELS,
    MODELS,
    SequenceModel,
    init_uniform,
    save_model,
)
from lstmkit.experiments.settings import RunConfig, config_command
from lstmkit.experiments.tasks import Batch, Task

log = logging.getLogger(__name__)

VALIDATION_SEED_OFFSET = 1_000_003
TEST_SEED_OFFSET = 2_000_003
RESULT_FORMAT = "lstmkit-experiment-result"
ERROR_FLOOR = 1e-6  # where learning curves draw an error of 0 on their log scale


@dataclass
class CurvePoint:
    sequences: int
    seconds: float
    error: float
    share_correct: float


@dataclass
class ModelRun:
    """One model trained with one seed."""

    model: str
    seed: int
    solved: bool  # the test set meets the task's criterion
    sequences_to_criterion: int | None  # first validation check that met it (None: never)
    seconds_to_criterion: float | None
    test_error: float
    test_share_correct: float
    sequences_seen: int
    train_seconds: float
    steps: int
    curve: list[CurvePoint] = field(default_factory=list)
    saved_to: str | None = None


@dataclass
class ExperimentResult:
    config: RunConfig
    task: str  # the task's description, e.g. adding(T=100)
    baseline_error: float | None
    runs: list[ModelRun] = field(default_factory=list)
    started: str = ""
    wall_seconds: float = 0.0
    command: str = ""
    machine: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = RESULT_FORMAT
        data["lstmkit_version"] = __version__
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentResult:
        if data.get("format") != RESULT_FORMAT:
            raise ConfigError(f"not an lstmkit experiment result (format {data.get('format')!r})")
        config = dict(data["config"])
        config["models"] = tuple(config["models"])
        config["seeds"] = tuple(config["seeds"])
        for key in ("input_gate_bias", "output_gate_bias"):
            if key in config:
                config[key] = tuple(config[key])
        runs = []
        for run in data["runs"]:
            run = dict(run)
            run["curve"] = [CurvePoint(**p) for p in run["curve"]]
            runs.append(ModelRun(**run))
        return cls(
            RunConfig(**config),
            data["task"],
            data["baseline_error"],
            runs,
            data.get("started", ""),
            data.get("wall_seconds", 0.0),
            data.get("command", ""),
            data.get("machine", {}),
        )

    def runs_of(self, model: str) -> list[ModelRun]:
        return [r for r in self.runs if r.model == model]


@torch.no_grad()
def score(model: nn.Module, task: Task, batch: Batch, chunk: int = 1024) -> tuple[float, float]:
    """``(error, share correct)`` of ``model`` on ``batch`` (in eval mode, in chunks)."""
    was_training = model.training
    model.eval()
    outputs = []
    for start in range(0, len(batch), chunk):
        sl = slice(start, start + chunk)
        outputs.append(model(batch.inputs[sl], batch.lengths[sl]))
    model.train(was_training)
    out = torch.cat(outputs)
    error, correct = task.evaluate(out, batch)
    return error, float(correct.double().mean())


def train_one(
    config: RunConfig, model_kind: str, seed: int, save_dir: str | None = None
) -> ModelRun:
    """Train ``model_kind`` with ``seed`` under ``config``'s budget; score it on the test set."""
    if config.threads:
        torch.set_num_threads(config.threads)
    task = config.task()
    validation = task.sample(
        config.validation_size, torch.Generator().manual_seed(seed + VALIDATION_SEED_OFFSET)
    )
    test = task.sample(config.test_size, torch.Generator().manual_seed(seed + TEST_SEED_OFFSET))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SequenceModel(
            model_kind,
            task.input_size,
            config.hidden_size,
            task.output_size,
            task.readout,
            forget_bias=config.forget_bias,
            direct=config.direct,
        )
        if config.direct and config.memory_after > 0:
            model.memory_on = False
        if config.init_interval is not None:
            init_uniform(
                model, config.init_interval, config.input_gate_bias, config.output_gate_bias
            )
    paper = config.regime == "paper"
    if paper:
        optimizer: torch.optim.Optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
        loss_of = task.squared_error
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        loss_of = task.loss
    stream = torch.Generator().manual_seed(seed)
    budget_n = config.budget_sequences or float("inf")
    budget_s = config.budget_seconds or float("inf")
    seen = steps = 0
    next_eval = config.eval_every
    curve: list[CurvePoint] = []
    to_criterion: int | None = None
    to_criterion_s: float | None = None
    eval_seconds = 0.0
    streak = 0  # consecutive validation checks that met the criterion
    start = time.perf_counter()
    model.train()
    while True:
        batch = task.sample(config.batch_size, stream)
        loss = loss_of(model(batch.inputs, batch.lengths), batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip > 0:  # 0: no clipping (the paper regime)
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        steps += 1
        seen += len(batch)
        if not model.memory_on and seen >= config.memory_after:
            model.add_memory()
            log.info("%s seed %d: recurrent path added after %d sequences", model_kind, seed, seen)
        # The budget counts training time only, not the validation checks.
        elapsed = time.perf_counter() - start - eval_seconds
        out_of_budget = seen >= budget_n or elapsed >= budget_s
        if seen >= next_eval or out_of_budget:
            t0 = time.perf_counter()
            error, share = score(model, task, validation)
            eval_seconds += time.perf_counter() - t0
            curve.append(CurvePoint(seen, round(elapsed, 3), error, share))
            log.debug(
                "%s seed %d: %d sequences, %.1f s, validation error %.4g, %.1f%% correct",
                model_kind,
                seed,
                seen,
                elapsed,
                error,
                100 * share,
            )
            next_eval = seen + config.eval_every
            streak = streak + 1 if share >= task.solved_share else 0
            if to_criterion is None and streak:
                to_criterion, to_criterion_s = seen, round(elapsed, 3)
                log.info("%s seed %d met the criterion after %d sequences", model_kind, seed, seen)
            # Stop once the criterion held at ``confirm_checks`` checks in a row: one lucky
            # validation set would often leave a test set just short of it.
            if config.stop_when_solved and streak >= config.confirm_checks:
                break
        if out_of_budget:
            break
    test_error, test_share = score(model, task, test)
    saved = None
    if save_dir is not None:
        path = Path(save_dir) / f"{model_kind}-seed{seed}"
        extra = {"experiment": config.experiment, "task_params": config.task_params, "seed": seed}
        saved = str(save_model(model, path, extra))
    log.info(
        "%s seed %d: test error %.4g, %.1f%% correct, %d sequences, %.1f s",
        model_kind,
        seed,
        test_error,
        100 * test_share,
        seen,
        elapsed,
    )
    return ModelRun(
        model_kind,
        seed,
        test_share >= task.solved_share,
        to_criterion,
        to_criterion_s,
        test_error,
        test_share,
        seen,
        round(elapsed, 3),
        steps,
        curve,
        saved,
    )


def _train_job(args: tuple[RunConfig, str, int, str | None]) -> ModelRun:
    return train_one(*args)


def run_experiment(
    config: RunConfig,
    *,
    jobs: int = 1,
    save_models: str | os.PathLike[str] | None = None,
    command: str = "",
) -> ExperimentResult:
    """Train every model of ``config`` with every seed; ``jobs`` > 1 runs that many at once."""
    config.check()
    positive_int("jobs", jobs)
    task = config.task()
    baseline_batch = task.sample(config.test_size, torch.Generator().manual_seed(TEST_SEED_OFFSET))
    save_dir = None if save_models is None else str(Path(save_models) / config.result_id)
    work = [(config, m, s, save_dir) for s in config.seeds for m in config.models]
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t0 = time.perf_counter()
    if jobs == 1 or len(work) == 1:
        runs = [_train_job(w) for w in work]
    else:
        # spawn, not fork: a forked child of a process that already ran torch ops can deadlock.
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            runs = list(pool.map(_train_job, work))
    machine = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "threads_per_run": config.threads,
        "parallel_runs": min(jobs, len(work)),
    }
    return ExperimentResult(
        config,
        task.describe(),
        task.baseline_error(baseline_batch),
        runs,
        started,
        round(time.perf_counter() - t0, 2),
        command or config_command(config),
        machine,
    )


def merge_results(old: ExperimentResult, new: ExperimentResult) -> ExperimentResult | None:
    """``old`` and ``new`` as one result when they differ only in models and seeds, else None.

    Runs of ``new`` replace runs of ``old`` with the same model and seed; the commands are kept.
    """
    same = replace(old.config, models=new.config.models, seeds=new.config.seeds)
    if same != new.config:
        return None
    runs = {(r.model, r.seed): r for r in old.runs}
    runs.update({(r.model, r.seed): r for r in new.runs})
    models = tuple(m for m in MODELS if any(k[0] == m for k in runs))
    seeds = tuple(sorted({k[1] for k in runs}))
    ordered = [runs[(m, s)] for s in seeds for m in models if (m, s) in runs]
    commands = [c for c in (old.command, new.command) if c]
    return ExperimentResult(
        replace(new.config, models=models, seeds=seeds),
        new.task,
        new.baseline_error,
        ordered,
        min(old.started, new.started) if old.started else new.started,
        round(old.wall_seconds + new.wall_seconds, 2),
        " ; ".join(dict.fromkeys(" ; ".join(commands).split(" ; "))),
        new.machine,
    )


def _config_difference(old: RunConfig, new: RunConfig) -> str:
    return ", ".join(
        f"{name} {getattr(old, name)!r} there, {getattr(new, name)!r} here"
        for name in old.__dataclass_fields__
        if name not in ("models", "seeds") and getattr(old, name) != getattr(new, name)
    )


def result_conflict(config: RunConfig, out_dir: str | os.PathLike[str]) -> str | None:
    """Why writing a result of ``config`` into ``out_dir`` would replace measured runs (an
    existing ``<id>.json`` whose settings differ in more than models and seeds), else None.

    Check it before training: :func:`write_result` refuses such a write unless told to replace.
    """
    path = Path(out_dir) / f"{config.result_id}.json"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not (isinstance(data, dict) and data.get("format") == RESULT_FORMAT):
        return None
    old = ExperimentResult.from_dict(data).config
    if replace(old, models=config.models, seeds=config.seeds) == config:
        return None
    return f"{path} holds runs with other settings ({_config_difference(old, config)})"


def write_result(
    result: ExperimentResult,
    out_dir: str | os.PathLike[str],
    *,
    merge: bool = True,
    replace_other: bool = False,
) -> tuple[Path, Path]:
    """Write ``<id>.json`` and the learning curves ``<id>.png`` into ``out_dir`` (atomically).

    With ``merge``, an existing result of the same experiment and settings (other models or seeds)
    is merged with this one (:func:`merge_results`). An existing result with other settings under
    the same name (another budget: the recipe is part of the name) is replaced only with
    ``replace_other``; otherwise a :class:`~lstmkit.errors.ConfigError` says what differs and
    nothing is written. ``merge=False`` replaces whatever is there.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{result.config.result_id}.json"
    if merge and path.is_file():
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict) and data.get("format") == RESULT_FORMAT:
            merged = merge_results(ExperimentResult.from_dict(data), result)
            if merged is not None:
                result = merged
            elif not replace_other:
                raise ConfigError(
                    f"{result_conflict(result.config, out)}; not replaced: write to another "
                    "directory, or replace it on purpose (replace_other=True, CLI --replace)"
                )

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(result.to_dict(), fh, indent=1)
            fh.write("\n")

    atomic_write(path, write)
    png = plot_learning_curves(result, out / f"{result.config.result_id}.png")
    return path, png


def read_results(results_dir: str | os.PathLike[str]) -> list[ExperimentResult]:
    """Every result JSON in ``results_dir``, in file-name order."""
    root = Path(results_dir)
    if not root.is_dir():
        raise ConfigError(f"results directory {root} does not exist; run an experiment first")
    results = []
    for path in sorted(root.glob("*.json")):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict) and data.get("format") == RESULT_FORMAT:
            results.append(ExperimentResult.from_dict(data))
    return results


def plot_learning_curves(result: ExperimentResult, path: str | os.PathLike[str]) -> Path:
    """Validation error and share correct against training sequences, one colour per model."""
    from lstmkit.viz._figure import new_figure, save_png

    task = result.config.task()
    fig = new_figure(11.0, 4.2)
    ax_err, ax_share = fig.subplots(1, 2)
    colours = {m: f"C{i}" for i, m in enumerate(MODELS)}
    for model in result.config.models:
        for k, run in enumerate(result.runs_of(model)):
            if not run.curve:
                continue
            xs = [p.sequences for p in run.curve]
            label = MODEL_LABELS[model] if k == 0 else None
            # log scale: an error of exactly 0 (e.g. no final symbol wrong) is drawn at the floor
            errors = [max(p.error, ERROR_FLOOR) for p in run.curve]
            ax_err.plot(xs, errors, color=colours[model], lw=1, label=label)
            ax_share.plot(
                xs, [p.share_correct for p in run.curve], color=colours[model], lw=1, label=label
            )
    if result.baseline_error is not None:
        ax_err.axhline(
            result.baseline_error, color="0.5", ls="--", lw=1, label="no-memory baseline"
        )
    ax_share.axhline(task.solved_share, color="0.5", ls=":", lw=1, label="criterion")
    ax_err.set_yscale("log")
    for ax in (ax_err, ax_share):
        ax.set_xlabel("training sequences")
        ax.grid(alpha=0.3)
    ax_err.set_ylabel("validation error")
    ax_share.set_ylabel("share of validation sequences correct")
    ax_share.set_ylim(-0.02, 1.02)
    ax_share.legend(fontsize=8, loc="best")
    seeds = ", ".join(map(str, result.config.seeds))
    fig.suptitle(f"{task.title}: {result.task}, seeds {seeds} (one line per seed)")
    return save_png(fig, path)


__all__ = [
    "ExperimentResult",
    "merge_results",
    "ModelRun",
    "plot_learning_curves",
    "read_results",
    "result_conflict",
    "run_experiment",
    "score",
    "train_one",
    "write_result",
]
