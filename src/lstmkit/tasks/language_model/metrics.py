"""Scores of a language model on a text, and the unigram baseline scored beside it.

Cross-entropy is the mean negative log-likelihood per token (nats); perplexity is its exponential;
bits per token divide it by ln 2; bits per character divide the *total* by the number of
characters of the text, so they compare across tokenisers (``<unk>`` pieces make a word model look
better than it is). The unigram baseline is the training text's token frequencies, add-one
smoothed: the score an LSTM must beat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

LN2 = math.log(2.0)

#: The columns of :meth:`LanguageModel.evaluate`, one per scalar metric.
METRICS = ("cross_entropy", "perplexity", "bits_per_token", "bits_per_char")


def unigram_nll(counts: Sequence[int] | None, targets: Tensor) -> float:
    """Total NLL (nats) of ``targets`` under the unigram frequencies ``counts``, add-one
    smoothed; NaN without counts."""
    table = torch.tensor(list(counts or []), dtype=torch.float64)
    if table.numel() == 0:
        return float("nan")
    probs = (table + 1.0) / (table.sum() + table.numel())
    return float(-torch.log(probs[targets]).sum())


def text_scores(total: float, count: int, characters: int, unigram_total: float) -> dict:
    """:meth:`LanguageModel.perplexity`'s dict from the summed NLLs (nats) of ``count`` tokens
    of a text of ``characters`` characters."""
    chars = max(1, characters)
    loss = total / count
    return {
        "loss": loss,
        "perplexity": math.exp(loss),
        "bits_per_token": loss / LN2,
        "bits_per_char": total / chars / LN2,
        "tokens": float(count),
        "characters": float(characters),
        "unigram_perplexity": math.exp(unigram_total / count),
        "unigram_bits_per_char": unigram_total / chars / LN2,
    }


def metric_rows(scores: dict[str, float]) -> dict[str, dict[str, float]]:
    """:meth:`LanguageModel.evaluate`'s rows ("model", then "unigram") from
    :meth:`LanguageModel.perplexity`'s dict."""
    unigram_loss = math.log(scores["unigram_perplexity"])
    return {
        "model": {
            "cross_entropy": scores["loss"],
            "perplexity": scores["perplexity"],
            "bits_per_token": scores["bits_per_token"],
            "bits_per_char": scores["bits_per_char"],
        },
        "unigram": {
            "cross_entropy": unigram_loss,
            "perplexity": scores["unigram_perplexity"],
            "bits_per_token": unigram_loss / LN2,
            "bits_per_char": scores["unigram_bits_per_char"],
        },
    }


def format_scores(scores: dict[str, float]) -> str:
    """The model's scores (:meth:`LanguageModel.perplexity`) and the unigram baseline's, one row
    each, as aligned text."""
    from lstmkit._table import format_table

    rows = [
        [
            "LSTM",
            f"{scores['loss']:.4f}",
            f"{scores['perplexity']:.3f}",
            f"{scores['bits_per_char']:.4f}",
        ],
        [
            "unigram",
            f"{math.log(scores['unigram_perplexity']):.4f}",
            f"{scores['unigram_perplexity']:.3f}",
            f"{scores['unigram_bits_per_char']:.4f}",
        ],
    ]
    return format_table(["model", "loss/token", "perplexity", "bits/char"], rows)


__all__ = ["LN2", "METRICS", "format_scores", "metric_rows", "text_scores", "unigram_nll"]
