"""AWD-LSTM regularisers: embedding dropout, locked dropout, DropConnect (WeightDrop), AR/TAR."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn import LSTM
from lstmkit.nn.regularization import (
    LockedDropout,
    WeightDrop,
    activation_regularization,
    embedding_dropout,
    recurrent_weight_names,
    temporal_activation_regularization,
)


def test_embedding_dropout_drops_whole_word_types_and_keeps_the_expectation():
    torch.manual_seed(0)
    emb = nn.Embedding(50, 8).double()
    ids = torch.tensor([[3, 7, 3, 9, 7, 3]])
    gen = torch.Generator().manual_seed(1)
    out = embedding_dropout(emb, ids, 0.5, True, generator=gen)
    assert out.shape == (1, 6, 8)
    ref = emb(ids)
    for pos in range(6):
        ratio = out[0, pos] / ref[0, pos]
        assert torch.allclose(ratio, torch.full_like(ratio, ratio[0].item()))  # row-wise mask
        assert ratio[0].item() in (0.0, pytest.approx(2.0))
    # every occurrence of a word gets the same fate
    assert torch.equal(out[0, 0], out[0, 2]) and torch.equal(out[0, 0], out[0, 5])
    assert torch.equal(out[0, 1], out[0, 4])
    # expectation preserved: the mean over many draws approaches the plain lookup
    gen = torch.Generator().manual_seed(2)
    ones = nn.Embedding(4, 1).double()
    nn.init.ones_(ones.weight)
    draws = torch.stack(
        [embedding_dropout(ones, torch.tensor([0]), 0.3, True, generator=gen) for _ in range(4000)]
    )
    assert draws.mean().item() == pytest.approx(1.0, abs=0.05)
    assert draws.unique().tolist() == [0.0, pytest.approx(1 / 0.7)]


def test_embedding_dropout_eval_is_the_plain_lookup_and_gradients_flow():
    emb = nn.Embedding(10, 4)
    ids = torch.tensor([[1, 2, 3]])
    assert torch.equal(embedding_dropout(emb, ids, 0.9, False), emb(ids))
    assert torch.equal(embedding_dropout(emb, ids, 0.0, True), emb(ids))
    embedding_dropout(emb, ids, 0.5, True).sum().backward()
    assert emb.weight.grad is not None
    with pytest.raises(ConfigError, match=r"embedding dropout p must be a number in \[0, 1\)"):
        embedding_dropout(emb, ids, 1.0, True)


def test_locked_dropout_uses_one_mask_over_time():
    torch.manual_seed(0)
    drop = LockedDropout(0.5)
    x = torch.ones(3, 20, 6, dtype=torch.float64)
    y = drop(x)
    assert torch.equal(y, y[:, :1].expand_as(y))  # the same mask at every step
    assert set(y.unique().tolist()) <= {0.0, 2.0}
    time_major = LockedDropout(0.5, batch_first=False)
    z = time_major(x)
    assert torch.equal(z, z[:1].expand_as(z))
    big = LockedDropout(0.25)(torch.ones(400, 1, 100))
    assert big.mean().item() == pytest.approx(1.0, abs=0.03)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ShapeError, match=r"expects a 3-D sequence tensor, got shape \(3, 4\)"):
        LockedDropout(0.5)(torch.ones(3, 4))
    with pytest.raises(
        ConfigError, match=r"LockedDropout p must be a number in \[0, 1\), got -0.1"
    ):
        LockedDropout(-0.1)


@pytest.mark.parametrize("impl", ["reference", "fused", "native"])
def test_weight_drop_changes_the_recurrent_weights_used(impl):
    torch.manual_seed(0)
    lstm = LSTM(3, 4, num_layers=2, batch_first=True, impl=impl).double()
    wrapped = WeightDrop(lstm, 0.5)
    assert wrapped.names == ["weight_hh_l0", "weight_hh_l1"]
    x = torch.randn(2, 6, 3, dtype=torch.float64)

    # What a forward uses is exactly the layer run with the masked matrices in place.
    torch.manual_seed(5)
    masked = wrapped.dropped_weights()
    torch.manual_seed(5)
    out, (h, c) = wrapped(x)
    reference = LSTM(3, 4, num_layers=2, batch_first=True, impl="reference").double()
    state = {k: v.detach().clone() for k, v in lstm.state_dict().items()}
    state.update({k: v.detach() for k, v in masked.items()})
    reference.load_state_dict(state)
    expected, (h_ref, _) = reference(x)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(h, h_ref, rtol=1e-10, atol=1e-10)
    for w in masked.values():
        zero = w == 0
        assert 0.2 < zero.double().mean().item() < 0.8
        assert not bool(zero.all())

    # the plain layer gives something else; the parameters are back in place afterwards
    plain, _ = lstm(x)
    assert not torch.allclose(plain, out)
    assert isinstance(lstm.weight_hh_l0, nn.Parameter)
    assert sorted(dict(lstm.named_parameters())) == sorted(lstm.state_dict())


@pytest.mark.parametrize("impl", ["reference", "fused", "native"])
def test_weight_drop_gradients_reach_the_raw_weights_through_the_mask(impl):
    torch.manual_seed(1)
    lstm = LSTM(2, 3, batch_first=True, impl=impl).double()
    wrapped = WeightDrop(lstm, 0.4)
    x = torch.randn(2, 5, 2, dtype=torch.float64)
    torch.manual_seed(7)
    masked = wrapped.dropped_weights()["weight_hh_l0"]
    torch.manual_seed(7)
    out, _ = wrapped(x)
    out.sum().backward()
    grad = lstm.weight_hh_l0.grad
    assert grad is not None and grad.abs().sum() > 0
    # dropped entries get no gradient; kept ones do (scaled through the mask)
    assert torch.all(grad[masked == 0] == 0)
    assert torch.count_nonzero(grad[masked != 0]) == int((masked != 0).sum())
    assert lstm.weight_ih_l0.grad is not None


def test_weight_drop_eval_mode_is_the_plain_layer_and_state_dict_is_unchanged():
    torch.manual_seed(0)
    lstm = LSTM(3, 4, batch_first=True)
    keys = sorted(lstm.state_dict())
    wrapped = WeightDrop(lstm, 0.5).eval()
    x = torch.randn(2, 4, 3)
    assert torch.equal(wrapped(x)[0], lstm(x)[0])
    assert sorted(k.removeprefix("module.") for k in wrapped.state_dict()) == keys
    assert recurrent_weight_names(lstm) == ["weight_hh_l0"]
    with pytest.raises(ConfigError, match=r"LSTM has no parameter\(s\) \['nope'\]"):
        WeightDrop(lstm, 0.5, names=["nope"])
    with pytest.raises(ConfigError, match=r"weight_drop p must be a number in \[0, 1\), got 1.5"):
        WeightDrop(lstm, 1.5)


def test_activation_regularisers():
    h = torch.tensor([[[1.0, -1.0], [3.0, 1.0], [3.0, 2.0]]])  # (B=1, T=3, F=2)
    assert activation_regularization(h, 2.0).item() == pytest.approx(
        2.0 * (1 + 1 + 9 + 1 + 9 + 4) / 6
    )
    # differences: (2, 2), (0, 1)
    assert temporal_activation_regularization(h, 1.0).item() == pytest.approx((4 + 4 + 0 + 1) / 4)
    assert temporal_activation_regularization(h.transpose(0, 1), 1.0, batch_first=False).item() == (
        pytest.approx((4 + 4 + 0 + 1) / 4)
    )
    assert temporal_activation_regularization(h[:, :1], 1.0).item() == 0.0
    assert activation_regularization(h, 0.0).item() == 0.0
    with pytest.raises(ConfigError, match=r"alpha \(AR\) must be >= 0, got -1"):
        activation_regularization(h, -1)
    with pytest.raises(ShapeError, match="TAR expects a 3-D sequence tensor"):
        temporal_activation_regularization(h[0], 1.0)
