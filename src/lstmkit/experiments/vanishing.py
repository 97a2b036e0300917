"""The vanishing gradient of fresh models on the adding problem, drawn (the experiments' side of
:mod:`lstmkit.viz.gradient_flow`, which knows nothing of the experiments)."""

from __future__ import annotations

import os

import torch

from lstmkit.experiments.adding import adding_problem
from lstmkit.experiments.models import MODEL_LABELS, SequenceModel
from lstmkit.viz.gradient_flow import GradientFlow, model_gradient_flow, plot_gradient_flow


def vanishing_gradient_plot(
    path: str | os.PathLike[str],
    *,
    T: int = 100,
    hidden_size: int = 32,
    seed: int = 0,
    models: tuple[str, ...] = ("lstm", "lstm-nofg", "rnn"),
) -> dict[str, GradientFlow]:
    """Fresh (untrained) models on one adding-problem sequence of length ``T``: draw and return
    their gradient flows. Weights are seeded with ``seed``; the loss is the squared error at the
    end.
    """
    batch = adding_problem(1, T, seed=seed, variable_length=False)
    flows: dict[str, GradientFlow] = {}
    for kind in models:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = SequenceModel(kind, 2, hidden_size, 1, "last")
        flows[MODEL_LABELS.get(kind, kind)] = model_gradient_flow(
            model, batch.inputs, lambda out: ((out.squeeze(-1) - batch.targets) ** 2).mean()
        )
    plot_gradient_flow(
        flows, path, title=f"Fresh models, adding problem T={T}: how far back the gradient reaches"
    )
    return flows


__all__ = ["vanishing_gradient_plot"]
