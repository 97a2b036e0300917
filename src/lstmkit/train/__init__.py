"""The one training loop every lstmkit task uses, on PyTorch Lightning.

* :class:`TrainConfig` — optimiser (Adam, AdamW, RMSprop, SGD), learning-rate schedule (none,
  cosine, step, reduce-on-plateau), batch size, epochs, early stopping on the validation loss,
  gradient-norm clipping (5.0 by default), checkpoints and resume, seed, devices, precision.
* :func:`fit` — trains a plain ``torch.nn.Module`` against ``loss_fn(model, batch)`` and returns a
  :class:`FitResult` whose :class:`History` holds the mean train/validation loss of every epoch.
* :class:`TaskModule` — the LightningModule underneath, for tasks that want Lightning directly.

Checkpoints (``run_dir/checkpoints/best.ckpt`` and ``last.ckpt``) are Lightning's, i.e. pickles:
``resume`` only accepts checkpoints inside the run directory's own ``checkpoints`` folder and loads
them with ``weights_only=True``. Finished models are saved by the tasks as safetensors, never
pickles. Scaling out is Lightning's: ``TrainConfig(strategy="ddp", devices=N, num_nodes=M)``;
``batch_size`` stays the global batch, split among the processes (:mod:`lstmkit.train.distributed`),
and :func:`is_main_process` tells a script which process prints and writes (rank 0).
"""

from lstmkit._lazy import lazy_attributes
from lstmkit.train.config import OPTIMIZERS, PRECISIONS, SCHEDULES, TrainConfig
from lstmkit.train.distributed import global_rank, is_main_process, world_size
from lstmkit.train.loop import (
    FitResult,
    History,
    TensorRows,
    fit,
    make_loader,
    quiet_lightning,
    seed_everything,
)

# The tasks import ``fit`` and ``History`` at the top; Lightning itself (seconds to import) loads
# only when training starts or one of these Lightning subclasses is asked for.
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "BestWeights": "lstmkit.train._callbacks",
        "HistoryCallback": "lstmkit.train._callbacks",
        "TaskModule": "lstmkit.train.module",
        "build_optimizer": "lstmkit.train.module",
    },
)

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "SCHEDULES",
    "BestWeights",
    "FitResult",
    "History",
    "HistoryCallback",
    "TaskModule",
    "TensorRows",
    "TrainConfig",
    "build_optimizer",
    "fit",
    "global_rank",
    "is_main_process",
    "make_loader",
    "quiet_lightning",
    "seed_everything",
    "world_size",
]
