"""What defines an experiment run (:class:`RunConfig`): the task and its parameters, the models
and seeds, the training budget and recipe, the regime (``"modern"`` or the 1997 paper's), and the
per-experiment settings of the full report (:data:`FULL_PLAN`) and of its quick version.

A run's results are named after it (:attr:`RunConfig.result_id`), so a run with another recipe gets
its own file; :func:`config_command` writes the command line that reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError
from lstmkit.experiments.models import MODELS
from lstmkit.experiments.tasks import TASKS, Task, make_task


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
    "validation_size": "val",
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
    if config.validation_size != RunConfig.validation_size:
        parts += ["--validation-size", str(config.validation_size)]
    if config.direct:
        parts.append("--direct")
    if config.memory_after:
        parts += ["--memory-after", str(config.memory_after)]
    if not config.stop_when_solved:
        parts.append("--no-stop")
    return " ".join(parts)


def with_overrides(config: RunConfig, **overrides: Any) -> RunConfig:
    """``config`` with the given (non-None) fields replaced, checked again."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **changes).check()


__all__ = [
    "FULL_PLAN",
    "PAPER_SETTINGS",
    "RECIPE_FIELDS",
    "REGIMES",
    "RunConfig",
    "config_command",
    "default_settings",
    "make_config",
    "plan",
    "with_overrides",
]
