"""The adding problem generator against its definition (Hochreiter & Schmidhuber, 1997)."""

import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.experiments.adding import (
    SOLVED_ERROR,
    TARGET_VARIANCE,
    adding_problem,
    solved_share,
)


@pytest.mark.parametrize("T", [11, 20, 50, 101])
@pytest.mark.parametrize("variable_length", [False, True])
def test_sequences_follow_the_definition(T, variable_length):
    n = 4000
    batch = adding_problem(n, T, seed=3, variable_length=variable_length)
    x, y, lengths, marked = batch.inputs, batch.targets, batch.lengths, batch.marked
    steps = T + T // 10 if variable_length else T
    assert x.shape == (n, steps, 2) and x.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == torch.float32
    assert lengths.shape == (n,) and lengths.dtype == torch.int64
    if variable_length:
        assert int(lengths.min()) == T and int(lengths.max()) == T + T // 10
    else:
        assert bool((lengths == T).all())

    values, markers = x[..., 0], x[..., 1]
    rows = torch.arange(n)
    inside = torch.arange(steps) < lengths[:, None]
    # Values uniform in [-1, 1) inside each sequence, zeros (both components) past its end.
    assert float(values.min()) >= -1.0 and float(values.max()) < 1.0
    assert float(values[inside].min()) < -0.99 and float(values[inside].max()) > 0.99
    assert bool((x[~inside] == 0).all())
    # Markers: exactly two 1.0; -1.0 at the first and the final pair unless marked; 0 elsewhere.
    assert bool(((markers == 1.0).sum(1) == 2).all())
    first, second = marked[:, 0], marked[:, 1]
    assert bool((markers[rows, first] == 1).all()) and bool((markers[rows, second] == 1).all())
    assert bool((first != second).all())
    assert set(first.tolist()) == set(range(10))  # uniform over the first ten pairs
    candidates = set(range(T // 2))  # the first T//2 - 1 unmarked pairs: {0..T//2-1} minus X1's
    assert set(second.tolist()) <= candidates
    assert len(set(second.tolist())) == T // 2
    for p, q in zip(first.tolist()[:200], second.tolist()[:200], strict=True):
        assert q != p and q < T // 2
    assert bool((markers[rows, lengths - 1] == -1).all())
    unmarked_first = first != 0
    first_pair_is_second = second == 0
    assert bool((markers[unmarked_first & ~first_pair_is_second, 0] == -1).all())
    others = inside.clone()
    others[rows, first] = others[rows, second] = False
    others[:, 0] = False
    others[rows, lengths - 1] = False
    assert bool((markers[others] == 0).all())
    # X1 is set to zero when it is the first pair; the target is 0.5 + (X1 + X2) / 4.
    assert bool((values[first == 0, 0] == 0).all())
    x1, x2 = values[rows, first], values[rows, second]
    torch.testing.assert_close(y, 0.5 + (x1 + x2) / 4.0, rtol=0, atol=0)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_target_statistics_match_the_documented_variance():
    y = adding_problem(200_000, 20, seed=0, variable_length=False).targets.double()
    assert abs(float(y.mean()) - 0.5) < 0.002
    assert abs(float(y.var()) - TARGET_VARIANCE) < 0.0015
    assert abs(TARGET_VARIANCE - 0.0395833) < 1e-6


def test_same_seed_same_sequences_and_generators_stream():
    a = adding_problem(64, 30, seed=7)
    b = adding_problem(64, 30, seed=7)
    c = adding_problem(64, 30, seed=8)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.inputs, c.inputs)
    g = torch.Generator().manual_seed(7)
    first = adding_problem(64, 30, generator=g)
    again = adding_problem(64, 30, generator=g)
    assert torch.equal(first.inputs, a.inputs)
    assert not torch.equal(again.inputs, first.inputs)


def test_float64_on_request():
    batch = adding_problem(8, 20, seed=0, dtype=torch.float64)
    assert batch.inputs.dtype == batch.targets.dtype == torch.float64


def test_solved_share_counts_errors_below_the_tolerance():
    targets = torch.tensor([0.5, 0.5, 0.5, 0.5])
    predictions = targets + torch.tensor([0.0, SOLVED_ERROR - 1e-3, SOLVED_ERROR + 1e-3, -0.5])
    assert solved_share(predictions, targets) == 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_sequences": 0, "T": 20}, "num_sequences must be a positive int, got 0"),
        ({"num_sequences": 4, "T": 10}, "T must be an int >= 11, got 10"),
        (
            {"num_sequences": 4, "T": 20, "seed": 1, "generator": torch.Generator()},
            "pass seed or generator, not both",
        ),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        adding_problem(**kwargs)
