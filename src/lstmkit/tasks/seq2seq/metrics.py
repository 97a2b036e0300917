"""Scores of text outputs against references: exact match, corpus BLEU and chrF (sacrebleu).

``exact_match`` is the share (0-1) of outputs equal to their reference; BLEU and chrF are
sacrebleu's corpus scores (0-100). ``bleu_tokenize`` is sacrebleu's tokeniser for BLEU (``"char"``
counts character n-grams, ``"13a"`` is its default word tokeniser).
"""

from __future__ import annotations

from collections.abc import Sequence

from lstmkit.errors import DataError

#: The metrics :func:`translation_scores` returns, in ``Seq2Seq.evaluate``'s column order.
METRICS = ("exact_match", "bleu", "chrf")


def translation_scores(
    outputs: Sequence[str], references: Sequence[str], *, bleu_tokenize: str = "13a"
) -> dict[str, float]:
    """``{"exact_match", "bleu", "chrf"}`` of ``outputs`` against ``references`` (one each)."""
    import sacrebleu

    if len(outputs) != len(references):
        raise DataError(
            f"got {len(outputs)} outputs but {len(references)} references; they must pair up"
        )
    if not outputs:
        raise DataError("there are no outputs to score")
    exact = sum(o == r for o, r in zip(outputs, references, strict=True)) / len(outputs)
    bleu = sacrebleu.corpus_bleu(list(outputs), [list(references)], tokenize=bleu_tokenize)
    chrf = sacrebleu.corpus_chrf(list(outputs), [list(references)])
    return {"exact_match": float(exact), "bleu": float(bleu.score), "chrf": float(chrf.score)}


__all__ = ["METRICS", "translation_scores"]
