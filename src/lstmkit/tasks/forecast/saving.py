"""The :class:`~lstmkit.tasks.forecast.task.Forecaster`'s saved state: what goes into
``config.json``, ``state.json`` and ``weights.safetensors``, and back."""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from lstmkit.data import scaler_from_dict
from lstmkit.errors import ConfigError
from lstmkit.tasks import persistence
from lstmkit.tasks.forecast.net import ForecastNet
from lstmkit.train import History


class Saving:
    """Save and load hooks of the :class:`~lstmkit.tasks.forecast.task.Forecaster` (the
    lifecycle itself is :class:`lstmkit.tasks.base.Task`'s)."""

    def _members_module(self) -> torch.nn.Module:
        """The ensemble as one module, for one safetensors file: ``members.k.*`` (what predict
        uses) and, after a refit, ``holdout.k.*`` (what evaluate uses)."""
        parts = {"members": torch.nn.ModuleList(self.nets)}
        if self.holdout_nets and self.holdout_nets[0] is not self.nets[0]:
            parts["holdout"] = torch.nn.ModuleList(self.holdout_nets)
        return torch.nn.ModuleDict(parts)

    def _state(self) -> dict[str, Any]:
        return {
            "target_scaler": self._target_scaler.to_dict() if self._target_scaler else None,
            "covariate_scaler": self._covariate_scaler.to_dict()
            if self._covariate_scaler
            else None,
            "history": self.history.to_dict() if self.history else None,
            "log_targets": list(self.log_targets),
            "epochs": list(self.epochs),
            "selection": dict(self.selection),
            "smoothers": self.smoothers,
        }

    def _saved_config(self) -> dict[str, Any]:
        cols = self.columns
        assert cols is not None
        n_inputs = sum(len(cols[k]) for k in ("targets", "past_covariates", "future_covariates"))
        return {**self.get_config(), "columns": cols, "n_inputs": n_inputs}

    def _weights(self) -> nn.Module:
        return self._members_module()

    def _empty_net(self, n_inputs: int) -> ForecastNet:
        """A network with uninitialised weights, for :meth:`load` to fill (building on the meta
        device skips the initialisers, which cost more than the load itself)."""
        with torch.device("meta"):
            net = self._build_net(n_inputs)
        return net.to_empty(device="cpu")

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> Any:
        # A model saved before ensembles (lstmkit 0.1: one network, no window normalisation)
        # loads as an ensemble of one.
        legacy: dict[str, Any] = {}
        if "ensemble" not in config:
            legacy = {"model": "lstm", "window_norm": "none", "transform": "none"}
            legacy.update(ensemble=1, refit=False)
        config = {**cls.ADDED_KEYS, **config}
        init = {k: legacy[k] if k in legacy else config[k] for k in cls.INIT_KEYS}
        for key in ("lookback", "season"):  # None means "choose" before fit, never after
            if init.get(key) is None:
                raise ConfigError(f"{key!r} is null; a trained model's config gives an int >= 1")
        return cls(**init, **dict(config.get("lstm_options") or {}))

    def _restore(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        self.columns = dict(config["columns"])
        n_inputs = int(config["n_inputs"])
        self._target_scaler = _scaler(state.get("target_scaler"))
        self._covariate_scaler = _scaler(state.get("covariate_scaler"))
        self.history = History.from_dict(state["history"]) if state.get("history") else None
        n_targets = len(self.columns["targets"])
        self.log_targets = [bool(v) for v in state.get("log_targets", [False] * n_targets)]
        if len(self.log_targets) != n_targets:
            raise ConfigError(
                f"state.json: log_targets has {len(self.log_targets)} entries for "
                f"{n_targets} target columns"
            )
        self.epochs = [int(v) for v in state.get("epochs", [])]
        self.selection = {str(k): float(v) for k, v in state.get("selection", {}).items()}
        self.smoothers = dict(state.get("smoothers") or {})
        n_nets = 0 if self.model == "ets" else self.ensemble
        self.nets = [self._empty_net(n_inputs) for _ in range(n_nets)]
        self.holdout_nets = self.nets
        self._legacy = "ensemble" not in config
        if not self._legacy and self.refit and self.model != "ets":
            self.holdout_nets = [self._empty_net(n_inputs) for _ in range(n_nets)]

    def _load_weights(self, tensors: dict[str, Any], path: str | os.PathLike[str]) -> None:
        if not self._legacy and not any(k.startswith("holdout.") for k in tensors):
            self.holdout_nets = self.nets
        module = self.nets[0] if self._legacy else self._members_module()
        persistence.load_weights(module, tensors, path)
        for net in {id(n): n for n in [*self.nets, *self.holdout_nets]}.values():
            net.eval()


def _scaler(saved: Any) -> Any:
    return None if saved is None else scaler_from_dict(saved)
