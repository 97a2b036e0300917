"""Speech recognition: :class:`SpeechRecognizer` (``task.py``), its BiLSTM-CTC network
(``net.py``), log-mel features (``features.py``), CTC decoding (``decoding.py``) and error rates
(``metrics.py``)."""

from lstmkit.tasks.speech.decoding import beam_decode, greedy_decode, prefix_beam_search
from lstmkit.tasks.speech.features import FeatureConfig, LogMel, mel_filterbank
from lstmkit.tasks.speech.metrics import transcript_scores, word_confusions
from lstmkit.tasks.speech.net import SpeechNet
from lstmkit.tasks.speech.task import SpeechRecognizer

__all__ = [
    "FeatureConfig",
    "LogMel",
    "SpeechNet",
    "SpeechRecognizer",
    "beam_decode",
    "greedy_decode",
    "mel_filterbank",
    "prefix_beam_search",
    "transcript_scores",
    "word_confusions",
]
