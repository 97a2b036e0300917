"""Sequence tagging: :class:`Tagger` (``task.py``), its network :class:`TaggerNet` (``net.py``)
and span-level scores (``metrics.py``)."""

from lstmkit.tasks.tagging.metrics import format_span_scores, span_scores
from lstmkit.tasks.tagging.net import TaggerNet
from lstmkit.tasks.tagging.task import Tagger

__all__ = ["Tagger", "TaggerNet", "format_span_scores", "span_scores"]
