"""Next-token sampling: temperature, top-k, nucleus, seeds and bad options."""

from __future__ import annotations

import math

import pytest
import torch

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.tasks.language_model.sampling import filter_logits, sample_next

PROBS = torch.tensor([0.05, 0.4, 0.1, 0.3, 0.15], dtype=torch.float64)
LOGITS = PROBS.log()


def test_top_k_keeps_exactly_k():
    for k in range(1, 6):
        kept = torch.isfinite(filter_logits(LOGITS, top_k=k))
        assert int(kept.sum()) == k
        assert set(kept.nonzero().flatten().tolist()) == set(
            PROBS.argsort(descending=True)[:k].tolist()
        )
    assert torch.equal(filter_logits(LOGITS, top_k=50), LOGITS)


@pytest.mark.parametrize(
    "p,expected",
    [
        (0.3, {1}),
        (0.399, {1}),
        (0.41, {1, 3}),
        (0.699, {1, 3}),
        (0.71, {1, 3, 4}),
        (0.95, {1, 2, 3, 4}),
        (0.96, {0, 1, 2, 3, 4}),
        (1.0, {0, 1, 2, 3, 4}),
    ],
)
def test_nucleus_keeps_the_smallest_set_with_mass_at_least_p(p, expected):
    kept = torch.isfinite(filter_logits(LOGITS, top_p=p)).nonzero().flatten().tolist()
    assert set(kept) == expected
    assert float(PROBS[kept].sum()) >= p - 1e-12


def test_top_k_then_nucleus_on_the_renormalised_rest():
    # top-2 leaves {1: 0.4, 3: 0.3} -> renormalised 4/7, 3/7; p=0.5 keeps only token 1
    kept = torch.isfinite(filter_logits(LOGITS, top_k=2, top_p=0.5)).nonzero().flatten()
    assert kept.tolist() == [1]


def test_batched_filtering_is_per_row():
    logits = torch.stack([LOGITS, LOGITS.flip(0)])
    out = filter_logits(logits, top_k=1)
    assert torch.isfinite(out).sum(dim=1).tolist() == [1, 1]
    assert out.argmax(dim=1).tolist() == [1, 3]


def test_temperature_zero_and_near_zero_are_argmax():
    assert int(sample_next(LOGITS, temperature=0)) == 1
    gen = torch.Generator().manual_seed(0)
    draws = {int(sample_next(LOGITS, temperature=1e-6, generator=gen)) for _ in range(50)}
    assert draws == {1}
    assert sample_next(torch.stack([LOGITS, LOGITS.flip(0)]), temperature=0).tolist() == [1, 3]


def test_sampling_follows_the_distribution_and_is_reproducible():
    gen = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_next(LOGITS, generator=gen) for _ in range(4000)])
    freq = torch.bincount(draws, minlength=5).double() / 4000
    torch.testing.assert_close(freq, PROBS, atol=0.03, rtol=0)
    a = [
        int(sample_next(LOGITS, top_p=0.9, generator=torch.Generator().manual_seed(3)))
        for _ in range(5)
    ]
    b = [
        int(sample_next(LOGITS, top_p=0.9, generator=torch.Generator().manual_seed(3)))
        for _ in range(5)
    ]
    assert a == b
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    seq1 = [int(sample_next(LOGITS, temperature=1.5, generator=g1)) for _ in range(30)]
    seq2 = [int(sample_next(LOGITS, temperature=1.5, generator=g2)) for _ in range(30)]
    assert seq1 == seq2 and len(set(seq1)) > 1


def test_high_temperature_flattens():
    gen = torch.Generator().manual_seed(1)
    draws = torch.stack(
        [sample_next(LOGITS, temperature=100.0, generator=gen) for _ in range(3000)]
    )
    freq = torch.bincount(draws, minlength=5).double() / 3000
    assert float(freq.min()) > 0.15  # close to uniform (0.2 each)
    assert not math.isnan(float(freq.sum()))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"temperature": -1.0}, r"temperature must be a finite number >= 0 .*got -1.0"),
        ({"temperature": float("nan")}, r"temperature must be a finite number >= 0 .*got nan"),
        ({"top_k": 0}, r"top_k must be a positive int or None, got 0"),
        ({"top_k": 2.5}, r"top_k must be a positive int or None, got 2.5"),
        ({"top_p": 0.0}, r"top_p must be a number in \(0, 1\] or None, got 0.0"),
        ({"top_p": 1.5}, r"top_p must be a number in \(0, 1\] or None, got 1.5"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        sample_next(LOGITS, **kwargs)


def test_bad_logits():
    with pytest.raises(ShapeError, match=r"logits must be a \(V,\) or \(B, V\) tensor"):
        sample_next(torch.zeros(2, 3, 4))
    with pytest.raises(ShapeError, match="logits must be floating point"):
        sample_next(torch.tensor([1, 2]))
