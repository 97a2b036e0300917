"""lstmkit: Long Short-Term Memory networks that are correct, fast, inspectable and ready to apply.

The public API is re-exported here. ``lstmkit.nn`` (the networks) needs torch only; the task and
data modules load their own dependencies when first used.
"""

from lstmkit._version import __version__
from lstmkit.errors import (
    ConfigError,
    DataError,
    LstmkitError,
    ModelFileError,
    ShapeError,
    UnsupportedConfigError,
)
from lstmkit.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

# Names whose modules pull in pandas/Lightning/matplotlib: imported on first use, so that
# ``import lstmkit`` (and ``lstmkit.nn``) needs torch only.
_LAZY = {
    "AnomalyDetector": "lstmkit.tasks",
    "Forecaster": "lstmkit.tasks",
    "LanguageModel": "lstmkit.tasks",
    "Seq2Seq": "lstmkit.tasks",
    "SequenceClassifier": "lstmkit.tasks",
    "Tagger": "lstmkit.tasks",
    "TrainConfig": "lstmkit.train",
    "read_table": "lstmkit.data",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")


__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "AnomalyDetector",
    "ConfigError",
    "DataError",
    "Forecaster",
    "GRUCell",
    "LSTMCell",
    "LanguageModel",
    "LstmkitError",
    "ModelFileError",
    "RNNCell",
    "Seq2Seq",
    "SequenceClassifier",
    "ShapeError",
    "Tagger",
    "TrainConfig",
    "UnsupportedConfigError",
    "__version__",
    "read_table",
]
