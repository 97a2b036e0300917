"""The classifier's ensemble of seeds: how many members a fit trains, and how their outputs and
weights combine.

On a small training set one network's test accuracy moves by 10+ points from seed to seed (the
initial weights and batch order decide which of many equally good training fits it lands on);
the mean of a few members' probabilities moves far less. Member ``k`` is trained with seed
:func:`member_seed` ``(seed, k)`` on the same preprocessing, so member 0 is the single model a fit
of one trains.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.tasks.classify.inputs import AUTO_HOLDOUT_MIN

# Members that ensemble="auto" trains on small numeric training sets (chosen by the benchmark:
# docs/sequence-classification.md, "Ensemble of seeds").
AUTO_MEMBERS = 5
# Member k's seed is seed + k * MEMBER_SEED_STRIDE, not seed + k: with seed + k the fits of seeds
# 0 and 1 shared four of their five members, so comparing them (a benchmark's seed spread) said
# little about how much a user's result depends on the seed.
MEMBER_SEED_STRIDE = 10_007


def member_seed(seed: int, k: int) -> int:
    """The seed of ensemble member ``k`` of a fit with ``seed`` (member 0: ``seed`` itself)."""
    return seed + k * MEMBER_SEED_STRIDE


def check_ensemble(value: Any) -> int | str:
    """``"auto"`` or an int >= 1 (a bool is not a count)."""
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(
            f"ensemble must be 'auto' or a number of members >= 1 (an int), got {value!r}"
        )
    return int(value)


def ensemble_size(ensemble: int | str, *, numeric: bool, has_val: bool, n_train: int) -> int:
    """The members a fit trains: an int as given; ``"auto"``: :data:`AUTO_MEMBERS` for numeric
    sequences in the small-data regime (fewer than ``AUTO_HOLDOUT_MIN`` examples and no
    explicit validation data, where one network is at the mercy of its seed and a fit is
    cheap), otherwise 1 (texts, and large sets that early stopping already steadies)."""
    if ensemble != "auto":
        return int(ensemble)
    return AUTO_MEMBERS if numeric and not has_val and n_train < AUTO_HOLDOUT_MIN else 1


def members_module(nets: list[nn.Module]) -> nn.Module:
    """What the weights file holds: one network's tensors at the top level (the layout of every
    model saved before ensembles, kept for one member), or ``members.k.*`` for several."""
    if len(nets) == 1:
        return nets[0]
    return nn.ModuleDict({"members": nn.ModuleList(nets)})


def mean_arrays(per_member: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Element-wise mean over members of matching lists of arrays (one list per member)."""
    if len(per_member) == 1:
        return per_member[0]
    return [np.mean(parts, axis=0) for parts in zip(*per_member, strict=True)]


__all__ = ["AUTO_MEMBERS", "check_ensemble", "ensemble_size", "members_module", "mean_arrays"]
