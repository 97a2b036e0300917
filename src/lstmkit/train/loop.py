"""``fit``: the one training loop (Lightning underneath), its data loaders and its history.

Lightning is imported inside the functions that train, not here: the tasks import ``fit`` and
``History`` at the top, and loading a saved model and predicting with it must not pay Lightning's
start-up time (seconds). The Lightning classes (:class:`TaskModule`, the callbacks) are still
attributes of this module, loaded on first access.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import signal
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from lstmkit._lazy import lazy_attributes
from lstmkit.errors import ConfigError, ModelFileError, ShapeError
from lstmkit.train.config import TrainConfig, progress_default
from lstmkit.train.distributed import can_shard, shard_loader

if TYPE_CHECKING:
    from lstmkit.train.module import LossFn

log = logging.getLogger(__name__)

# Names this module had when it imported Lightning at the top, and where they live now.
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "BestWeights": "lstmkit.train._callbacks",
        "HistoryCallback": "lstmkit.train._callbacks",
        "LossFn": "lstmkit.train.module",
        "TaskModule": "lstmkit.train.module",
    },
)


CHECKPOINT_DIR = "checkpoints"
_LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning")
# Warnings that are noise for lstmkit's in-memory tensor loaders; everything else is kept.
_NOISE = (
    r".*does not have many workers.*",
    r".*The number of training batches .* is smaller than the logging interval.*",
    r".*Checkpoint directory .* exists and is not empty.*",
    r".*Experiment logs directory .* exists and is not empty.*",
    r".*isinstance\(treespec, LeafSpec\).*",  # Lightning calling a torch API torch deprecated
    r".*You defined a `validation_step` but have no `val_dataloader`.*",
)


def seed_everything(seed: int) -> int:
    """Seed Python, numpy and torch (quietly); call before building a model for repeatable runs."""
    import lightning as L

    return L.seed_everything(int(seed), verbose=False)


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's info banners (devices, tips, summaries); keep its warnings."""
    previous = {}
    for name in _LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        previous[name] = logger.level
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in _NOISE:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _ctrl_c_stays_a_keyboard_interrupt(trainer: Any) -> Iterator[None]:
    """Lightning turns Ctrl-C during ``fit`` into ``sys.exit(1)`` and leaves SIGINT ignored for
    the rest of the process; give the caller the KeyboardInterrupt back (the CLI exits 130 on it)
    and put the SIGINT handler back as it was."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main_thread else None
    try:
        yield
    except SystemExit:
        if not getattr(trainer, "interrupted", False):
            raise
        raise KeyboardInterrupt from None
    finally:
        if main_thread and previous is not None:
            signal.signal(signal.SIGINT, previous)


# --- data ---------------------------------------------------------------------------------------


class TensorRows(Dataset):
    """Rows of equally long tensors; a batch is cut with one index per tensor, not row by row.

    ``DataLoader`` calls ``__getitems__`` with the batch's indices, so a batch of windows costs
    one gather per tensor, whatever the batch size. Works with Lightning's distributed sampler.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ShapeError("TensorRows needs at least one tensor")
        sizes = {int(t.shape[0]) for t in tensors}
        if len(sizes) != 1:
            raise ShapeError(
                f"all tensors must have the same first dimension, got sizes "
                f"{[int(t.shape[0]) for t in tensors]}"
            )
        self.tensors = tuple(tensors)

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: Sequence[int]) -> tuple[Tensor, ...]:
        rows = torch.as_tensor(indices, dtype=torch.long)
        return tuple(t.index_select(0, rows) for t in self.tensors)


def _already_batched(batch: Any) -> Any:
    return batch


def make_loader(
    data: Any,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    num_workers: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over ``data``: a DataLoader (returned as is), a Dataset, or a tuple of tensors.

    The shuffle order comes from a generator seeded with ``seed``: same seed, same batches.
    """
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, Tensor):
        data = (data,)
    if isinstance(data, list | tuple):
        if not all(isinstance(t, Tensor) for t in data):
            raise TypeError(
                "training data must be a DataLoader, a Dataset or a tuple of tensors, got a "
                f"{type(data).__name__} of {', '.join(type(t).__name__ for t in data)}"
            )
        data = TensorRows(*data)
    if not isinstance(data, Dataset):
        raise TypeError(
            "training data must be a DataLoader, a Dataset or a tuple of tensors, "
            f"got {type(data).__name__}"
        )
    generator = torch.Generator().manual_seed(seed)
    collate = _already_batched if isinstance(data, TensorRows) else None
    return DataLoader(
        data,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        num_workers=num_workers,
        drop_last=drop_last,
        collate_fn=collate,
        persistent_workers=num_workers > 0,
    )


# --- history and callbacks ----------------------------------------------------------------------


@dataclass
class History:
    """Mean training and validation loss per epoch (and the learning rate used)."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.epoch)

    @property
    def best_epoch(self) -> int | None:
        """The epoch with the lowest validation loss (training loss without validation)."""
        losses = self.val_loss if any(v is not None for v in self.val_loss) else self.train_loss
        scored = [(v, e) for v, e in zip(losses, self.epoch, strict=True) if v is not None]
        return min(scored)[1] if scored else None

    def to_dict(self) -> dict[str, list[Any]]:
        return {
            "epoch": list(self.epoch),
            "train_loss": list(self.train_loss),
            "val_loss": list(self.val_loss),
            "lr": list(self.lr),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(
            epoch=[int(e) for e in data.get("epoch", [])],
            train_loss=[float(v) for v in data.get("train_loss", [])],
            val_loss=[None if v is None else float(v) for v in data.get("val_loss", [])],
            lr=[float(v) for v in data.get("lr", [])],
        )


@dataclass
class FitResult:
    """What :func:`fit` returns: the history, how it ended and where its files are."""

    history: History
    epochs: int
    stopped_early: bool
    best_epoch: int | None
    best_loss: float | None
    monitor: str
    run_dir: Path | None = None
    best_checkpoint: Path | None = None
    last_checkpoint: Path | None = None
    log_dir: Path | None = None


# --- the loop -----------------------------------------------------------------------------------


def resolve_precision(config: TrainConfig) -> str:
    """Lightning's precision for this config: mixed precision only where CUDA can do it."""
    if config.precision == "32":
        return "32-true"
    cuda = torch.cuda.is_available() and config.accelerator in ("auto", "gpu", "cuda")
    if not cuda:
        warnings.warn(
            f"precision={config.precision!r} needs a CUDA GPU; training in 32-bit on this machine",
            stacklevel=3,
        )
        return "32-true"
    if config.precision == "mixed":
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return config.precision


def resolve_resume(config: TrainConfig) -> Path | None:
    """The checkpoint to resume from, which must lie in this run's own checkpoint folder."""
    if config.resume in (False, None):
        return None
    assert config.run_dir is not None  # checked by TrainConfig
    folder = (Path(config.run_dir) / CHECKPOINT_DIR).resolve()
    if config.resume is True or config.resume == "last":
        path = folder / "last.ckpt"
    elif config.resume == "best":
        path = folder / "best.ckpt"
    else:
        path = Path(config.resume).resolve()
        if folder not in path.parents:
            raise ConfigError(
                f"resume={str(config.resume)!r} is outside this run's checkpoint folder {folder}; "
                "Lightning checkpoints are pickles, so lstmkit only resumes from checkpoints its "
                "own run directory wrote"
            )
    if not path.is_file():
        raise ModelFileError(f"cannot resume: no checkpoint at {path}")
    return path


def _loggers(run_dir: Path | None) -> list[Any]:
    if run_dir is None:
        return []
    from lightning.pytorch.loggers import CSVLogger

    loggers: list[Any] = [CSVLogger(save_dir=str(run_dir), name="logs")]
    if importlib.util.find_spec("tensorboard") or importlib.util.find_spec("tensorboardX"):
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(
            TensorBoardLogger(save_dir=str(run_dir), name="logs", version=loggers[0].version)
        )
    return loggers


def _profiler(kind: str | None, run_dir: Path | None) -> Any:
    """Lightning's profiler, writing its summary to ``run_dir/profile.txt`` (or the log)."""
    if kind is None:
        return None
    from lightning.pytorch.profilers import AdvancedProfiler, SimpleProfiler

    cls = SimpleProfiler if kind == "simple" else AdvancedProfiler
    if run_dir is None:
        return cls()
    return cls(dirpath=str(run_dir), filename="profile")


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    train: Any,
    val: Any = None,
    config: TrainConfig | None = None,
    **overrides: Any,
) -> FitResult:
    """Train ``model`` by minimising ``loss_fn(model, batch)`` over ``train``.

    Args:
        model: any ``torch.nn.Module``; trained in place (and moved back to the CPU at the end).
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``, used for training and validation.
        train, val: each a tuple of tensors (rows = examples), a Dataset or a DataLoader. ``val``
            drives early stopping, the best-weights choice and the plateau schedule; without it
            the training loss does, and early stopping is off.
        config: a :class:`TrainConfig`; keyword ``overrides`` replace some of its fields.

    Returns:
        A :class:`FitResult` with the per-epoch :class:`History`.
    """
    import lightning as L
    from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

    from lstmkit.train._callbacks import BestWeights, HistoryCallback, StderrProgressBar
    from lstmkit.train.module import TaskModule

    config = config or TrainConfig()
    if overrides:
        config = config.replace(**overrides)
    seed_everything(config.seed)
    train_loader = make_loader(
        train,
        batch_size=config.batch_size,
        shuffle=True,
        seed=config.seed,
        num_workers=config.num_workers,
    )
    val_loader = None
    if val is not None:
        val_loader = make_loader(
            val, batch_size=config.batch_size, shuffle=False, num_workers=config.num_workers
        )
        if len(val_loader.dataset) == 0:  # type: ignore[arg-type]
            val_loader = None
    monitor = "val_loss" if val_loader is not None else "train_loss"

    module = TaskModule(model, loss_fn, config)
    module.monitor = monitor
    history = HistoryCallback()
    best = BestWeights(monitor)
    callbacks: list[Callback] = [history, best]
    progress = (
        progress_default() if config.enable_progress_bar is None else config.enable_progress_bar
    )
    if progress:
        callbacks.append(StderrProgressBar())
    early = None
    if config.patience is not None and val_loader is not None:
        early = EarlyStopping(
            monitor=monitor, patience=config.patience, min_delta=config.min_delta, mode="min"
        )
        callbacks.append(early)
    checkpoint = None
    run_dir = Path(config.run_dir) if config.run_dir is not None else None
    if run_dir is not None:
        checkpoint = ModelCheckpoint(
            dirpath=str(run_dir / CHECKPOINT_DIR),
            filename="best",
            monitor=monitor,
            mode="min",
            save_top_k=1,
            save_last=True,
            auto_insert_metric_name=False,
            enable_version_counter=False,
        )
        callbacks.append(checkpoint)
    ckpt_path = resolve_resume(config)

    batches = max(1, len(train_loader))
    loggers = _loggers(run_dir)
    # Under DDP lstmkit splits each global batch among the ranks itself (``distributed``), so
    # several processes train on the same batches as one; Lightning's own distributed sampler is
    # left for loaders it cannot split.
    shardable = can_shard(train_loader) and (val_loader is None or can_shard(val_loader))
    with quiet_lightning():
        trainer = L.Trainer(
            accelerator=config.accelerator,
            devices=config.devices,
            num_nodes=config.num_nodes,
            strategy=config.strategy,
            precision=resolve_precision(config),  # type: ignore[arg-type]
            max_epochs=config.max_epochs,
            gradient_clip_val=config.gradient_clip,
            gradient_clip_algorithm="norm",
            callbacks=callbacks,
            logger=loggers or False,
            enable_checkpointing=checkpoint is not None,
            enable_progress_bar=progress,
            enable_model_summary=False,
            default_root_dir=str(run_dir) if run_dir is not None else None,
            deterministic=config.deterministic,
            log_every_n_steps=min(config.log_every_n_steps, batches),
            num_sanity_val_steps=0,
            profiler=_profiler(config.profiler, run_dir),
            use_distributed_sampler=not shardable,
        )
        if shardable and trainer.world_size > 1:
            train_loader = shard_loader(train_loader)
            val_loader = shard_loader(val_loader) if val_loader is not None else None
        with _ctrl_c_stays_a_keyboard_interrupt(trainer):
            trainer.fit(
                module,
                train_dataloaders=train_loader,
                val_dataloaders=val_loader,
                ckpt_path=str(ckpt_path) if ckpt_path is not None else None,
                weights_only=True if ckpt_path is not None else None,
            )
    model.to("cpu")
    if config.restore_best and best.best_state is not None:
        model.load_state_dict(copy.deepcopy(best.best_state))
    stopped = bool(early is not None and early.stopped_epoch > 0)
    folder = run_dir / CHECKPOINT_DIR if run_dir is not None else None

    def written(name: str) -> Path | None:
        return folder / name if folder is not None and (folder / name).is_file() else None

    return FitResult(
        history=history.history,
        epochs=int(trainer.current_epoch),
        stopped_early=stopped,
        best_epoch=best.best_epoch,
        best_loss=best.best_score,
        monitor=monitor,
        run_dir=run_dir,
        best_checkpoint=written("best.ckpt"),
        last_checkpoint=written("last.ckpt"),
        log_dir=Path(loggers[0].log_dir) if loggers else None,
    )
