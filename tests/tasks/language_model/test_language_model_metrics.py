"""The language model's score table, against its exact text."""

from __future__ import annotations

from lstmkit.tasks.language_model.metrics import format_scores


def test_scores_table_puts_the_model_beside_the_unigram_baseline():
    scores = {
        "loss": 1.0,
        "perplexity": 2.718281828,
        "bits_per_char": 1.5,
        "unigram_perplexity": 10.0,
        "unigram_bits_per_char": 3.25,
    }
    assert format_scores(scores).splitlines() == [
        "model    loss/token  perplexity  bits/char",
        "-------  ----------  ----------  ---------",
        "LSTM         1.0000       2.718     1.5000",
        "unigram      2.3026      10.000     3.2500",  # loss/token: ln(10)
    ]
