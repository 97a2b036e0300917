"""``TrainConfig``: every knob of the shared training loop, checked once when it is built."""

from __future__ import annotations

import numbers
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from lstmkit._checks import number, positive_int
from lstmkit.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULES = ("none", "cosine", "step", "plateau")
PRECISIONS = ("32", "mixed", "16-mixed", "bf16-mixed")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    value = str(value).lower() if isinstance(value, str | int) else value
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


@dataclass
class TrainConfig:
    """How to train: optimiser, schedule, stopping, checkpoints, seed and hardware.

    Optimisation
        ``optimizer`` "adam" (default), "adamw", "rmsprop" or "sgd"; ``lr``; ``weight_decay``;
        ``momentum`` (SGD and RMSprop); ``schedule`` of the learning rate per epoch: "none",
        "cosine" (to 0 over ``max_epochs``), "step" (times ``gamma`` every ``step_size`` epochs) or
        "plateau" (times ``gamma`` after ``plateau_patience`` epochs without a better validation
        loss); ``gradient_clip``: the total gradient norm is clipped to this (5.0; ``None`` = off).
    Length
        ``batch_size``; ``max_epochs``; ``patience``: stop when the validation loss has not improved
        by more than ``min_delta`` for this many epochs (``None`` = never stop early); with
        ``restore_best`` the weights of the best validation epoch are put back at the end.
    Run directory
        ``run_dir``: where metrics (CSV, and TensorBoard when installed) and the checkpoints
        ``checkpoints/best.ckpt`` and ``checkpoints/last.ckpt`` go; ``None`` keeps everything in
        memory. ``resume``: ``True`` (or "last") continues from ``run_dir/checkpoints/last.ckpt``,
        a path continues from that checkpoint. Lightning checkpoints are pickles, so lstmkit only
        resumes from a checkpoint inside this run's own ``checkpoints`` folder, and loads it with
        ``weights_only=True``; never point ``run_dir`` at files you did not write.
    Repeatability
        ``seed``: seeds Python, numpy and torch and the data order, so two runs with the same seed
        on the same machine give the same weights. ``deterministic`` additionally asks torch for
        deterministic kernels (slower on GPU).
    Hardware
        ``accelerator`` ("auto": a GPU when there is one), ``devices``, ``num_nodes`` and
        ``strategy`` are passed to Lightning (e.g. ``strategy="ddp"``, ``devices=4``). Under DDP
        ``batch_size`` stays the global batch: each batch is split among the processes, so they
        train as one process would (``docs/scaling.md``, :mod:`lstmkit.train.distributed`).
        ``precision``: "32", or mixed precision on a GPU: "16-mixed", "bf16-mixed", or "mixed" (bf16
        where the GPU supports it, else fp16). Without CUDA, mixed precision falls back to 32-bit
        with a warning. ``num_workers``: DataLoader worker processes (0: batches are cut from
        in-memory tensors in the main process, which is fastest for tensors already in memory).
    Output
        ``enable_progress_bar``: Lightning's progress bar (on stderr); None (the default) draws
        it only where it can be drawn in place, in a terminal or a Jupyter notebook, so scripts
        run under a scheduler or in a loop log no bar (:func:`progress_default`);
        ``log_every_n_steps``; ``profiler``: Lightning's profiler ("simple" or "advanced"); its
        summary goes to ``run_dir/fit-profile.txt`` (or to the log without a run directory).
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    schedule: str = "none"
    step_size: int = 30
    gamma: float = 0.1
    plateau_patience: int = 5
    gradient_clip: float | None = 5.0
    batch_size: int = 64
    max_epochs: int = 100
    patience: int | None = 10
    min_delta: float = 0.0
    restore_best: bool = True
    run_dir: str | Path | None = None
    resume: bool | str | Path = False
    seed: int = 0
    deterministic: bool = False
    accelerator: str = "auto"
    devices: int | str | list[int] = "auto"
    num_nodes: int = 1
    strategy: str | Any = "auto"
    precision: str = "32"
    num_workers: int = 0
    enable_progress_bar: bool | None = None
    log_every_n_steps: int = 50
    profiler: str | None = None

    def __post_init__(self) -> None:
        self.optimizer = _choice("optimizer", self.optimizer, OPTIMIZERS)
        self.schedule = _choice("schedule", self.schedule, SCHEDULES)
        self.precision = _choice("precision", str(self.precision), PRECISIONS)
        self.lr = number("lr", self.lr, positive=True)
        self.weight_decay = number("weight_decay", self.weight_decay)
        self.momentum = number("momentum", self.momentum)
        self.gamma = number("gamma", self.gamma, positive=True)
        self.min_delta = number("min_delta", self.min_delta)
        self.step_size = positive_int("step_size", self.step_size)
        self.plateau_patience = positive_int("plateau_patience", self.plateau_patience)
        self.batch_size = positive_int("batch_size", self.batch_size)
        self.max_epochs = positive_int("max_epochs", self.max_epochs)
        self.num_nodes = positive_int("num_nodes", self.num_nodes)
        self.log_every_n_steps = positive_int("log_every_n_steps", self.log_every_n_steps)
        if self.gradient_clip is not None:
            self.gradient_clip = number("gradient_clip", self.gradient_clip, positive=True)
        if self.patience is not None:
            self.patience = positive_int("patience (or None)", self.patience)
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise ConfigError(f"seed must be an int, got {self.seed!r}")
        if not 0 <= int(self.seed) < 2**32:
            raise ConfigError(f"seed must be in [0, 2**32), got {self.seed!r}")
        self.seed = int(self.seed)
        if isinstance(self.num_workers, bool) or not isinstance(self.num_workers, int):
            raise ConfigError(f"num_workers must be an int >= 0, got {self.num_workers!r}")
        if self.num_workers < 0:
            raise ConfigError(f"num_workers must be an int >= 0, got {self.num_workers!r}")
        if self.enable_progress_bar is not None and not isinstance(self.enable_progress_bar, bool):
            raise ConfigError(
                f"enable_progress_bar must be True, False or None (automatic), "
                f"got {self.enable_progress_bar!r}"
            )
        if self.profiler is not None:
            self.profiler = _choice("profiler", self.profiler, ("simple", "advanced"))
        if self.run_dir is not None:
            self.run_dir = Path(self.run_dir)
        if self.resume not in (False, None) and self.run_dir is None:
            raise ConfigError(
                "resume needs run_dir: lstmkit only resumes from checkpoints its own run "
                "directory wrote"
            )

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (checked again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigError(
                f"unknown training option(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(f.name for f in fields(self))}"
            )
        values = asdict(self)
        values.update(changes)
        return TrainConfig(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (paths as strings)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
            elif not isinstance(value, str | int | float | bool | list | type(None)):
                out[key] = repr(value)
        return out


def progress_default() -> bool:
    """Whether a progress bar is wanted when none was asked for: in a Jupyter kernel, or when
    stderr (where Lightning draws it) is a terminal; never in a pipe, a log file or a CI job."""
    shell = sys.modules.get("IPython")
    if shell is not None:
        get = getattr(shell, "get_ipython", None)
        ip = get() if callable(get) else None
        if ip is not None and type(ip).__name__ == "ZMQInteractiveShell":
            return True
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False
