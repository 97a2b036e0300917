"""``TaskModule``: the LightningModule every task trains through.

A task hands it a plain ``torch.nn.Module`` and a loss function ``loss_fn(model, batch) -> scalar``;
the module adds the optimiser and schedule from a :class:`~lstmkit.train.TrainConfig` and logs
``train_loss`` and ``val_loss`` per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from lstmkit.train.config import TrainConfig
from lstmkit.train.distributed import ShardBatch

LossFn = Callable[[nn.Module, Any], Tensor]


def batch_size_of(batch: Any) -> int | None:
    """The leading size of the first tensor in a batch (for weighting epoch means)."""
    if isinstance(batch, Tensor):
        return int(batch.shape[0]) if batch.dim() else None
    if isinstance(batch, dict):
        batch = list(batch.values())
    if isinstance(batch, list | tuple):
        for item in batch:
            size = batch_size_of(item)
            if size is not None:
                return size
    return None


class TaskModule(L.LightningModule):
    """Wraps ``model`` and ``loss_fn`` for Lightning.

    ``model`` is registered as a submodule, so ``TaskModule.state_dict()`` keys are
    ``model.<name>``; the task keeps using ``model`` itself after training.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, config: TrainConfig) -> None:
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn
        self.config = config
        # The metric ReduceLROnPlateau watches; ``fit`` sets "train_loss" when there is no
        # validation data.
        self.monitor = "val_loss"

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self._loss(batch, "train_loss")

    def validation_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self._loss(batch, "val_loss")

    def _loss(self, batch: Any, name: str) -> Tensor:
        """The batch's loss, logged as the epoch mean (weighted by batch size) under ``name``.

        Under DDP the batch is this rank's :class:`~lstmkit.train.distributed.ShardBatch` of a
        global batch: the loss is weighted so that DDP's mean of the ranks' gradients is the
        gradient of the global batch's mean, and logged with the share's row count, so the
        synced epoch mean is the mean over every example (Lightning sums both over the ranks).
        """
        if isinstance(batch, ShardBatch):
            loss = self.loss_fn(self.model, batch.data)
            self.log(
                name,
                loss.detach() if batch.count else torch.zeros_like(loss.detach()),
                on_step=False,
                on_epoch=True,
                prog_bar=True,
                # a float: Lightning divides the summed counts by the world size in their
                # own dtype, so an integer count would be truncated (7 rows / 2 ranks -> 3)
                batch_size=float(batch.count),  # type: ignore[arg-type]
                sync_dist=True,
            )
            return loss * batch.weight
        loss = self.loss_fn(self.model, batch)
        self.log(
            name,
            loss.detach(),
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=batch_size_of(batch),
            sync_dist=True,
        )
        return loss

    def configure_optimizers(self) -> Any:
        return build_optimizer(self.model.parameters(), self.config, monitor=self.monitor)


def build_optimizer(params: Any, config: TrainConfig, *, monitor: str = "val_loss") -> Any:
    """The optimiser (and LR scheduler) a config names, in Lightning's return format."""
    params = [p for p in params if p.requires_grad]
    name = config.optimizer
    if name == "adam":
        optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    elif name == "adamw":
        optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    elif name == "rmsprop":
        optimizer = torch.optim.RMSprop(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    else:
        optimizer = torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.schedule == "none":
        return optimizer
    if config.schedule == "cosine":
        scheduler: Any = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.max_epochs
        )
    elif config.schedule == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=config.step_size, gamma=config.gamma
        )
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=config.gamma, patience=config.plateau_patience
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": monitor, "interval": "epoch"},
        }
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}
