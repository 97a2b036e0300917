"""CTC's loss and gradient against a hand-computed example; greedy and prefix beam search decoding
against brute force over every frame-level path."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from lstmkit.tasks.speech.decoding import (
    beam_decode,
    collapse,
    greedy_decode,
    prefix_beam_search,
)
from lstmkit.tasks.speech.net import ctc_loss, min_frames


def test_ctc_loss_and_gradient_match_the_hand_computed_example():
    # Two frames, tokens {blank, a}, every logit 0: each frame gives blank and a probability 1/2.
    # The alignments of "a" are (a, a), (a, -) and (-, a): P("a") = 3/4, loss = -log(3/4).
    # d loss / d logit[t, k] = y[t, k] - (sum of the probabilities of the alignments with k at
    # frame t) / P. Frame 1, a: y - (1/4 + 1/4) / (3/4) = 1/2 - 2/3 = -1/6; blank: 1/2 - (1/4) /
    # (3/4) = 1/6. Frame 2 is the mirror image.
    logits = torch.zeros(1, 2, 2, requires_grad=True)
    log_probs = torch.log_softmax(logits, dim=-1)
    loss = ctc_loss(log_probs, torch.tensor([2]), torch.tensor([1]), torch.tensor([1]))
    assert loss.item() == pytest.approx(-math.log(0.75))
    loss.backward()
    expected = torch.tensor([[[1 / 6, -1 / 6], [1 / 6, -1 / 6]]])
    torch.testing.assert_close(logits.grad, expected)


def test_ctc_loss_of_a_repeat_needs_a_blank_between():
    # "a a" in two frames has no alignment (a blank must separate the repeat): zero_infinity
    # turns the infinite loss into 0; in three frames only (a, -, a) is left: P = (1/2)^3.
    logits = torch.zeros(1, 3, 2)
    targets, target_lengths = torch.tensor([1, 1]), torch.tensor([2])
    two = ctc_loss(torch.log_softmax(logits[:, :2], -1), torch.tensor([2]), targets, target_lengths)
    assert two.item() == 0.0
    three = ctc_loss(torch.log_softmax(logits, -1), torch.tensor([3]), targets, target_lengths)
    assert three.item() == pytest.approx(-math.log(0.125) / 2)  # divided by 2 target tokens
    assert min_frames([1, 1]) == 3 and min_frames([1, 2]) == 2


def _brute_force(probs: np.ndarray) -> dict[tuple[int, ...], float]:
    """P(output) summed over every frame-level path."""
    totals: dict[tuple[int, ...], float] = {}
    frames, tokens = probs.shape
    for path in itertools.product(range(tokens), repeat=frames):
        p = float(np.prod([probs[t, k] for t, k in enumerate(path)]))
        out = tuple(collapse(path))
        totals[out] = totals.get(out, 0.0) + p
    return totals


@pytest.mark.parametrize("seed", range(6))
def test_prefix_beam_search_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(3, 0.7), size=5)  # 5 frames, blank + 2 tokens: 243 paths
    totals = _brute_force(probs)
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    # a beam as wide as the number of outputs keeps everything: exact
    beams = prefix_beam_search(np.log(probs), beam_width=len(totals))
    assert {tuple(p): math.exp(s) for p, s in beams} == pytest.approx(dict(ranked))
    assert tuple(beam_decode(np.log(probs), beam_width=len(totals))) == ranked[0][0]
    # greedy is the output of the single best path
    best_path = probs.argmax(axis=1)
    assert greedy_decode(np.log(probs)) == collapse(best_path.tolist())


def test_beam_search_sums_alignments_where_greedy_takes_one_path():
    # Per frame P(blank) = 0.6, P(a) = 0.4: the best path is (-, -), output "", P = 0.36; but
    # "a" has three paths, P("a") = 0.4*0.4 + 0.4*0.6 + 0.6*0.4 = 0.64.
    log_probs = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert greedy_decode(log_probs) == []
    assert beam_decode(log_probs, beam_width=4) == [1]
    best, score = prefix_beam_search(log_probs, beam_width=4)[0]
    assert math.exp(score) == pytest.approx(0.64)


def test_decoders_refuse_bad_shapes_and_widths():
    with pytest.raises(ValueError, match=r"log_probs must be \(frames, tokens\)"):
        greedy_decode(np.zeros(3))
    from lstmkit.errors import ConfigError

    with pytest.raises(ConfigError, match="beam_width must be a positive int, got 0"):
        prefix_beam_search(np.zeros((2, 2)), beam_width=0)
