"""GRU-D-style input decay (Che et al. 2018, "Recurrent neural networks for multivariate time
series with missing values", Sci. Rep. 8:6085): a value that was not observed at a step decays
from the channel's last observation toward its mean, the faster the longer ago it was seen.

Per channel ``d``, with ``m`` the observed mask (1 observed, 0 missing), ``x_last`` the last
observed value (the value itself where observed), ``δ`` the time since the previous observation
and ``x̄`` the channel's training mean::

    γ = exp(-max(0, w_d · δ + b_d))
    x̂ = m · x_last + (1 - m) · (γ · x_last + (1 - γ) · x̄)

``w`` and ``b`` are learned, one each per channel (GRU-D's diagonal input decay). GRU-D's
hidden-state decay acts inside the recurrent loop, between steps:
:class:`lstmkit.nn.HiddenDecay`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError


class InputDecay(nn.Module):
    """``(x_last, m, delta) -> x̂``, all ``(..., F)``; see the module docstring.

    Args:
        n_features: channels ``F``.
        mean: the channels' mean ``x̄`` (default 0: the training mean of standardised data).
        init_weight: the initial ``w`` of every channel (``b`` starts at 0). It is positive so
            that ``w δ + b > 0`` where ``δ > 0`` and the decay gets a gradient from the start.
    """

    def __init__(
        self, n_features: int, mean: Tensor | None = None, init_weight: float = 0.1
    ) -> None:
        super().__init__()
        self.n_features = positive_int("n_features", n_features)
        self.weight = nn.Parameter(torch.full((n_features,), float(init_weight)))
        self.bias = nn.Parameter(torch.zeros(n_features))
        if mean is None:
            mean = torch.zeros(n_features)
        mean = torch.as_tensor(mean).reshape(-1)
        if not mean.is_floating_point():
            mean = mean.to(torch.get_default_dtype())
        if mean.numel() != n_features:
            raise ConfigError(f"mean has {mean.numel()} values, expected n_features={n_features}")
        self.register_buffer("mean", mean)

    def gamma(self, delta: Tensor) -> Tensor:
        """The decay factor ``γ = exp(-max(0, w δ + b))`` in (0, 1]."""
        return torch.exp(-torch.relu(delta * self.weight + self.bias))

    def forward(self, x_last: Tensor, m: Tensor, delta: Tensor) -> Tensor:
        g = self.gamma(delta)
        return m * x_last + (1 - m) * (g * x_last + (1 - g) * self.mean)

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}"


__all__ = ["InputDecay"]
