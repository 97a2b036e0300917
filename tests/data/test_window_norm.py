"""Window normalisation round-trips exactly; the log transform is chosen for growing swings."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.data.window_norm import (
    WINDOW_NORMS,
    denormalise,
    normalise,
    wants_log,
    window_stats,
)
from lstmkit.errors import ConfigError


@pytest.mark.parametrize("kind", WINDOW_NORMS)
def test_normalise_then_denormalise_gives_the_values_back(kind):
    rng = np.random.default_rng(0)
    past = rng.normal(50, 10, size=(7, 12, 2))
    future = rng.normal(50, 10, size=(7, 4, 2))
    level, spread = window_stats(past, kind)
    assert level.shape == spread.shape == (7, 1, 2)
    np.testing.assert_allclose(denormalise(normalise(future, level, spread), level, spread), future)
    # with a trailing quantile axis too
    quantiles = np.stack([future - 1, future, future + 1], -1)
    back = denormalise(
        normalise(future, level, spread)[..., None] + [[-1, 0, 1]] / spread[..., None],
        level,
        spread,
    )
    np.testing.assert_allclose(back, quantiles)


def test_each_kind_removes_what_it_says():
    past = np.array([[[1.0], [2.0], [3.0], [6.0]]])  # (1, 4, 1)
    level, spread = window_stats(past, "last")
    assert level.item() == 6.0 and spread.item() == 1.0
    level, spread = window_stats(past, "mean")
    assert level.item() == 3.0 and spread.item() == 1.0
    level, spread = window_stats(past, "revin")
    assert level.item() == 3.0 and spread.item() == pytest.approx(np.std([1, 2, 3, 6]))
    level, spread = window_stats(past, "none")
    assert level.item() == 0.0 and spread.item() == 1.0
    # a flat window is not blown up
    _, spread = window_stats(np.ones((1, 5, 1)), "revin")
    assert spread.item() == pytest.approx(1e-3)


def test_a_trend_leaves_the_normalised_window_unchanged():
    t = np.arange(20.0)
    low = window_stats(t[None, :, None], "last")
    high = window_stats(t[None, :, None] + 1000, "last")
    np.testing.assert_allclose(
        normalise(t[None, :, None], *low), normalise(t[None, :, None] + 1000, *high)
    )


def test_unknown_kind_is_named():
    with pytest.raises(ConfigError, match="window_norm must be one of 'last', .* got 'max'"):
        window_stats(np.zeros((1, 2, 1)), "max")


def test_log_is_wanted_when_swings_grow_with_the_level():
    t = np.arange(144)
    level = 100 * np.exp(0.01 * t)
    multiplicative = level * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    additive = level + 20 * np.sin(2 * np.pi * t / 12)
    assert wants_log(multiplicative, 12)
    assert not wants_log(additive, 12)
    assert not wants_log(multiplicative - 200, 12)  # not all positive
    assert not wants_log(multiplicative[:10], 12)  # too short to tell
