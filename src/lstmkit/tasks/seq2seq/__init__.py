"""Sequence to sequence: :class:`Seq2Seq` (``task.py``), its network and searches (``net.py``)
and the scores of text outputs (``metrics.py``)."""

from lstmkit.tasks.seq2seq.metrics import translation_scores
from lstmkit.tasks.seq2seq.net import Seq2SeqNet, beam_search, greedy_search
from lstmkit.tasks.seq2seq.task import Seq2Seq

__all__ = ["Seq2Seq", "Seq2SeqNet", "beam_search", "greedy_search", "translation_scores"]
