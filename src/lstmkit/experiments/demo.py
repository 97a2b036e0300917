"""The demo: an LSTM and a vanilla RNN of the same size, the same time on the adding problem.

Both see fresh batches from the same seeded stream for the same time budget (Adam, gradient norm
clipping, MSE at the sequence end; the learning rate drops tenfold once a model solves the
validation set, so that Adam's noise does not undo the precision), then are scored on one held-out
test set. The budget is counted in CPU time of this process, on one thread: on an idle machine that
is the wall-clock time, and on a busy one each model still gets the same computation (the demo then
takes longer).

The adding problem with T = 50 puts at least 25 steps between the second marked value and the end,
which a vanilla RNN's vanishing gradient does not bridge in that time, and an LSTM's cell does.

Sequences here all have length exactly T (``variable_length=False``, see
:mod:`lstmkit.experiments.adding`), so the plain LSTM runs on the native (oneDNN) engine.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

from lstmkit._checks import positive_int
from lstmkit.errors import ConfigError
from lstmkit.experiments.adding import SOLVED_ERROR, adding_problem, solved_share
from lstmkit.nn import LSTM, RNN

log = logging.getLogger(__name__)

TEST_SEED_OFFSET = 1_000_003  # the test set's seed is the demo's seed plus this
VALIDATION_SEED_OFFSET = 2_000_003
VALIDATION_SIZE = 512
CHECK_EVERY = 100  # steps between scores on the validation set, for "solved after"
SOLVED_SHARE = 0.99  # the problem counts as solved when this share of sequences is solved
SETTLE_LR_FACTOR = 0.1  # the learning rate is cut to this once the validation set is solved


class SequenceRegressor(nn.Module):
    """A recurrent layer read at its last step through a linear layer to one number."""

    def __init__(self, layer: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.rnn = layer
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: Tensor) -> Tensor:  # x: (B, T, 2) -> (B,)
        _, state = self.rnn(x)
        h_n = state[0] if isinstance(state, tuple) else state  # (layers, B, H)
        return self.head(h_n[-1]).squeeze(-1)


@dataclass
class ModelResult:
    """One trained model's scores on the test set."""

    model: str
    test_mse: float
    solved: float  # share of test sequences with |error| < SOLVED_ERROR
    train_seconds: float  # CPU time of the training loop (the budget's clock)
    wall_seconds: float  # wall-clock time of the training loop
    sequences_seen: int
    steps: int
    # The first validation check (every CHECK_EVERY steps) with a solved share >= SOLVED_SHARE:
    solved_after_steps: int | None
    solved_after_s: float | None  # CPU seconds


@dataclass
class DemoResult:
    seq_len: int
    hidden_size: int
    seed: int
    test_size: int
    baseline_mse: float  # test MSE of always predicting the targets' mean, 0.5
    results: list[ModelResult] = field(default_factory=list)

    def by_model(self, name: str) -> ModelResult:
        return next(r for r in self.results if r.model == name)

    @property
    def lstm_wins(self) -> bool:
        """The LSTM solved the problem (>= 99 % within tolerance) and the RNN did not."""
        lstm, rnn = self.by_model("LSTM"), self.by_model("RNN")
        return lstm.solved >= SOLVED_SHARE and rnn.solved < SOLVED_SHARE

    def to_dict(self) -> dict:
        return asdict(self)


def _evaluate(model: nn.Module, inputs: Tensor, targets: Tensor) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        predictions = model(inputs)
    model.train()
    return float(((predictions - targets) ** 2).mean()), solved_share(predictions, targets)


def train_for(
    model: nn.Module,
    name: str,
    *,
    seconds: float,
    seq_len: int,
    batch_size: int,
    lr: float,
    clip: float,
    seed: int,
    test: tuple[Tensor, Tensor],
    validation: tuple[Tensor, Tensor],
    max_steps: int | None = None,
) -> ModelResult:
    """Train ``model`` for ``seconds`` of CPU time (or ``max_steps``) and score it on ``test``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    stream = torch.Generator().manual_seed(seed)
    model.train()
    steps = 0
    solved_after: tuple[int, float] | None = None
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    cpu = 0.0
    while cpu < seconds and (max_steps is None or steps < max_steps):
        batch = adding_problem(batch_size, seq_len, generator=stream, variable_length=False)
        loss = ((model(batch.inputs) - batch.targets) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        steps += 1
        cpu = time.process_time() - cpu_start
        if solved_after is None and steps % CHECK_EVERY == 0:
            _, share = _evaluate(model, *validation)
            if share >= SOLVED_SHARE:
                solved_after = (steps, cpu)
                log.info("%s: solved the validation set after %d steps, %.1f s", name, steps, cpu)
                for group in optimizer.param_groups:  # settle: less noise from here on
                    group["lr"] = lr * SETTLE_LR_FACTOR
    wall = time.perf_counter() - wall_start
    mse, share = _evaluate(model, *test)
    return ModelResult(
        name,
        mse,
        share,
        cpu,
        wall,
        steps * batch_size,
        steps,
        None if solved_after is None else solved_after[0],
        None if solved_after is None else solved_after[1],
    )


def run_demo(
    seconds: float = 30.0,
    seq_len: int = 50,
    hidden_size: int = 64,
    seed: int = 0,
    *,
    batch_size: int = 16,
    lr: float = 3e-3,
    clip: float = 1.0,
    forget_bias: float = 3.0,
    test_size: int = 2000,
    max_steps: int | None = None,
    threads: int | None = 1,
) -> DemoResult:
    """Train an LSTM and a vanilla tanh RNN on the adding problem, ``seconds`` of CPU time each.

    Returns the test MSE, the share of test sequences with ``|error| < 0.04``, the training time
    and the number of training sequences each model saw, and the baseline MSE of predicting the
    mean (the test targets' variance about the training stream's mean, 0.5).

    ``forget_bias`` initialises the LSTM's forget gate bias: at 3 a fresh cell keeps about 95 % of
    its content per step, so gradients reach the first marked value 40 steps back from the start
    (with torch's 0, or 1, the LSTM often sits on the baseline for thousands of steps first).

    ``max_steps`` also stops each model after that many optimiser steps (a run that ends by steps
    is deterministic for a seed). ``threads`` is torch's thread count while the demo runs (the
    previous count is restored): one thread is the fastest for a model this small and suffers
    least on a busy machine; None keeps torch's setting.
    """
    if seconds <= 0:
        raise ConfigError(f"seconds must be > 0, got {seconds!r}")
    positive_int("hidden_size", hidden_size)
    test_batch = adding_problem(
        test_size, seq_len, seed=seed + TEST_SEED_OFFSET, variable_length=False
    )
    validation_batch = adding_problem(
        VALIDATION_SIZE, seq_len, seed=seed + VALIDATION_SEED_OFFSET, variable_length=False
    )
    test = (test_batch.inputs, test_batch.targets)
    validation = (validation_batch.inputs, validation_batch.targets)
    baseline = float(((test_batch.targets - 0.5) ** 2).mean())
    result = DemoResult(seq_len, hidden_size, seed, test_size, baseline)

    layers = {
        "LSTM": lambda: LSTM(2, hidden_size, batch_first=True, forget_bias=forget_bias),
        "RNN": lambda: RNN(2, hidden_size, nonlinearity="tanh", batch_first=True),
    }
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        for name, make in layers.items():
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = SequenceRegressor(make(), hidden_size)
            log.info("training the %s (hidden size %d) for %.0f s", name, hidden_size, seconds)
            result.results.append(
                train_for(
                    model,
                    name,
                    seconds=seconds,
                    seq_len=seq_len,
                    batch_size=batch_size,
                    lr=lr,
                    clip=clip,
                    seed=seed,
                    test=test,
                    validation=validation,
                    max_steps=max_steps,
                )
            )
    finally:
        torch.set_num_threads(previous_threads)
    return result


__all__ = ["SOLVED_ERROR", "DemoResult", "ModelResult", "SequenceRegressor", "run_demo"]
