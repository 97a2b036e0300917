"""Span-level precision, recall and F1 (micro and per type) and token accuracy for taggers.

A predicted span counts as correct only if a gold span has exactly the same type, start and end
(the CoNLL shared-task convention). Spans come from :func:`lstmkit.data.conll.spans`. With no
predicted spans precision is 0, with no gold spans recall is 0, and F1 is 0 when both are 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from lstmkit.data.conll import spans
from lstmkit.errors import DataError

#: The scalar scores of :func:`span_scores` that ``Tagger.evaluate`` reports, one column each.
SCALAR_METRICS = ("precision", "recall", "f1", "accuracy")


def _prf(correct: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def span_scores(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Scores of predicted tag sequences against gold ones (one list of tags per sentence).

    Returns:
        ``{"precision", "recall", "f1"}`` (micro-averaged over spans), ``"accuracy"`` (share of
        tokens with the right tag), ``"n_gold"``, ``"n_predicted"``, ``"n_correct"`` (spans),
        ``"n_tokens"``, ``"n_sentences"``, and ``"per_type"``: ``{type: {"precision", "recall",
        "f1", "support" (gold spans), "predicted", "correct"}}`` for every type in either side,
        sorted by name.

    Raises:
        DataError: if the number of sentences or a sentence's length differs.
    """
    if len(gold) != len(predicted):
        raise DataError(
            f"got {len(gold)} gold sentences but {len(predicted)} predicted ones; they must pair up"
        )
    gold_n: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    hit_n: Counter[str] = Counter()
    tokens = right = 0
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        if len(g) != len(p):
            raise DataError(
                f"sentence {i}: {len(g)} gold tags but {len(p)} predicted tags; they must pair up"
            )
        tokens += len(g)
        right += sum(a == b for a, b in zip(g, p, strict=True))
        g_spans, p_spans = set(spans(g)), set(spans(p))
        gold_n.update(s.type for s in g_spans)
        pred_n.update(s.type for s in p_spans)
        hit_n.update(s.type for s in g_spans & p_spans)
    n_gold, n_pred, n_hit = sum(gold_n.values()), sum(pred_n.values()), sum(hit_n.values())
    precision, recall, f1 = _prf(n_hit, n_pred, n_gold)
    per_type = {}
    for kind in sorted(set(gold_n) | set(pred_n)):
        p_, r_, f_ = _prf(hit_n[kind], pred_n[kind], gold_n[kind])
        per_type[kind] = {
            "precision": p_,
            "recall": r_,
            "f1": f_,
            "support": gold_n[kind],
            "predicted": pred_n[kind],
            "correct": hit_n[kind],
        }
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": right / tokens if tokens else 0.0,
        "n_gold": n_gold,
        "n_predicted": n_pred,
        "n_correct": n_hit,
        "n_tokens": tokens,
        "n_sentences": len(gold),
        "per_type": per_type,
    }


def format_span_scores(scores: dict[str, Any]) -> str:
    """The per-type table and the micro-averaged row as aligned text (what the CLI prints)."""
    from lstmkit._table import format_table

    rows = [
        [
            kind,
            f"{s['precision']:.4f}",
            f"{s['recall']:.4f}",
            f"{s['f1']:.4f}",
            str(s["support"]),
            str(s["predicted"]),
        ]
        for kind, s in scores["per_type"].items()
    ]
    rows.append(
        [
            "all (micro)",
            f"{scores['precision']:.4f}",
            f"{scores['recall']:.4f}",
            f"{scores['f1']:.4f}",
            str(scores["n_gold"]),
            str(scores["n_predicted"]),
        ]
    )
    table = format_table(["type", "precision", "recall", "f1", "gold", "predicted"], rows)
    return f"{table}\ntoken accuracy {scores['accuracy']:.4f} over {scores['n_tokens']} tokens"


__all__ = ["SCALAR_METRICS", "format_span_scores", "span_scores"]
