"""LSTM language models over characters, words or BPE subwords; evaluation and sampling.

* :mod:`~lstmkit.tasks.language_model.task` — :class:`LanguageModel` (fit, evaluate, perplexity,
  generate, save, load).
* :mod:`~lstmkit.tasks.language_model.net` — the AWD-LSTM style network.
* :mod:`~lstmkit.tasks.language_model.sampling` — next-token sampling: temperature, top-k,
  nucleus.
* :mod:`~lstmkit.tasks.language_model.metrics` — cross-entropy, perplexity, bits per character
  and the unigram baseline.

The text readers it uses are :func:`lstmkit.data.corpus.read_text` and
:func:`lstmkit.data.corpus.split_tail`.
"""

from lstmkit.tasks.language_model.net import LMNet
from lstmkit.tasks.language_model.sampling import check_sampling, filter_logits, sample_next
from lstmkit.tasks.language_model.task import TRAIN_DEFAULTS, LanguageModel

__all__ = [
    "TRAIN_DEFAULTS",
    "LMNet",
    "LanguageModel",
    "check_sampling",
    "filter_logits",
    "sample_next",
]
