"""lstmkit: Long Short-Term Memory networks that are correct, fast, inspectable and ready to apply.

The public API is re-exported here, each name imported when first used: ``import lstmkit`` itself
loads neither torch nor pandas. ``lstmkit.nn`` (the networks) needs torch only; the task and data
modules load their own dependencies when first used.
"""

from lstmkit._lazy import lazy_attributes
from lstmkit._version import __version__
from lstmkit.errors import (
    ConfigError,
    DataError,
    LstmkitError,
    ModelFileError,
    ShapeError,
    UnsupportedConfigError,
)

# Everything else is imported on first use: the networks need torch (about a second to import),
# the tasks pandas, and training Lightning (seconds more); a command that loads a saved model
# should pay for what it uses only.
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "GRU": "lstmkit.nn",
        "GRUCell": "lstmkit.nn",
        "LSTM": "lstmkit.nn",
        "LSTMCell": "lstmkit.nn",
        "RNN": "lstmkit.nn",
        "RNNCell": "lstmkit.nn",
        "AnomalyDetector": "lstmkit.tasks",
        "Forecaster": "lstmkit.tasks",
        "LanguageModel": "lstmkit.tasks",
        "Seq2Seq": "lstmkit.tasks",
        "SequenceClassifier": "lstmkit.tasks",
        "SpeechRecognizer": "lstmkit.tasks",
        "Tagger": "lstmkit.tasks",
        "TrainConfig": "lstmkit.train",
        "read_table": "lstmkit.data",
        "export_model": "lstmkit.export",
    },
)

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
    "SpeechRecognizer",
    "Tagger",
    "TrainConfig",
    "UnsupportedConfigError",
    "__version__",
    "export_model",
    "read_table",
]
