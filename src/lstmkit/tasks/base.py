"""The lifecycle every task shares: configuration, the fitted check, saving and loading.

A task is one class with one contract::

    task = Task(**config, **lstm_options)   # checked here: a bad option fails before any data
    task.fit(data, ..., seed=0)             # returns the task; seed is a training option
    task.predict(inputs)                    # the task's own output type
    task.evaluate(data)                     # a pandas DataFrame: one row per forecast/model
                                            #   scored ("model" first, then baselines), one
                                            #   column per metric
    task.save(path); Task.load(path)        # a model directory (persistence.py), no pickles

A subclass names its ``TASK`` (the tag in config.json) and ``INIT_KEYS`` (the constructor
arguments config.json keeps, besides ``lstm_options``), and implements four hooks:
``_is_fitted``, ``_state`` (fitted preprocessing as JSON), ``_restore`` (the inverse; it also
builds the networks that the weights load into) and ``_weights`` (the module holding them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.tasks import persistence
from lstmkit.train.distributed import on_main_process

T = TypeVar("T", bound="Task")

# Keys of configs saved by lstmkit 0.1, when they were constructor arguments: read (or ignored)
# by the tasks' _from_config, so not typos.
LEGACY_CONFIG_KEYS = frozenset({"seed", "impl", "recurrent_dropout"})


class Task:
    """Base of every task (see the module docstring for the contract)."""

    TASK: ClassVar[str]
    INIT_KEYS: ClassVar[tuple[str, ...]]
    # Options added after models were saved without them: the value that reproduces how those
    # models were trained and predict (not the new default).
    ADDED_KEYS: ClassVar[dict[str, Any]] = {}
    lstm_options: dict[str, Any]
    net: nn.Module | None  # set by fit (or load); _train_net trains it

    # --- configuration ---------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, as ``type(self)(**config, **config["lstm_options"])``
        (without the ``lstm_options`` key) would take them."""
        config = {k: getattr(self, k) for k in self.INIT_KEYS}
        config["lstm_options"] = dict(self.lstm_options)
        return config

    @classmethod
    def _from_config(cls: type[T], config: dict[str, Any]) -> T:
        """An unfitted task from a saved config (a subclass may map older configs here)."""
        config = {**cls.ADDED_KEYS, **config}
        init = {k: config[k] for k in cls.INIT_KEYS}
        return cls(**init, **dict(config.get("lstm_options") or {}))

    # --- the fitted check ------------------------------------------------------------------------

    def _is_fitted(self) -> bool:
        raise NotImplementedError

    def _require_fitted(self, what: str) -> None:
        if not self._is_fitted():
            raise ConfigError(
                f"{type(self).__name__}.{what} needs a trained model: call fit() or load() first"
            )

    # --- training --------------------------------------------------------------------------------

    def _train_net(self: T, fit: Callable[..., Any], *args: Any) -> T:
        """``self.fit_result = fit(self.net, *args)``; then ``self.history`` and eval mode.

        ``fit`` is the training loop as the task module names it (so a test can swap the
        module's ``fit``). Any error or Ctrl-C mid-training drops ``self.net`` before it reaches
        the caller: no half-trained model is ever used or saved."""
        try:
            self.fit_result = fit(self.net, *args)
        except BaseException:
            self.net = None
            raise
        self.history = self.fit_result.history
        self.net.eval()
        return self

    # --- saving ----------------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        """The fitted state that is not weights, as plain JSON."""
        raise NotImplementedError

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        """Set the fitted state from :meth:`_state`'s JSON and build the (empty) networks that
        :meth:`_weights` returns; KeyError/TypeError/ValueError name a corrupt file."""
        raise NotImplementedError

    def _weights(self) -> nn.Module:
        """The module whose ``state_dict`` is the saved weights."""
        raise NotImplementedError

    def _saved_config(self) -> dict[str, Any]:
        """What config.json holds: :meth:`get_config`, plus whatever a subclass needs to rebuild
        its networks' shapes before the weights load."""
        return self.get_config()

    def _load_weights(self, tensors: dict[str, Any], path: str | os.PathLike[str]) -> None:
        """Fill the networks built by :meth:`_restore` (a subclass may read older layouts)."""
        weights = self._weights()
        persistence.load_weights(weights, tensors, path)
        weights.eval()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to directory ``path`` (config.json, weights.safetensors, state.json), atomically:
        a crash never leaves half a model under ``path``.

        After a DDP ``fit`` every rank holds the same model; only rank 0 writes it, and the other
        ranks return once it is written (:func:`~lstmkit.train.distributed.on_main_process`),
        so call it on every rank, as ``fit``."""
        self._require_fitted("save")
        written = on_main_process(
            lambda: persistence.save_model_dir(
                path,
                task=self.TASK,
                config=self._saved_config(),
                tensors=self._weights().state_dict(),
                state=self._state(),
            ),
            f"the model {os.fspath(path)!r}",
        )
        return written if written is not None else Path(path)

    def export(self, path: str | os.PathLike[str], *, format: str = "onnx") -> Path:
        """Write the network inside :meth:`predict` to file ``path``: ``format="onnx"`` (dynamic
        batch and length; runs with onnxruntime alone) or ``"torch-export"`` (a ``.pt2`` of
        fixed shape). See :func:`lstmkit.export.export_model` and docs/export.md; a task whose
        predict is not one network call (Seq2Seq) raises ConfigError."""
        from lstmkit.export import export_model

        return export_model(self, path, format=format)

    @classmethod
    def load(cls: type[T], path: str | os.PathLike[str]) -> T:
        """Load a model saved by :meth:`save` (on the CPU; no pickles are read)."""
        config, tensors, state = persistence.load_model_dir(path, task=cls.TASK)
        with persistence.config_errors(path):
            model = cls._from_config(config)
        with persistence.state_errors(path, config, state):
            model._restore(state, config)
        model._load_weights(tensors, path)
        # Only now does the model know every key it saves; one it would not save is a typo.
        persistence.check_config_keys(config, {*model._saved_config(), *LEGACY_CONFIG_KEYS}, path)
        return model


def metrics_frame(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """``evaluate``'s return type from ``{row: {metric: value}}``, rows in the given order
    ("model" first by convention), metrics as columns."""
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "scored"
    return frame


__all__ = ["Task", "metrics_frame"]
