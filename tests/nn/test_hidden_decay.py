"""GRU-D hidden-state decay (lstmkit.nn.HiddenDecay) against the equations written out by hand."""

from __future__ import annotations

import pytest
import torch

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn import GRU, LSTM, HiddenDecay, backward_deltas

D = torch.float64


def _layer(kind: str, bidirectional: bool = False, **options):
    torch.manual_seed(0)
    cls = LSTM if kind == "lstm" else GRU
    rnn = cls(3, 4, bidirectional=bidirectional, batch_first=True, dtype=D, **options)
    layer = HiddenDecay(rnn, 2).to(D)
    with torch.no_grad():  # a bias both below and above 0, so max(0, ·) is seen on both sides
        for name, p in layer.named_parameters():
            if name.startswith("bias"):
                p.copy_(torch.linspace(-0.3, 0.3, p.numel(), dtype=D))
    return layer


def _inputs(batch: int = 2, steps: int = 5):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, steps, 3, generator=g, dtype=D)
    deltas = torch.rand(batch, steps, 2, generator=g, dtype=D) * 3
    back = torch.rand(batch, steps, 2, generator=g, dtype=D) * 3
    return x, deltas, back


def _hand_direction(kind, x, deltas, w, b, weights, reverse):
    """One item ``x (T, D)``: γ, decay, then the LSTM or GRU equations, step by step."""
    steps = x.shape[0]
    hidden = weights["weight_hh"].shape[1]
    h = torch.zeros(hidden, dtype=D)
    c = torch.zeros(hidden, dtype=D)
    out = [None] * steps
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        gamma = torch.exp(-torch.clamp(w @ deltas[t] + b, min=0.0))
        h = gamma * h
        a = weights["weight_ih"] @ x[t] + weights["bias_ih"]
        r_ = weights["weight_hh"] @ h + weights["bias_hh"]
        if kind == "lstm":
            i, f, g, o = (a + r_).chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            ar, az, an = a.chunk(3)
            hr, hz, hn = r_.chunk(3)
            r, z = torch.sigmoid(ar + hr), torch.sigmoid(az + hz)
            n = torch.tanh(an + r * hn)
            h = (1 - z) * n + z * h
        out[t] = h
    return torch.stack(out), h, c


def _hand(layer, x, deltas, back):
    rnn = layer.rnn
    outs, finals_h, finals_c = [], [], []
    for direction, d in enumerate((deltas, back)[: rnn.num_directions]):
        suffix = "_reverse" if direction else ""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        weights = {n: getattr(rnn, f"{n}_l0{suffix}") for n in names}
        w, b = getattr(layer, f"weight_l0{suffix}"), getattr(layer, f"bias_l0{suffix}")
        per_item = [
            _hand_direction(rnn.mode.lower(), x[k], d[k], w, b, weights, direction == 1)
            for k in range(x.shape[0])
        ]
        outs.append(torch.stack([p[0] for p in per_item]))
        finals_h.append(torch.stack([p[1] for p in per_item]))
        finals_c.append(torch.stack([p[2] for p in per_item]))
    return torch.cat(outs, -1), torch.stack(finals_h), torch.stack(finals_c)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_the_equations_step_by_step(kind, bidirectional):
    layer = _layer(kind, bidirectional)
    x, deltas, back = _inputs()
    out, final = layer(x, deltas, deltas_backward=back if bidirectional else None)
    want_out, want_h, want_c = _hand(layer, x, deltas, back)
    torch.testing.assert_close(out, want_out, atol=1e-10, rtol=0)
    h_n = final[0] if kind == "lstm" else final
    torch.testing.assert_close(h_n, want_h, atol=1e-10, rtol=0)
    if kind == "lstm":
        torch.testing.assert_close(final[1], want_c, atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gamma_one_is_the_plain_layer(kind):
    # W = 0, b = 0: γ = exp(0) = 1 whatever δ, so the layer is its wrapped LSTM or GRU.
    layer = _layer(kind, bidirectional=True)
    with torch.no_grad():
        for p in layer.parameters(recurse=False):
            p.zero_()
    x, deltas, back = _inputs()
    out, final = layer(x, deltas, deltas_backward=back)
    want, want_final = layer.rnn(x)
    torch.testing.assert_close(out, want, atol=1e-12, rtol=0)
    if kind == "lstm":
        torch.testing.assert_close(final[0], want_final[0], atol=1e-12, rtol=0)
        torch.testing.assert_close(final[1], want_final[1], atol=1e-12, rtol=0)
    else:
        torch.testing.assert_close(final, want_final, atol=1e-12, rtol=0)


def test_delta_zero_with_non_positive_bias_is_the_plain_layer():
    layer = _layer("lstm", layer_norm=True)  # a cell variant goes through the cell's own step
    with torch.no_grad():
        layer.bias_l0.clamp_(max=0.0)
    x, deltas, _ = _inputs()
    out, _ = layer(x, torch.zeros_like(deltas))
    torch.testing.assert_close(out, layer.rnn(x)[0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_padded_items_equal_unpadded(kind):
    layer = _layer(kind, bidirectional=True)
    x, deltas, back = _inputs(batch=3, steps=6)
    lengths = torch.tensor([6, 3, 1])
    out, final = layer(x, deltas, lengths, back)
    h_n = final[0] if kind == "lstm" else final
    for k, n in enumerate(lengths.tolist()):
        alone, alone_final = layer(
            x[k : k + 1, :n], deltas[k : k + 1, :n], None, back[k : k + 1, :n]
        )
        torch.testing.assert_close(out[k : k + 1, :n], alone, atol=1e-12, rtol=0)
        assert torch.all(out[k, n:] == 0)
        alone_h = alone_final[0] if kind == "lstm" else alone_final
        torch.testing.assert_close(h_n[:, k : k + 1], alone_h, atol=1e-12, rtol=0)


def test_gradcheck():
    # Inputs, δ of both directions and every weight (the decay's and the LSTM's), padded batch,
    # the cell state decayed too.
    torch.manual_seed(0)
    layer = HiddenDecay(
        LSTM(2, 2, bidirectional=True, batch_first=True, dtype=D), 2, decay_cell=True
    )
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 2, generator=g, dtype=D, requires_grad=True)
    deltas = (torch.rand(2, 3, 2, generator=g, dtype=D) + 0.5).requires_grad_()
    back = (torch.rand(2, 3, 2, generator=g, dtype=D) + 0.5).requires_grad_()
    names = [n for n, _ in layer.named_parameters()]
    weights = [p.detach().clone().requires_grad_() for _, p in layer.named_parameters()]

    def run(x, deltas, back, *weights):
        given = dict(zip(names, weights, strict=True))
        args = (x, deltas, torch.tensor([3, 2]), back)
        out, (h, c) = torch.func.functional_call(layer, given, args)
        return out, h, c

    assert torch.autograd.gradcheck(run, (x, deltas, back, *weights))


def test_backward_deltas_are_the_time_to_the_next_observation():
    # Times 0, 1, 3, 4, 7; channel 0 observed at steps 0 and 3, channel 1 at 1, 2 and 4.
    s = torch.tensor([0.0, 1.0, 3.0, 4.0, 7.0], dtype=D)
    m = torch.tensor([[1, 0], [0, 1], [0, 1], [1, 0], [0, 1]], dtype=D)
    forward = torch.zeros(5, 2, dtype=D)
    for c in range(2):
        last = s[0]
        for t in range(5):
            forward[t, c] = s[t] - last
            if m[t, c]:
                last = s[t]
    want = torch.tensor([[4.0, 1.0], [3.0, 2.0], [1.0, 4.0], [3.0, 3.0], [0.0, 0.0]], dtype=D)
    got = backward_deltas(m[None], forward[None])[0]
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    # Scaled δ gives scaled δ'; a padded item ends at its own length, zeros after.
    padded = backward_deltas(m[None].repeat(2, 1, 1), forward[None].repeat(2, 1, 1) / 2, [5, 3])
    torch.testing.assert_close(padded[0], want / 2, atol=1e-12, rtol=0)
    short = backward_deltas(m[None, :3], forward[None, :3])[0]
    torch.testing.assert_close(padded[1, :3], short / 2, atol=1e-12, rtol=0)
    assert torch.all(padded[1, 3:] == 0)


def test_bad_inputs_name_the_problem():
    layer = _layer("lstm", bidirectional=True)
    x, deltas, back = _inputs()
    with pytest.raises(ShapeError, match=r"x has 2 features, expected input_size=3"):
        layer(x[..., :2], deltas, deltas_backward=back)
    with pytest.raises(ShapeError, match=r"deltas must have shape \(2, 5, 2\).*got \(2, 4, 2\)"):
        layer(x, deltas[:, :4], deltas_backward=back)
    with pytest.raises(ShapeError, match=r"needs deltas_backward"):
        layer(x, deltas)
    with pytest.raises(ShapeError, match=r"deltas_backward has dtype torch.float32"):
        layer(x, deltas, deltas_backward=back.float())
    with pytest.raises(ShapeError, match=r"lengths must be <= the sequence length 5"):
        layer(x, deltas, [5, 6], back)
    with pytest.raises(ShapeError, match=r"x must be a \(batch, time, 3\) tensor, got \(5, 3\)"):
        layer(x[0], deltas[0], deltas_backward=back[0])
    one_way = _layer("gru")
    with pytest.raises(ShapeError, match=r"deltas_backward is for a bidirectional layer"):
        one_way(x, deltas, deltas_backward=back)


def test_bad_configuration_names_the_value():
    with pytest.raises(ConfigError, match=r"n_deltas must be a positive int, got 0"):
        HiddenDecay(LSTM(3, 4), 0)
    with pytest.raises(ConfigError, match=r"rnn must be an lstmkit.nn.LSTM or GRU, got LSTM"):
        HiddenDecay(torch.nn.LSTM(3, 4), 2)
    with pytest.raises(ConfigError, match=r"does not support zoneout .*zoneout=0.1"):
        HiddenDecay(LSTM(3, 4, zoneout=0.1), 2)
    with pytest.raises(ConfigError, match=r"decay_cell=True is for an LSTM"):
        HiddenDecay(GRU(3, 4), 2, decay_cell=True)
    with pytest.raises(ConfigError, match=r"proj_size=2 makes h 2 and c 4 wide"):
        HiddenDecay(LSTM(3, 4, proj_size=2), 2, decay_cell=True)
