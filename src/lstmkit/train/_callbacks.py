"""The callbacks :func:`~lstmkit.train.fit` hands to Lightning: the per-epoch history and the
best epoch's weights.

They subclass Lightning's ``Callback``, so this module imports Lightning; it is kept apart from
:mod:`lstmkit.train.loop` so that loading and applying a trained model never has to.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, TQDMProgressBar
from torch import Tensor

from lstmkit.train.loop import History


def _metric(metrics: dict[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    return None if value is None else float(value)


class HistoryCallback(Callback):
    """Appends each epoch's mean losses to a :class:`History`; saved in checkpoints for resume."""

    def __init__(self) -> None:
        self.history = History()
        self._epoch_lr = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # the learning rate used in this epoch (epoch schedulers step before the epoch-end hooks)
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        self._epoch_lr = float(optimizer.param_groups[0]["lr"]) if optimizer else 0.0

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = trainer.callback_metrics
        self.history.epoch.append(int(trainer.current_epoch))
        self.history.train_loss.append(_metric(metrics, "train_loss") or float("nan"))
        self.history.val_loss.append(_metric(metrics, "val_loss"))
        self.history.lr.append(self._epoch_lr)

    def state_dict(self) -> dict[str, Any]:
        return self.history.to_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = History.from_dict(state_dict)


class BestWeights(Callback):
    """Keeps a CPU copy of the weights of the epoch with the best monitored loss.

    The copy is part of the checkpoint state, so a resumed run still knows its best epoch.
    """

    def __init__(self, monitor: str) -> None:
        self.monitor = monitor
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, Tensor] | None = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = _metric(trainer.callback_metrics, self.monitor)
        if value is None or value != value:
            return
        if self.best_score is None or value < self.best_score:
            self.best_score = value
            self.best_epoch = int(trainer.current_epoch)
            model = pl_module.model  # type: ignore[attr-defined]
            self.best_state = {
                k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
            }

    def state_dict(self) -> dict[str, Any]:
        return {
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "best_state": self.best_state,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_score = state_dict.get("best_score")
        self.best_epoch = state_dict.get("best_epoch")
        self.best_state = state_dict.get("best_state")


class StderrProgressBar(TQDMProgressBar):
    """Lightning's progress bar, drawn on stderr (Lightning draws it on stdout), so a command's
    output on stdout stays clean to pipe and the bar goes where diagnostics go."""

    def _on_stderr(self, make: Any) -> Any:
        with contextlib.redirect_stdout(sys.stderr):  # Lightning passes file=sys.stdout
            return make()

    def init_sanity_tqdm(self) -> Any:
        return self._on_stderr(super().init_sanity_tqdm)

    def init_train_tqdm(self) -> Any:
        return self._on_stderr(super().init_train_tqdm)

    def init_predict_tqdm(self) -> Any:
        return self._on_stderr(super().init_predict_tqdm)

    def init_validation_tqdm(self) -> Any:
        return self._on_stderr(super().init_validation_tqdm)

    def init_test_tqdm(self) -> Any:
        return self._on_stderr(super().init_test_tqdm)
