"""CTC decoding: greedy (best path) and prefix beam search, over per-frame log-probabilities.

Both take ``log_probs`` of shape ``(frames, tokens)`` with the CTC blank at index ``blank`` and
return token ids with blanks and repeats collapsed (``a a - a`` reads ``a a``: a blank between two
equal tokens keeps both).

Prefix beam search (Hannun et al. 2014, "First-pass large vocabulary continuous speech
recognition using bi-directional recurrent DNNs", without a language model) keeps, for each
output prefix, the probability of all alignments that produce it ending in a blank and ending in
its last token, and sums over alignments rather than taking the single best one as greedy
decoding does. With a beam at least as wide as the number of distinct prefixes it returns the most
probable output exactly (the test checks this against brute force); narrower beams prune.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from lstmkit._checks import positive_int

_NEG_INF = -math.inf


def _as_array(log_probs: Tensor | np.ndarray) -> np.ndarray:
    if isinstance(log_probs, Tensor):
        log_probs = log_probs.detach().cpu().numpy()
    array = np.asarray(log_probs, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"log_probs must be (frames, tokens), got shape {array.shape}")
    return array


def collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    """A frame-level path to its output: merge repeats, then drop blanks."""
    out: list[int] = []
    previous = None
    for k in path:
        if k != previous and k != blank:
            out.append(int(k))
        previous = k
    return out


def greedy_decode(log_probs: Tensor | np.ndarray, blank: int = 0) -> list[int]:
    """The output of the most probable frame-level path (argmax per frame, collapsed)."""
    return collapse(_as_array(log_probs).argmax(axis=1).tolist(), blank)


def _add(a: float, b: float) -> float:
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


def prefix_beam_search(
    log_probs: Tensor | np.ndarray, beam_width: int = 8, blank: int = 0
) -> list[tuple[list[int], float]]:
    """The ``beam_width`` most probable outputs and their log-probabilities (summed over every
    alignment that yields them), best first."""
    beam_width = positive_int("beam_width", beam_width)
    lp = _as_array(log_probs)
    tokens = [k for k in range(lp.shape[1]) if k != blank]
    # prefix -> (log P(prefix, ending in blank), log P(prefix, ending in its last token))
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG_INF)}
    for frame in lp:
        nxt: dict[tuple[int, ...], list[float]] = {}

        def slot(prefix: tuple[int, ...], nxt=nxt) -> list[float]:
            if prefix not in nxt:
                nxt[prefix] = [_NEG_INF, _NEG_INF]
            return nxt[prefix]

        for prefix, (p_b, p_nb) in beams.items():
            total = _add(p_b, p_nb)
            here = slot(prefix)
            here[0] = _add(here[0], total + frame[blank])
            last = prefix[-1] if prefix else None
            for k in tokens:
                p = frame[k]
                longer = slot((*prefix, k))
                if k == last:
                    # a repeat only extends the output after a blank; otherwise it merges
                    longer[1] = _add(longer[1], p_b + p)
                    here[1] = _add(here[1], p_nb + p)
                else:
                    longer[1] = _add(longer[1], total + p)
        ranked = sorted(nxt.items(), key=lambda item: _add(*item[1]), reverse=True)
        beams = {prefix: (b, nb) for prefix, (b, nb) in ranked[:beam_width]}
    out = [(list(prefix), _add(b, nb)) for prefix, (b, nb) in beams.items()]
    return sorted(out, key=lambda item: item[1], reverse=True)


def beam_decode(log_probs: Tensor | np.ndarray, beam_width: int = 8, blank: int = 0) -> list[int]:
    """The best output of :func:`prefix_beam_search`."""
    return prefix_beam_search(log_probs, beam_width, blank)[0][0]


def log_softmax(scores: Tensor) -> Tensor:
    return torch.log_softmax(scores.float(), dim=-1)


__all__ = ["beam_decode", "collapse", "greedy_decode", "log_softmax", "prefix_beam_search"]
