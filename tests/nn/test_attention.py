"""Attention modules against float64 formulas written out element by element."""

from __future__ import annotations

import math

import pytest
import torch

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn.attention import AdditiveAttention, MultiplicativeAttention


def _inputs(batch=3, steps=5, q=4, k=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    query = torch.randn(batch, q, generator=gen, dtype=torch.float64)
    keys = torch.randn(batch, steps, k, generator=gen, dtype=torch.float64)
    mask = torch.ones(batch, steps, dtype=torch.bool)
    mask[1, 3:] = False
    if batch > 2:
        mask[2, 1:] = False
    return query, keys, mask


def _softmax_by_hand(scores, valid):
    """Softmax over the valid positions of one row, zeros elsewhere."""
    exps = [math.exp(s) if ok else 0.0 for s, ok in zip(scores, valid, strict=True)]
    total = sum(exps)
    return [e / total for e in exps]


def _reference(score_fn, query, keys, mask):
    batch, steps, k = keys.shape
    contexts, weights = [], []
    for b in range(batch):
        scores = [score_fn(query[b], keys[b, s]) for s in range(steps)]
        w = _softmax_by_hand(scores, mask[b].tolist())
        weights.append(w)
        contexts.append([sum(w[s] * float(keys[b, s, j]) for s in range(steps)) for j in range(k)])
    return torch.tensor(contexts, dtype=torch.float64), torch.tensor(weights, dtype=torch.float64)


def test_additive_matches_formula():
    query, keys, mask = _inputs()
    attn = AdditiveAttention(4, 6, 7).double()
    W, U = attn.query_proj.weight, attn.key_proj.weight
    bias, v = attn.key_proj.bias, attn.v.weight[0]

    def score(q, k):
        return float((v @ torch.tanh(W @ q + U @ k + bias)).detach())

    context, weights = attn(query, keys, mask)
    ref_context, ref_weights = _reference(score, query, keys, mask)
    torch.testing.assert_close(weights, ref_weights, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(context, ref_context, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scaled", [False, True])
def test_general_matches_formula(scaled):
    query, keys, mask = _inputs()
    attn = MultiplicativeAttention(4, 6, "general", scaled=scaled).double()
    W = attn.key_proj.weight  # (Q, K)

    def score(q, k):
        s = float((q @ W @ k).detach())
        return s / math.sqrt(4) if scaled else s

    context, weights = attn(query, keys, mask)
    ref_context, ref_weights = _reference(score, query, keys, mask)
    torch.testing.assert_close(weights, ref_weights, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(context, ref_context, rtol=1e-12, atol=1e-12)


def test_dot_matches_formula():
    query, keys, mask = _inputs(q=6, k=6)
    attn = MultiplicativeAttention(6, 6, "dot")
    assert list(attn.parameters()) == []
    context, weights = attn(query, keys, mask)
    ref_context, ref_weights = _reference(lambda q, k: float(q @ k), query, keys, mask)
    torch.testing.assert_close(weights, ref_weights, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(context, ref_context, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AdditiveAttention(4, 6, 5),
        lambda: MultiplicativeAttention(4, 6, "general"),
        lambda: MultiplicativeAttention(6, 6, "dot"),
    ],
)
def test_masked_positions_get_exactly_zero_and_rows_sum_to_one(make):
    attn = make().double()
    query, keys, mask = _inputs(q=attn.query_size, k=6)
    # huge values behind the mask must not leak into the context
    keys = keys.masked_fill(~mask.unsqueeze(2), 1e6)
    context, weights = attn(query, keys, mask)
    assert torch.all(weights[~mask] == 0.0)
    torch.testing.assert_close(weights.sum(1), torch.ones(3, dtype=torch.float64))
    assert context.abs().max() < 100
    # the single-position row attends only there
    assert weights[2, 0] == 1.0
    torch.testing.assert_close(context[2], keys[2, 0])


@pytest.mark.parametrize(
    "make",
    [lambda: AdditiveAttention(4, 6, 5), lambda: MultiplicativeAttention(4, 6, "general")],
)
def test_precomputed_keys_give_the_same_result(make):
    attn = make().double()
    query, keys, mask = _inputs()
    projected = attn.project_keys(keys)
    a = attn(query, keys, mask)
    b = attn(query, keys, mask, projected=projected)
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
    torch.testing.assert_close(a[1], b[1], rtol=0, atol=0)


def test_no_mask_equals_all_true_mask():
    attn = AdditiveAttention(4, 6, 5).double()
    query, keys, _ = _inputs()
    full = torch.ones(keys.shape[:2], dtype=torch.bool)
    torch.testing.assert_close(attn(query, keys)[1], attn(query, keys, full)[1])


@pytest.mark.parametrize(
    "make",
    [
        lambda: AdditiveAttention(4, 6, 5),
        lambda: MultiplicativeAttention(4, 6, "general", scaled=True),
    ],
)
def test_gradcheck(make):
    attn = make().double()
    query, keys, mask = _inputs(batch=2, steps=4)
    mask[1, 2:] = False
    query.requires_grad_(True)
    keys.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q, k: attn(q, k, mask), (query, keys))
    # and with respect to the parameters
    names = [name for name, _ in attn.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for _, p in attn.named_parameters())

    def run(*values):
        state = dict(zip(names, values, strict=True))
        return torch.func.functional_call(attn, state, (query.detach(), keys.detach(), mask))

    assert torch.autograd.gradcheck(run, params)


def test_shape_and_mask_errors():
    attn = AdditiveAttention(4, 6, 5)
    q, k = torch.randn(2, 4), torch.randn(2, 3, 6)
    with pytest.raises(ShapeError, match=r"query must have shape \(batch, 4\), got \(2, 5\)"):
        attn(torch.randn(2, 5), k)
    with pytest.raises(ShapeError, match=r"keys must have shape \(2, steps, 6\), got \(2, 3, 7\)"):
        attn(q, torch.randn(2, 3, 7))
    with pytest.raises(ShapeError, match="mask must be a bool tensor of shape"):
        attn(q, k, torch.ones(2, 3))
    bad = torch.tensor([[True, True, False], [False, False, False]])
    with pytest.raises(ShapeError, match="mask row 1 has no unmasked position"):
        attn(q, k, bad)


def test_config_errors():
    with pytest.raises(ConfigError, match="attn_size must be a positive int, got 0"):
        AdditiveAttention(4, 6, 0)
    with pytest.raises(ConfigError, match="kind must be one of 'general', 'dot', got 'concat'"):
        MultiplicativeAttention(4, 6, "concat")
    with pytest.raises(
        ConfigError, match="dot attention needs query_size == key_size, got 4 and 6"
    ):
        MultiplicativeAttention(4, 6, "dot")
