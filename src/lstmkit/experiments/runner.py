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
from lstmkit.experiments.tasks import TASKS, Batch, Task, make_task

log = logging.getLogger(__name__)

VALIDATION_SEED_OFFSET = 1_000_003
TEST_SEED_OFFSET = 2_000_003
RESULT_FORMAT = "lstmkit-experiment-result"
ERROR_FLOOR = 1e-6  # where learning curves draw an error of 0 on their log scale


@dataclass
class RunConfig:
    """Everything that defines one experiment run (all models, all seeds)."""

    experiment: str
    task_params: dict[str, Any] = field(default_factory=dict)
    models: tuple[str, ...] = MODELS
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    hidden_size: int = 32
    batch_size: int = 32
    lr: float = 1e-2
    clip: float = 1.0
    forget_bias: float = 1.0
    budget_sequences: int | None = 1_000_000
    budget_seconds: float | None = 600.0
    eval_every: int = 10_000
    validation_size: int = 512
    test_size: int = 2560
    stop_when_solved: bool = True
    confirm_checks: int = 2
    threads: int = 1
    quick: bool = False
    regime: str = "modern"
    #: paper regime: weights uniform in [-init_interval, init_interval] (None: lstmkit's init)
    init_interval: float | None = None
    input_gate_bias: tuple[float, ...] = ()
    output_gate_bias: tuple[float, ...] = ()
    #: input-to-output connections beside the recurrent layer (the paper's net for task 2a)
    direct: bool = False
    #: with ``direct``: train the direct connections alone for this many sequences, then add the
    #: recurrent path with a zero head (the paper adds the memory cell once the error stopped
    #: decreasing); 0 = from the start
    memory_after: int = 0

    def task(self) -> Task:
        return make_task(self.experiment, **self.task_params)

    @property
    def result_id(self) -> str:
        """File stem of this run's results: the experiment, its parameters, the regime unless
        modern, and every training setting that differs from the experiment's defaults
        (:meth:`recipe`), e.g. ``adding-T100``, ``adding-T100-paper``, ``adding-T100-h64``.

        Runs with another recipe thus get their own file instead of replacing a measured one.
        """
        parts = [self.experiment] + [f"{k}{v}" for k, v in sorted(self.task_params.items())]
        if self.regime != "modern":
            parts.append(self.regime)
        for name, value in self.recipe().items():
            parts.append(_RECIPE_IDS[name] + ("" if value is True else _id_value(value)))
        return "-".join(parts) + ("-quick" if self.quick else "")

    def recipe(self) -> dict[str, Any]:
        """The training settings (:data:`RECIPE_FIELDS`) that differ from the defaults of this
        experiment, regime and mode (:func:`make_config` without overrides)."""
        base = default_settings(self.experiment, quick=self.quick, regime=self.regime)
        defaults = RunConfig(self.experiment)
        out = {}
        for name in RECIPE_FIELDS:
            value = getattr(self, name)
            if value != base.get(name, getattr(defaults, name)):
                out[name] = value
        return out

    def check(self) -> RunConfig:
        if self.experiment not in TASKS:
            raise ConfigError(
                f"unknown experiment {self.experiment!r}; expected one of {', '.join(TASKS)}"
            )
        unknown = [m for m in self.models if m not in MODELS]
        if unknown or not self.models:
            raise ConfigError(
                f"unknown model(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                f"expected some of {', '.join(MODELS)}"
            )
        if not self.seeds:
            raise ConfigError("seeds must name at least one seed")
        for name in (
            "hidden_size",
            "batch_size",
            "eval_every",
            "validation_size",
            "test_size",
            "confirm_checks",
        ):
            positive_int(name, getattr(self, name))
        if self.budget_sequences is None and self.budget_seconds is None:
            raise ConfigError("give a budget: budget_sequences and/or budget_seconds")
        if self.budget_sequences is not None and self.budget_sequences < 1:
            raise ConfigError(f"budget_sequences must be >= 1, got {self.budget_sequences!r}")
        if self.budget_seconds is not None and self.budget_seconds <= 0:
            raise ConfigError(f"budget_seconds must be > 0, got {self.budget_seconds!r}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr!r}")
        if self.regime not in REGIMES:
            raise ConfigError(f"regime must be one of {', '.join(REGIMES)}, got {self.regime!r}")
        if self.memory_after < 0 or (self.memory_after and not self.direct):
            raise ConfigError(
                f"memory_after must be >= 0 and needs direct=True, got {self.memory_after!r} "
                f"with direct={self.direct!r}"
            )
        if self.init_interval is not None and not self.init_interval > 0:
            raise ConfigError(f"init_interval must be > 0, got {self.init_interval!r}")
        self.task()  # validates the task parameters
        return self


# Per-experiment settings for full runs; every model of an experiment gets the same. The long-lag
# tasks start the LSTMs with forget bias 3 (f = σ(3) ≈ 0.95): with lstmkit's default of 1
# (f ≈ 0.73) a value stored 50 steps back keeps 0.73^50 ≈ 1e-7 of its weight at initialisation,
# and in a measured run (adding, T = 100, seed 0, lr 3e-3) the LSTM was still at the no-memory
# error after 240,000 sequences, while with forget bias 3 it met the criterion after 100,000.
_LONG_LAG = {"hidden_size": 32, "lr": 3e-3, "forget_bias": 3.0}
FULL_SETTINGS: dict[str, dict[str, Any]] = {
    "adding": {**_LONG_LAG, "budget_sequences": 1_000_000},
    "multiplication": {**_LONG_LAG, "budget_sequences": 1_000_000},
    "reber": {
        "hidden_size": 16,
        "lr": 1e-2,
        "budget_sequences": 100_000,
        "eval_every": 2_000,
        "test_size": 256,
        "batch_size": 16,
    },
    "long-lag": {
        **_LONG_LAG,
        "budget_sequences": 100_000,
        "eval_every": 1_000,
        "test_size": 64,
        "validation_size": 64,
        "batch_size": 16,
    },
    "temporal-order": {**_LONG_LAG, "budget_sequences": 1_000_000},
    "temporal-order-3": {**_LONG_LAG, "budget_sequences": 1_000_000},
    "copy": {**_LONG_LAG, "hidden_size": 64, "budget_sequences": 1_000_000},
}
# The experiments of the full report, with their parameters.
FULL_PLAN: tuple[tuple[str, dict[str, Any]], ...] = (
    ("adding", {"T": 100}),
    ("adding", {"T": 200}),
    ("adding", {"T": 500}),
    ("multiplication", {"T": 100}),
    ("reber", {}),
    ("temporal-order", {}),
    ("temporal-order-3", {}),
    ("long-lag", {"p": 100}),
    ("long-lag", {"p": 100, "targets": "final"}),
    ("long-lag", {"p": 1000, "targets": "final"}),
    ("copy", {"T": 50, "K": 10}),
)
# The training regimes: "modern" (Adam, mini-batches, clipping, the task's loss) and "paper".
REGIMES: tuple[str, ...] = ("modern", "paper")
# The 1997 paper's training regime per experiment (its Section 5 and Tables 10-11, verified against
# the paper's text): online updates (one sequence per update, plain gradient descent), its learning
# rate, weights uniform in [-0.2, 0.2] (Experiments 1-2) or [-0.1, 0.1], its input/output gate bias
# initialisation (cycled over the hidden units; "r" in the paper = uniform like the other weights,
# here an empty tuple), no clipping. Long-lag 2a: the paper's net had no output gate (we cannot
# drop it, so its bias stays uniform). Copy is not in the paper; it gets Experiment 5's settings.
_PAPER_COMMON: dict[str, Any] = {"regime": "paper", "batch_size": 1, "clip": 0.0}
PAPER_SETTINGS: dict[str, dict[str, Any]] = {
    "adding": {**_PAPER_COMMON, "lr": 0.5, "init_interval": 0.1, "input_gate_bias": (-3.0, -6.0)},
    "multiplication": {**_PAPER_COMMON, "lr": 0.1, "init_interval": 0.1},
    "reber": {
        **_PAPER_COMMON,
        "lr": 0.5,
        "init_interval": 0.2,
        "output_gate_bias": (-1.0, -2.0, -3.0),
    },
    "long-lag": {**_PAPER_COMMON, "lr": 1.0, "init_interval": 0.2},
    "temporal-order": {
        **_PAPER_COMMON,
        "lr": 0.5,
        "init_interval": 0.1,
        "input_gate_bias": (-2.0, -4.0),
    },
    "temporal-order-3": {
        **_PAPER_COMMON,
        "lr": 0.1,
        "init_interval": 0.1,
        "input_gate_bias": (-2.0, -4.0, -6.0),
    },
    "copy": {**_PAPER_COMMON, "lr": 0.1, "init_interval": 0.1},
}
# Quick mode: tiny problems and budgets, so that every experiment runs in seconds (tests, CI).
QUICK_PARAMS: dict[str, dict[str, Any]] = {
    "adding": {"T": 20},
    "multiplication": {"T": 20},
    "reber": {},
    "long-lag": {"p": 10},
    "temporal-order": {},
    "temporal-order-3": {},
    "copy": {"T": 5, "K": 3},
}
QUICK_SETTINGS: dict[str, Any] = {
    "hidden_size": 8,
    "batch_size": 8,
    "budget_sequences": 32,
    "budget_seconds": 60.0,
    "eval_every": 16,
    "validation_size": 16,
    "test_size": 32,
    "seeds": (0,),
}


#: The settings that define how a model is trained (a "recipe"), with their short names in result
#: file names; budgets, check intervals and set sizes are not among them.
_RECIPE_IDS: dict[str, str] = {
    "hidden_size": "h",
    "batch_size": "b",
    "lr": "lr",
    "clip": "clip",
    "forget_bias": "fb",
    "init_interval": "init",
    "input_gate_bias": "igb",
    "output_gate_bias": "ogb",
    "direct": "direct",
    "memory_after": "mem",
}
RECIPE_FIELDS: tuple[str, ...] = tuple(_RECIPE_IDS)


def _id_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "_".join(_id_value(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def default_settings(experiment: str, *, quick: bool = False, regime: str = "modern") -> dict:
    """The settings ``make_config`` gives ``experiment`` before overrides (beyond RunConfig's)."""
    settings: dict[str, Any] = dict(FULL_SETTINGS.get(experiment, {}))
    if quick:
        settings.update(QUICK_SETTINGS)
    if regime == "paper":
        settings.update(PAPER_SETTINGS[experiment])
    return settings


def make_config(
    experiment: str,
    *,
    quick: bool = False,
    task_params: dict[str, Any] | None = None,
    regime: str = "modern",
    **overrides: Any,
) -> RunConfig:
    """The run configuration of ``experiment``: its full (or quick) settings, the ``regime``'s
    (``"modern"`` or ``"paper"``: :data:`PAPER_SETTINGS`), then ``overrides``."""
    if experiment not in TASKS:
        raise ConfigError(f"unknown experiment {experiment!r}; expected one of {', '.join(TASKS)}")
    if regime not in REGIMES:
        raise ConfigError(f"regime must be one of {', '.join(REGIMES)}, got {regime!r}")
    settings = default_settings(experiment, quick=quick, regime=regime)
    params = dict(task_params or {})
    if quick:
        params = {**QUICK_PARAMS.get(experiment, {}), **params}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    if "models" in settings:
        settings["models"] = tuple(settings["models"])
    if "seeds" in settings:
        settings["seeds"] = tuple(int(s) for s in settings["seeds"])
    return RunConfig(experiment, params, quick=quick, **settings).check()


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


def plan(quick: bool = False, regime: str = "modern") -> list[RunConfig]:
    """The run configurations of the full report (or of its quick version) in ``regime``."""
    if quick:
        return [make_config(name, quick=True, regime=regime) for name in TASKS]
    return [make_config(name, task_params=params, regime=regime) for name, params in FULL_PLAN]


def config_command(config: RunConfig) -> str:
    """A ``lstmkit experiments run`` command line that reproduces ``config``."""
    parts = ["lstmkit", "experiments", "run", config.experiment]
    for key, value in sorted(config.task_params.items()):
        parts += [f"--{key}", str(value)]
    if config.regime != "modern":
        parts += ["--regime", config.regime]
    if config.quick:
        parts.append("--quick")
    parts += ["--models", ",".join(config.models), "--seeds", ",".join(map(str, config.seeds))]
    if config.budget_sequences is not None:
        parts += ["--budget-sequences", str(config.budget_sequences)]
    if config.budget_seconds is not None:
        parts += ["--budget-seconds", f"{config.budget_seconds:g}"]
    parts += [
        "--hidden-size",
        str(config.hidden_size),
        "--lr",
        f"{config.lr:g}",
        "--forget-bias",
        f"{config.forget_bias:g}",
        "--batch-size",
        str(config.batch_size),
        "--eval-every",
        str(config.eval_every),
        "--test-size",
        str(config.test_size),
    ]
    if not config.stop_when_solved:
        parts.append("--no-stop")
    return " ".join(parts)


def with_overrides(config: RunConfig, **overrides: Any) -> RunConfig:
    """``config`` with the given (non-None) fields replaced, checked again."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **changes).check()


__all__ = [
    "ExperimentResult",
    "PAPER_SETTINGS",
    "RECIPE_FIELDS",
    "REGIMES",
    "merge_results",
    "config_command",
    "ModelRun",
    "RunConfig",
    "make_config",
    "plan",
    "plot_learning_curves",
    "read_results",
    "result_conflict",
    "run_experiment",
    "score",
    "train_one",
    "write_result",
]
